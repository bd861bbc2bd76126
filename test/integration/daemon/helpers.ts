// Shared pieces of the daemon integration tests: generated payment events with their out-of-band
// anomaly labels, a small model trained once into a registry folder, daemon configs, child-process
// daemons (`node bin/ddcl.js run`), and readers of the output topics.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { AvroCodec, loadSchema, loadSchemaJson } from '../../../src/codec/index.js';
import { buildConfig, type DdclConfig } from '../../../src/config/config.js';
import { demoFeatureSpec } from '../../../src/daemon/demo.js';
import { PaymentGenerator, type AnomalyKind } from '../../../src/demo/generator.js';
import { ModelRegistry } from '../../../src/registry/registry.js';
import type {
  Admin,
  ConsumedRecord,
  IsolationLevel,
  KafkaClient,
  KafkaImpl,
  Producer,
  ProducerRecord,
} from '../../../src/stream/index.js';
import { buildModel } from '../../../src/train/buildModel.js';
import { sleep, uniqueName, waitFor } from '../helpers/kafka.js';

/** Small and fast: a few seconds of training on 2 cores. */
export const SMALL_TRAIN = {
  epochs: 3,
  pretrainEpochs: 2,
  lambda: 1,
  K: 8,
  m: 8,
  widths: [32, 16],
  batchSize: 256,
  seed: 1,
};

// The repository root: the nearest folder above holding bin/ddcl.js (this file also runs from dist/).
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'ddcl.js'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no bin/ddcl.js above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}
export const ROOT = findRoot();
export const PAYMENT_SCHEMA = join(ROOT, 'schemas', 'payment.avsc');

export interface Events {
  values: Buffer[];
  keys: string[];
  labels: (AnomalyKind | null)[];
}

/** `n` Avro-encoded payment events; one simulated day spans `dayEvents` events. */
export function paymentEvents(
  n: number,
  o: { seed?: number; anomalyRate?: number; dayEvents?: number; warmupEvents?: number } = {},
): Events {
  const codec = new AvroCodec(loadSchemaJson('payment'));
  const gen = new PaymentGenerator({
    seed: o.seed ?? 11,
    anomalyRate: o.anomalyRate ?? 0.01,
    peakPerHour: (o.dayEvents ?? 3000) / (24 * 0.31),
    ...(o.warmupEvents !== undefined ? { warmupEvents: o.warmupEvents } : {}),
  });
  const ev: Events = { values: [], keys: [], labels: [] };
  for (let i = 0; i < n; i++) {
    const g = gen.next();
    ev.values.push(codec.encode(g.event as never));
    ev.keys.push(g.event.card_id);
    ev.labels.push(g.anomaly);
  }
  return ev;
}

/** Where each produced record lands: record i goes to partition i % partitions, in order. */
export const place = (i: number, partitions: number): { partition: number; offset: string } => ({
  partition: i % partitions,
  offset: String(Math.floor(i / partitions)),
});

/**
 * Produces records [from, to) of `ev` to a fresh topic, partition i % partitions; offsets within a
 * partition follow the order (one idempotent producer), so `place` predicts each record's offset.
 * With `rate`, paces the sends (events/s, in chunks of `chunk`).
 */
export async function produceEvents(
  producer: Producer,
  topic: string,
  ev: Events,
  o: {
    partitions: number;
    from?: number;
    to?: number;
    rate?: number;
    chunk?: number;
    signal?: { stop: boolean };
  },
): Promise<number> {
  const from = o.from ?? 0;
  const to = o.to ?? ev.values.length;
  const chunk = o.chunk ?? 500;
  const t0 = performance.now();
  let i = from;
  while (i < to && !o.signal?.stop) {
    const end = Math.min(to, i + chunk);
    const recs: ProducerRecord[] = [];
    for (let j = i; j < end; j++)
      recs.push({ topic, partition: j % o.partitions, key: ev.keys[j]!, value: ev.values[j]! });
    await producer.send(recs);
    i = end;
    if (o.rate) {
      const wait = t0 + ((i - from) / o.rate) * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }
  return i;
}

/** Trains a small model on the first `n` events of `ev` into a fresh registry folder (name "payments"). */
export async function trainedRegistry(ev: Events, n: number): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'ddcl-it-registry-'));
  const codec = new AvroCodec(loadSchemaJson('payment'));
  const records = ev.values.slice(0, n).map((v) => codec.decode(v));
  const built = await buildModel(demoFeatureSpec(), records, { train: SMALL_TRAIN });
  const reg = new ModelRegistry(root);
  const version = await reg.write('payments', built.parts);
  await reg.setCurrent('payments', version);
  return root;
}

export interface DaemonSetup {
  impl: KafkaImpl;
  brokers: string[];
  topic: string;
  registry: string;
  groupId?: string;
  delivery?: 'at-least-once' | 'exactly-once';
  httpPort?: number;
  minEvents?: number;
  threshold?: number;
  /** Extra sections merged over the result. */
  extra?: Record<string, unknown>;
}

/** The config object (as YAML would hold it) of a daemon on one input topic with unique sinks. */
export function daemonConfigObject(s: DaemonSetup): Record<string, unknown> {
  return {
    kafka: {
      client: s.impl,
      brokers: s.brokers,
      clientId: `ddcl-it-${s.impl}`,
      groupId: s.groupId ?? uniqueName(`g-${s.impl}`),
    },
    input: { topics: [s.topic], format: 'avro', schema: PAYMENT_SCHEMA, timeField: 'event_time' },
    features: { key: 'card_id', overrides: { event_time: { parts: ['hour'] } } },
    batch: { size: 500, lingerMs: 20, maxInFlight: 4 },
    output: {
      alertsTopic: `${s.topic}.alerts`,
      dlqTopic: `${s.topic}.dlq`,
      modelsTopic: `${s.topic}.models`,
    },
    delivery: s.delivery ?? 'at-least-once',
    model: { name: 'payments', registry: s.registry, device: 'cpu', threads: 1 },
    scoring: { alertThreshold: s.threshold ?? 0.999, topFeatures: 3 },
    training: { minEvents: s.minEvents ?? 1500, params: SMALL_TRAIN },
    http: { enabled: s.httpPort !== undefined, host: '127.0.0.1', port: s.httpPort ?? 0 },
    log: { level: 'info', format: 'json' },
    shutdown: { timeoutMs: 10000 },
    ...(s.extra ?? {}),
  };
}

export function daemonConfig(s: DaemonSetup): DdclConfig {
  return buildConfig(daemonConfigObject(s), {}, 'test');
}

export function writeConfig(obj: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'ddcl-it-cfg-'));
  const file = join(dir, 'ddcl.yaml');
  writeFileSync(file, stringify(obj));
  return file;
}

/** A child `node bin/ddcl.js run --config FILE`, its output kept. */
export class ChildDaemon {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(configFile: string, env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(process.execPath, [join(ROOT, 'bin', 'ddcl.js'), 'run', '--config', configFile], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => r({ code, signal })));
  }

  get log(): string {
    return this.stdout + this.stderr;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function sumHigh(admin: Admin, topic: string, isolationLevel?: IsolationLevel): Promise<number> {
  const w = await admin.fetchTopicOffsets(topic, isolationLevel);
  return w.reduce((s, p) => s + Number(p.high), 0);
}

/** Waits until the group committed every partition of `topic` up to its high watermark. */
export async function waitCommitted(
  admin: Admin,
  groupId: string,
  topic: string,
  timeoutMs = 60000,
): Promise<void> {
  const high = new Map((await admin.fetchTopicOffsets(topic)).map((w) => [w.partition, w.high]));
  await waitFor(
    `group ${groupId} to commit ${topic} to its end`,
    async () => {
      const c = await admin.fetchOffsets(groupId, [topic]);
      return c.length === high.size && c.every((o) => o.offset === high.get(o.partition));
    },
    timeoutMs,
    250,
  );
}

export interface EnrichedRow {
  partition: number;
  offset: string;
  grade: number;
  isAlert: boolean;
}

/**
 * Reads a whole topic from the beginning until it holds `expect` records (by the high watermarks,
 * or the last stable offsets for read_committed) and returns every record.
 */
export async function readAll(
  client: KafkaClient,
  admin: Admin,
  topic: string,
  o: { isolationLevel?: IsolationLevel; timeoutMs?: number } = {},
): Promise<ConsumedRecord[]> {
  const iso = o.isolationLevel ?? 'read_uncommitted';
  const end = new Map((await admin.fetchTopicOffsets(topic, iso)).map((w) => [w.partition, BigInt(w.high)]));
  const pos = new Map<number, bigint>();
  const seen: ConsumedRecord[] = [];
  const consumer = await client.consumer({
    groupId: uniqueName('read'),
    fromBeginning: true,
    isolationLevel: iso,
    maxBatchSize: 2000,
    maxWaitTimeMs: 100,
  });
  const done = () => [...end].every(([p, h]) => h === 0n || (pos.get(p) ?? -1n) + 1n >= h);
  try {
    await consumer.subscribe([topic]);
    await consumer.run({
      eachBatch: async (b) => {
        for (const r of b.records) {
          seen.push(r);
          pos.set(b.partition, BigInt(r.offset));
        }
      },
    });
    // Transaction markers take offsets too: done when the position reached the end, or no progress.
    let last = -1;
    let still = 0;
    await waitFor(
      `${topic} read to its end`,
      () => {
        if (done()) return true;
        if (seen.length === last && seen.length > 0) still++;
        else still = 0;
        last = seen.length;
        return still > 40; // 2 s without records near the end: markers only
      },
      o.timeoutMs ?? 60000,
    );
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

const enrichedType = loadSchema('enriched');
export function decodeEnriched(r: ConsumedRecord): EnrichedRow {
  const v = enrichedType.fromBuffer(r.value!) as {
    source: { partition: number; offset: number };
    ddcl: { grade: number; is_alert: boolean };
  };
  return {
    partition: v.source.partition,
    offset: String(v.source.offset),
    grade: v.ddcl.grade,
    isAlert: v.ddcl.is_alert,
  };
}

/** Per source position (`p-offset`), how many enriched records name it. */
export function coverage(rows: EnrichedRow[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(`${r.partition}-${r.offset}`, (m.get(`${r.partition}-${r.offset}`) ?? 0) + 1);
  return m;
}

export function missingPositions(cov: Map<string, number>, n: number, partitions: number): string[] {
  const miss: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = place(i, partitions);
    if (!cov.has(`${p.partition}-${p.offset}`)) miss.push(`${p.partition}-${p.offset}`);
  }
  return miss;
}

export async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics([{ topic, numPartitions: partitions }]);
}
