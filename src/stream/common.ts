// Helpers both implementations share: record grouping, header normalisation, logging, defaults.
import type {
  ConsumedRecord,
  LogLevel,
  LogRecord,
  ProducerRecord,
  TopicPartition,
  TopicPartitions,
} from './types.js';

export const DEFAULT_MAX_BATCH_SIZE = 500;
/** How long the broker may hold an empty fetch (librdkafka's default; kafkajs' is 5 s). */
export const DEFAULT_MAX_WAIT_MS = 500;

/** The offset to commit once `record` is processed: the next one to read. */
export function nextOffset(record: Pick<ConsumedRecord, 'offset'>): string {
  return (BigInt(record.offset) + 1n).toString();
}

/** The records in send order, grouped by topic (order within a topic is kept). */
export function groupByTopic(records: ProducerRecord[]): Map<string, ProducerRecord[]> {
  const byTopic = new Map<string, ProducerRecord[]>();
  for (const r of records) {
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    list.push(r);
  }
  return byTopic;
}

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

export function normaliseHeaders(headers: Record<string, HeaderValue> | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last === undefined) continue;
    out[k] = typeof last === 'string' ? Buffer.from(last) : last;
  }
  return out;
}

const LEVELS: Record<LogLevel, number> = { nothing: 0, error: 1, warn: 2, info: 3, debug: 4 };

export function levelNumber(level: LogLevel): number {
  return LEVELS[level];
}

export function defaultLog(record: LogRecord): void {
  if (record.level !== 'error' && record.level !== 'warn') return;
  process.stderr.write(
    JSON.stringify({ time: new Date().toISOString(), component: 'kafka', ...record }) + '\n',
  );
}

/** Builds a level-filtered log function. */
export function makeLog(level: LogLevel, sink: (r: LogRecord) => void): (r: LogRecord) => void {
  const max = LEVELS[level];
  return (r) => {
    if (LEVELS[r.level] <= max) sink(r);
  };
}

export function toRecordExtra(extra: unknown): Record<string, unknown> | undefined {
  if (extra === null || typeof extra !== 'object') return undefined;
  return extra as Record<string, unknown>;
}

/** Expands {topic, partitions?} into concrete partitions using `known` for the "whole topic" case. */
export function expandPartitions(sets: TopicPartitions[], known: TopicPartition[]): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const s of sets) {
    if (s.partitions) for (const p of s.partitions) out.push({ topic: s.topic, partition: p });
    else for (const k of known) if (k.topic === s.topic) out.push(k);
  }
  return out;
}

/** Groups TopicPartitionOffsets (or partitions) per topic, as both libraries' APIs take them. */
export function byTopic<T extends TopicPartition>(items: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    let l = m.get(it.topic);
    if (!l) m.set(it.topic, (l = []));
    l.push(it);
  }
  return m;
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}
