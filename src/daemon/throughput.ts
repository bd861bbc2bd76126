// Throughput and latency of the scoring path, for `ddcl bench throughput`.
//   in process: pre-encoded generated payments (Avro) -> ScoringProcessor, micro-batch by
//     micro-batch (decode, featurize, ONNX scoring, calibration, explanations, output encoding);
//   through Kafka: pre-encoded events produced to a fresh topic, then the daemon (src/daemon)
//     consumes, scores, produces enriched events and commits. Events/s over a backlog, and
//     end-to-end latency (the record's produce timestamp to its enriched output's ack) at a fixed
//     rate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroCodec, loadSchemaJson, schemaPath } from '../codec/index.js';
import { buildConfig } from '../config/config.js';
import { PaymentGenerator } from '../demo/generator.js';
import { createLogger } from '../obs/logger.js';
import { ModelRegistry } from '../registry/registry.js';
import { ServingModel } from '../serve/servingModel.js';
import {
  createKafkaClient,
  type ConsumedRecord,
  type KafkaImpl,
  type ProducerRecord,
} from '../stream/index.js';
import { buildModel } from '../train/buildModel.js';
import { Daemon } from './daemon.js';
import { DEMO_SCORING, DEMO_TRAIN, demoFeatureSpec } from './demo.js';
import type { ScoringBuild } from './scoring.js';
import { ScoringProcessor } from './processor.js';

export interface PreparedEvents {
  values: Buffer[];
  keys: string[];
}

export function preparedEvents(n: number, seed = 3): PreparedEvents {
  const codec = new AvroCodec(loadSchemaJson('payment'));
  const gen = new PaymentGenerator({ seed, anomalyRate: 0.002, peakPerHour: 10000 / (24 * 0.31) });
  const out: PreparedEvents = { values: new Array<Buffer>(n), keys: new Array<string>(n) };
  for (let i = 0; i < n; i++) {
    const g = gen.next();
    out.values[i] = codec.encode(g.event as never);
    out.keys[i] = g.event.card_id;
  }
  return out;
}

/**
 * The demo's model architecture (DEMO_TRAIN) and scoring terms (DEMO_SCORING, the daemon's
 * defaults), few epochs: throughput depends on the shape, not the fit. DDCL_BENCH_SCORING (JSON,
 * src/daemon/scoring.ts ScoringBuild) replaces the scoring terms, to compare them in one run.
 */
export async function benchRegistry(trainEvents = 5000): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'ddcl-bench-'));
  const codec = new AvroCodec(loadSchemaJson('payment'));
  const ev = preparedEvents(trainEvents, 1);
  const built = await buildModel(
    demoFeatureSpec(),
    ev.values.map((v) => codec.decode(v)),
    {
      train: { ...DEMO_TRAIN, epochs: 2, pretrainEpochs: 1 },
      ...(process.env.DDCL_BENCH_SCORING
        ? (JSON.parse(process.env.DDCL_BENCH_SCORING) as ScoringBuild)
        : DEMO_SCORING),
    },
  );
  const reg = new ModelRegistry(root);
  const v = await reg.write('bench', built.parts);
  await reg.setCurrent('bench', v);
  return root;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (xs: number[]): number =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

export interface InProcessRun {
  events_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

/** One pass of `ev` through the processor in batches of `batch`; latencies are per batch. */
export async function inProcessRun(
  registry: string,
  ev: PreparedEvents,
  batch: number,
  threads: number,
): Promise<InProcessRun> {
  const reg = new ModelRegistry(registry);
  const model = await ServingModel.fromArtifact(await reg.load('bench', (await reg.current('bench'))!), {
    device: 'cpu',
    threads,
  });
  const processor = new ScoringProcessor({
    codec: new AvroCodec(loadSchemaJson('payment')),
    sinks: {
      enrichedSuffix: '.ddcl.enriched',
      alertsTopic: 'ddcl.alerts',
      dlqTopic: 'ddcl.dlq',
      enriched: true,
    },
    alertThreshold: 0.999,
    topFeatures: 3,
    timeField: 'event_time',
  });
  processor.setModel(model);
  const lat: number[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < ev.values.length; i += batch) {
      const records: ConsumedRecord[] = [];
      for (let j = i; j < Math.min(ev.values.length, i + batch); j++)
        records.push({
          topic: 'payments',
          partition: 0,
          offset: String(j),
          key: Buffer.from(ev.keys[j]!),
          value: ev.values[j]!,
          headers: {},
          timestamp: 0,
        });
      const b0 = performance.now();
      await processor.process({ topic: 'payments', partition: 0, records, highWatermark: '-1' });
      lat.push(performance.now() - b0);
    }
  } finally {
    await model.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    events_per_s: ev.values.length / seconds,
    p50_ms: quantile(lat, 0.5),
    p99_ms: quantile(lat, 0.99),
  };
}

export interface KafkaBenchOptions {
  brokers: string[];
  client: KafkaImpl;
  registry: string;
  batch: number;
  lingerMs: number;
  maxInFlight: number;
  concurrency: number;
  partitions: number;
  threads: number;
}

function daemonFor(
  o: KafkaBenchOptions,
  topic: string,
  onDelivered: (records: ConsumedRecord[], at: number) => void,
): Daemon {
  const cfg = buildConfig(
    {
      kafka: { client: o.client, brokers: o.brokers, clientId: 'ddcl-bench', groupId: `${topic}-g` },
      input: { topics: [topic], format: 'avro', schema: schemaPath('payment'), timeField: 'event_time' },
      batch: { size: o.batch, lingerMs: o.lingerMs, maxInFlight: o.maxInFlight, concurrency: o.concurrency },
      output: { alertsTopic: `${topic}.alerts`, dlqTopic: `${topic}.dlq`, modelsTopic: `${topic}.models` },
      model: { name: 'bench', registry: o.registry, device: 'cpu', threads: o.threads },
      scoring: { alertThreshold: 0.999 },
      http: { enabled: false },
    },
    {},
    'bench',
  );
  return new Daemon(cfg, {
    log: createLogger({ silent: true }),
    onDelivered: (b, at) => onDelivered(b.records, at),
  });
}

async function produceAll(
  client: ReturnType<typeof createKafkaClient>,
  topic: string,
  ev: PreparedEvents,
  partitions: number,
): Promise<void> {
  const producer = await client.producer({ lingerMs: 5 });
  try {
    const sends: Promise<void>[] = [];
    for (let i = 0; i < ev.values.length; i += 2000) {
      const recs: ProducerRecord[] = [];
      for (let j = i; j < Math.min(ev.values.length, i + 2000); j++)
        recs.push({ topic, partition: j % partitions, key: ev.keys[j]!, value: ev.values[j]! });
      sends.push(producer.send(recs));
      if (sends.length >= 8) await sends.shift();
    }
    await Promise.all(sends);
  } finally {
    await producer.disconnect();
  }
}

const uniqueTopic = (what: string) =>
  `ddcl-bench-${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** One run's fresh input topic (with the daemon's outputs for it), deleted afterwards. */
async function withRunTopic<T>(
  o: KafkaBenchOptions,
  what: string,
  fn: (client: ReturnType<typeof createKafkaClient>, topic: string) => Promise<T>,
): Promise<T> {
  const client = createKafkaClient({
    impl: o.client,
    brokers: o.brokers,
    clientId: 'ddcl-bench',
    logLevel: 'nothing',
  });
  const topic = uniqueTopic(what);
  const admin = await client.admin();
  try {
    await admin.createTopics([{ topic, numPartitions: o.partitions }]);
    return await fn(client, topic);
  } finally {
    await admin
      .deleteTopics([topic, `${topic}.ddcl.enriched`, `${topic}.alerts`, `${topic}.dlq`, `${topic}.models`])
      .catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * Events/s over a backlog: from the first batch the daemon fetched to the ack of the last one.
 * With `passThrough` the scoring is replaced by copying each input record to the enriched topic
 * unchanged (same consumer, producer, commits and backpressure): the ceiling that the client and
 * the broker leave on this machine, the baseline the daemon's figure is compared with.
 */
export async function kafkaBacklogRun(
  o: KafkaBenchOptions,
  ev: PreparedEvents,
  passThrough = false,
): Promise<{ events_per_s: number; seconds: number; cpu_us_per_event: number }> {
  return withRunTopic(o, 'backlog', async (client, topic) => {
    await produceAll(client, topic, ev, o.partitions);
    let first = 0;
    let delivered = 0;
    let last = 0;
    // CPU of this process (all its threads: JS, librdkafka, ONNX Runtime) over the same span.
    let cpu0: NodeJS.CpuUsage | undefined;
    let cpu = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const daemon = daemonFor(o, topic, (records, at) => {
      delivered += records.length;
      last = at;
      if (delivered >= ev.values.length) {
        const d = process.cpuUsage(cpu0);
        cpu = d.user + d.system;
        resolveDone();
      }
    });
    const fetchStart = () => {
      if (!first) {
        first = Date.now();
        cpu0 = process.cpuUsage();
      }
    };
    // The first fetch is the start of the clock: the processor is wrapped to see it.
    const score = daemon.processor.process.bind(daemon.processor);
    daemon.processor.process = (b) => {
      fetchStart();
      if (passThrough)
        return Promise.resolve({
          out: b.records.map((r) => ({ topic: `${topic}.ddcl.enriched`, key: r.key, value: r.value })),
        });
      return score(b);
    };
    try {
      await daemon.start();
      await Promise.race([
        done,
        new Promise((_, rej) =>
          setTimeout(
            () => rej(new Error(`backlog not drained in 300 s (${delivered} of ${ev.values.length})`)),
            300_000,
          ).unref(),
        ),
      ]);
    } finally {
      await daemon.stop();
    }
    const seconds = (last - first) / 1000;
    return { events_per_s: ev.values.length / seconds, seconds, cpu_us_per_event: cpu / ev.values.length };
  });
}

/** End-to-end latency at a fixed rate: produce timestamp -> enriched output acknowledged. */
export async function kafkaLatencyRun(
  o: KafkaBenchOptions,
  ev: PreparedEvents,
  rate: number,
): Promise<{
  rate: number;
  achieved_rate: number;
  events: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}> {
  return withRunTopic(o, 'latency', async (client, topic) => {
    const lat: number[] = [];
    const daemon = daemonFor(o, topic, (records, at) => {
      for (const r of records) lat.push(at - r.timestamp);
    });
    const producer = await client.producer({ lingerMs: 1 });
    try {
      await daemon.start();
      // Wait for the assignment before the clock starts (a first rebalance is not steady state).
      const t0w = Date.now();
      while (daemon.assignment.length < o.partitions && Date.now() - t0w < 60_000)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 1000));
      const tick = 10; // ms: rate/100 events every 10 ms
      const per = Math.max(1, Math.round((rate * tick) / 1000));
      const t0 = performance.now();
      const sends: Promise<void>[] = [];
      let i = 0;
      while (i < ev.values.length) {
        const recs: ProducerRecord[] = [];
        for (let j = i; j < Math.min(ev.values.length, i + per); j++)
          recs.push({ topic, partition: j % o.partitions, key: ev.keys[j]!, value: ev.values[j]! });
        sends.push(producer.send(recs));
        i += recs.length;
        const wait = t0 + (i / rate) * 1000 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const produceSeconds = (performance.now() - t0) / 1000;
      await Promise.all(sends);
      const deadline = Date.now() + 60_000;
      while (lat.length < ev.values.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      lat.sort((a, b) => a - b);
      return {
        rate,
        achieved_rate: ev.values.length / produceSeconds,
        events: lat.length,
        p50_ms: quantile(lat, 0.5),
        p99_ms: quantile(lat, 0.99),
        max_ms: lat[lat.length - 1] ?? NaN,
      };
    } finally {
      await producer.disconnect();
      await daemon.stop();
    }
  });
}

export function removeRegistry(root: string): void {
  rmSync(root, { recursive: true, force: true });
}
