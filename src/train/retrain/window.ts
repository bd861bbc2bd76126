// The training window: recent inlier events of one model, as the raw bytes they arrived as, in
// memory, bounded by count (a ring buffer) and by age (relative to the newest timestamp seen, so
// a replay or a quiet topic does not empty it). `readWindowFromKafka` builds the same window
// straight from the topics by timestamp, for the `train` role (docs/DESIGN.md "Scale").
import { randomBytes } from 'node:crypto';
import type { KafkaClient, TopicPartitionOffset } from '../../stream/types.js';
import { RetrainError } from './errors.js';

export interface WindowSample {
  value: Buffer;
  /** Milliseconds since the epoch (the Kafka record timestamp). */
  timestamp: number;
}

export interface WindowBounds {
  maxEvents: number;
  /** Samples older than newest - maxAgeMs are evicted. */
  maxAgeMs: number;
}

export class InlierWindow {
  private readonly values: (Buffer | undefined)[];
  private readonly times: Float64Array;
  /** Index of the oldest sample. */
  private head = 0;
  private count = 0;
  private newestTs = -Infinity;
  /** Samples added in all (also those evicted since). */
  added = 0;

  constructor(
    readonly bounds: WindowBounds,
    /** Copy each value (default true): a consumer's record may be a view on a whole fetch buffer. */
    private readonly copy = true,
  ) {
    if (!Number.isInteger(bounds.maxEvents) || bounds.maxEvents < 1)
      throw new RetrainError(
        'bad-window',
        `maxEvents must be a positive integer, got ${bounds.maxEvents}`,
        false,
      );
    if (!(bounds.maxAgeMs > 0))
      throw new RetrainError('bad-window', `maxAgeMs must be > 0, got ${bounds.maxAgeMs}`, false);
    this.values = new Array<Buffer | undefined>(bounds.maxEvents);
    this.times = new Float64Array(bounds.maxEvents);
  }

  get size(): number {
    return this.count;
  }

  /** Newest timestamp seen (-Infinity when empty). */
  get newest(): number {
    return this.newestTs;
  }

  add(samples: readonly WindowSample[]): void {
    const cap = this.bounds.maxEvents;
    for (const s of samples) {
      if (!Number.isFinite(s.timestamp)) continue;
      if (s.timestamp > this.newestTs) this.newestTs = s.timestamp;
      // Already too old to be kept (a late record): never let it push a fresh one out.
      if (s.timestamp < this.newestTs - this.bounds.maxAgeMs) continue;
      const at = (this.head + this.count) % cap;
      this.values[at] = this.copy ? Buffer.from(s.value) : s.value;
      this.times[at] = s.timestamp;
      if (this.count < cap) this.count++;
      else this.head = (this.head + 1) % cap;
      this.added++;
    }
    this.evictOld();
  }

  /** Samples within the bounds, oldest first (arrival order; late records are filtered out). */
  snapshot(): WindowSample[] {
    this.evictOld();
    const cap = this.bounds.maxEvents;
    const cutoff = this.newestTs - this.bounds.maxAgeMs;
    const out: WindowSample[] = [];
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % cap;
      if (this.times[j]! >= cutoff) out.push({ value: this.values[j]!, timestamp: this.times[j]! });
    }
    return out;
  }

  clear(): void {
    this.values.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.newestTs = -Infinity;
  }

  private evictOld(): void {
    const cap = this.bounds.maxEvents;
    const cutoff = this.newestTs - this.bounds.maxAgeMs;
    while (this.count > 0 && this.times[this.head]! < cutoff) {
      this.values[this.head] = undefined;
      this.head = (this.head + 1) % cap;
      this.count--;
    }
  }
}

// ---- packing for the worker: one contiguous buffer, transferable ----

export interface PackedSamples {
  bytes: Uint8Array;
  /** n + 1 offsets into bytes. */
  offsets: Uint32Array;
  timestamps: Float64Array;
}

export function packSamples(samples: readonly WindowSample[]): PackedSamples {
  let total = 0;
  for (const s of samples) total += s.value.length;
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(samples.length + 1);
  const timestamps = new Float64Array(samples.length);
  let at = 0;
  samples.forEach((s, i) => {
    bytes.set(s.value, at);
    offsets[i] = at;
    timestamps[i] = s.timestamp;
    at += s.value.length;
  });
  offsets[samples.length] = at;
  return { bytes, offsets, timestamps };
}

export function unpackSamples(p: PackedSamples): WindowSample[] {
  const out: WindowSample[] = [];
  for (let i = 0; i < p.timestamps.length; i++) {
    out.push({
      value: Buffer.from(
        p.bytes.buffer,
        p.bytes.byteOffset + p.offsets[i]!,
        p.offsets[i + 1]! - p.offsets[i]!,
      ),
      timestamp: p.timestamps[i]!,
    });
  }
  return out;
}

// ---- the window straight from Kafka ----

export interface KafkaWindowOptions {
  /** Keep at most this many (the newest). Default: all. */
  maxEvents?: number;
  /** Give up (RetrainError 'kafka-timeout', retriable) when the end is not reached by then. Default 120000. */
  timeoutMs?: number;
  /** Default: `ddcl-train-window-<random>` (a throwaway group; nothing is committed). */
  groupId?: string;
  maxBatchSize?: number;
}

/**
 * Records of `topics` with timestamp >= sinceMs, up to the high watermarks as they were when the
 * call started, sorted by timestamp. Null values (tombstones) are left out.
 */
export async function readWindowFromKafka(
  client: KafkaClient,
  topics: readonly string[],
  sinceMs: number,
  opts: KafkaWindowOptions = {},
): Promise<WindowSample[]> {
  const admin = await client.admin();
  // Per topic-partition: [start, end) offsets (decimal strings in Kafka; BigInt here).
  const ranges = new Map<string, { start: bigint; end: bigint }>();
  const key = (t: string, p: number): string => `${t}\u0000${p}`;
  try {
    for (const topic of topics) {
      const starts = await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs);
      const marks = await admin.fetchTopicOffsets(topic);
      for (const m of marks) {
        const s: TopicPartitionOffset | undefined = starts.find((x) => x.partition === m.partition);
        const start = BigInt(s?.offset ?? m.high);
        const end = BigInt(m.high);
        if (start < end)
          ranges.set(key(topic, m.partition), { start: start < BigInt(m.low) ? BigInt(m.low) : start, end });
      }
    }
  } finally {
    await admin.disconnect();
  }
  const out: WindowSample[] = [];
  if (ranges.size === 0) return out;
  const pending = new Set([...ranges.entries()].filter(([, r]) => r.start < r.end).map(([k]) => k));
  const consumer = await client.consumer({
    groupId: opts.groupId ?? `ddcl-train-window-${randomBytes(6).toString('hex')}`,
    fromBeginning: true,
    maxBatchSize: opts.maxBatchSize ?? 2000,
  });
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.subscribe([...topics]);
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RetrainError(
              'kafka-timeout',
              `reading the window of ${topics.join(',')} since ${new Date(sinceMs).toISOString()}: ${pending.size} partitions not at their end after ${timeoutMs} ms`,
              true,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          onCrash: (e) => reject(e),
          eachBatch: async (batch, ctx) => {
            const k = key(batch.topic, batch.partition);
            const r = ranges.get(k);
            if (!r || !pending.has(k) || batch.records.length === 0) return;
            // fromBeginning starts at the log start: jump to the first offset at sinceMs.
            if (
              BigInt(batch.records[0]!.offset) < r.start &&
              BigInt(batch.records[batch.records.length - 1]!.offset) < r.start
            ) {
              consumer.seek({ topic: batch.topic, partition: batch.partition, offset: r.start.toString() });
              return;
            }
            for (const rec of batch.records) {
              if (ctx.isStale()) return;
              const o = BigInt(rec.offset);
              if (o < r.start) continue;
              if (o >= r.end) break;
              if (rec.value !== null && rec.timestamp >= sinceMs)
                out.push({ value: Buffer.from(rec.value), timestamp: rec.timestamp });
            }
            if (BigInt(batch.records[batch.records.length - 1]!.offset) >= r.end - 1n) {
              pending.delete(k);
              if (pending.size === 0) resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect();
  }
  out.sort((a, b) => a.timestamp - b.timestamp);
  return opts.maxEvents !== undefined && out.length > opts.maxEvents
    ? out.slice(out.length - opts.maxEvents)
    : out;
}
