// `ddcl demo`: the embedded default. Generated card payments with injected anomalies run through
// the same pipeline as the daemon (Avro decode, featurize, ONNX scoring, calibration,
// explanations), in process: the first window trains the first model, alerts print as they
// happen, the HTTP endpoints are up, and a summary compares alerts with the injected anomalies.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroCodec, loadSchemaJson, schemaPath } from '../codec/index.js';
import { buildConfig, DEFAULT_CONFIG } from '../config/config.js';
import { PaymentGenerator, type AnomalyKind, type GeneratedEvent } from '../demo/generator.js';
import { deriveSpecFromAvro, type FeatureSpec, type FieldSpec } from '../features/index.js';
import { createLogger, type Logger } from '../obs/logger.js';
import { DdclMetrics } from '../obs/metrics.js';
import { HttpEndpoints } from '../obs/http.js';
import { ModelRegistry } from '../registry/registry.js';
import { ServingModel } from '../serve/servingModel.js';
import {
  createKafkaClient,
  ensureTopics,
  type ConsumedRecord,
  type ProducerRecord,
} from '../stream/index.js';
import { buildModel } from '../train/buildModel.js';
import { scoringBuild, type ScoringBuild } from './scoring.js';
import type { TrainConfig } from '../train/config.js';
import { Daemon, kafkaClientConfig } from './daemon.js';
import { ScoringProcessor, type AlertInfo } from './processor.js';

export interface DemoOptions {
  /** Events after the training window (0 = run until interrupted). */
  events: number;
  /** Events of the first training window. */
  window: number;
  /** Events per second (wall clock); 0 = as fast as possible. */
  rate: number;
  batch: number;
  seed: number;
  anomalyRate: number;
  alertThreshold: number;
  http: { enabled: boolean; host: string; port: number };
  registry?: string;
  quiet: boolean;
  train: Partial<TrainConfig>;
  /** How the first model grades (config `scoring` terms; src/daemon/scoring.ts). Default: DEMO_SCORING. */
  scoring?: ScoringBuild;
  /** Where alert lines go (stdout by default). */
  print?: (line: string) => void;
  log?: Logger;
  signal?: AbortSignal;
}

export interface DemoSummary {
  events: number;
  scored: number;
  alerts: number;
  injected: number;
  caught: number;
  precision: number;
  recall: number;
  byKind: Record<string, { injected: number; caught: number }>;
  falseAlertRate: number;
  trainSeconds: number;
  events_per_s: number;
  model: { name: string; version: string; device: string };
}

/** Autoencoder pretraining then DDCL with the reconstruction kept (lambda): measured on the demo's
 * stream, the decoder's reconstruction error catches what distances to prototypes alone miss. */
/** The demo model's scoring terms: the daemon's defaults (config `scoring`). */
export const DEMO_SCORING: ScoringBuild = scoringBuild(DEFAULT_CONFIG.scoring);

export const DEMO_TRAIN: Partial<TrainConfig> = {
  widths: [64, 32],
  m: 16,
  K: 10,
  epochs: 15,
  pretrainEpochs: 5,
  lambda: 1,
  batchSize: 256,
  seed: 1,
};

/**
 * The payment schema's derived features, with hour of day but not day of week: the first window
 * spans one simulated day, and a model must not learn that every day is a Monday.
 */
/**
 * The amount relative to the card's 30-day average (log1p of amount / amount_avg_30d; imputed,
 * without an indicator, for cards younger than 30 days, whose average is null).
 */
export const DEMO_AMOUNT_RATIO: FieldSpec = {
  kind: 'numeric',
  path: 'amount',
  per: 'amount_avg_30d',
  name: 'amount_per_avg_30d',
  log1p: true,
  missing: 'impute',
};

export function demoFeatureSpec(): FeatureSpec {
  return deriveSpecFromAvro(loadSchemaJson('payment'), {
    overrides: { event_time: { parts: ['hour'] } },
    extra: [DEMO_AMOUNT_RATIO],
  });
}

function fmtAlert(a: AlertInfo, kind: AnomalyKind | null): string {
  const r = a.record as {
    card_id?: string;
    amount?: number;
    merchant_category?: string;
    country?: string;
    channel?: string;
  };
  const top = a.top
    .map((f) => `${f.name} ${f.direction === 'above' ? '+' : ''}${f.deviation.toFixed(1)}sd`)
    .join(', ');
  return `ALERT grade=${a.grade.toFixed(4)} card=${r.card_id} amount=${r.amount?.toFixed(2)} ${r.merchant_category}/${r.channel}/${r.country} proto=${a.nearest} top=[${top}]${kind ? `  (injected: ${kind})` : '  (not injected)'}`;
}

/**
 * The generator and the first model of both demos: traffic scaled so that the first window spans
 * about one simulated day (the mean of the daily rhythm is about 0.31 of its peak), so the first
 * model sees every hour's habits; the window trains it (anomalies included, as in real traffic)
 * into the registry, and the version is made current.
 */
async function trainFirstModel(o: DemoOptions, log: Logger) {
  const gen = new PaymentGenerator({
    seed: o.seed,
    anomalyRate: o.anomalyRate,
    peakPerHour: o.window / (24 * 0.31),
  });
  const registry = new ModelRegistry(o.registry ?? mkdtempSync(join(tmpdir(), 'ddcl-demo-')));
  const first: GeneratedEvent[] = gen.take(o.window);
  log.info('training the first model', { events: first.length, registry: registry.root });
  const built = await buildModel(
    demoFeatureSpec(),
    first.map((e) => e.event),
    { train: { ...DEMO_TRAIN, ...o.train }, ...(o.scoring ?? DEMO_SCORING) },
  );
  const version = await registry.write('demo', built.parts);
  await registry.setCurrent('demo', version);
  return { gen, registry, version, built };
}

/** Alerts against the injected anomalies: precision, recall, and false alerts per normal event. */
function detectionRates(
  alerts: number,
  caught: number,
  injected: number,
  falseAlerts: number,
  normal: number,
) {
  return {
    precision: alerts ? caught / alerts : 0,
    recall: injected ? caught / injected : 0,
    falseAlertRate: normal > 0 ? falseAlerts / normal : 0,
  };
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const log = o.log ?? createLogger({ format: 'pretty' });
  const print = o.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const schema = loadSchemaJson('payment');
  const codec = new AvroCodec(schema);
  const metrics = new DdclMetrics();
  // 1. The first window trains the first model (anomalies included, as in real traffic).
  const t0 = performance.now();
  const { gen, registry, version, built } = await trainFirstModel(o, log);
  const model = await ServingModel.fromArtifact(await registry.load('demo', version));
  const trainSeconds = (performance.now() - t0) / 1000;
  metrics.setModel('demo', version);
  metrics.setDevice('serve', model.device.requested, model.device.actual);
  log.info('model ready', {
    version,
    seconds: Number(trainSeconds.toFixed(2)),
    rows: built.rows,
    device: model.device.actual,
    backend: built.result.backend,
  });
  if (model.device.fellBack) log.info('serving on cpu', { reasons: model.device.reasons });

  // 2. Stream the rest through the daemon's processor.
  const pending = new Map<string, AnomalyKind | null>();
  const byKind: Record<string, { injected: number; caught: number }> = {};
  let caught = 0;
  let falseAlerts = 0;
  const processor = new ScoringProcessor({
    codec,
    sinks: {
      enrichedSuffix: '.ddcl.enriched',
      alertsTopic: 'ddcl.alerts',
      dlqTopic: 'ddcl.dlq',
      enriched: true,
    },
    alertThreshold: o.alertThreshold,
    topFeatures: 3,
    timeField: 'event_time',
    metrics,
    onAlert: (a) => {
      const kind = pending.get(a.source.offset) ?? null;
      if (kind) {
        caught++;
        byKind[kind]!.caught++;
      } else falseAlerts++;
      if (!o.quiet) print(fmtAlert(a, kind));
    },
  });
  processor.setModel(model);
  const http = o.http.enabled
    ? new HttpEndpoints({
        host: o.http.host,
        port: o.http.port,
        readiness: () => ({ ready: true, checks: { model: `demo@${version}` } }),
        metrics: () => metrics.text(),
      })
    : undefined;
  if (http) {
    const addr = await http.start();
    log.info('http endpoints up', {
      url: `http://${addr.host}:${addr.port}`,
      paths: ['/healthz', '/readyz', '/metrics'],
    });
  }
  let offset = 0;
  let injected = 0;
  const start = performance.now();
  try {
    while ((o.events === 0 || offset < o.events) && !o.signal?.aborted) {
      const n = o.events === 0 ? o.batch : Math.min(o.batch, o.events - offset);
      const records: ConsumedRecord[] = [];
      pending.clear();
      for (let i = 0; i < n; i++) {
        const g = gen.next();
        const off = String(offset++);
        if (g.anomaly) {
          injected++;
          (byKind[g.anomaly] ??= { injected: 0, caught: 0 }).injected++;
        }
        pending.set(off, g.anomaly);
        records.push({
          topic: 'payments',
          partition: 0,
          offset: off,
          key: Buffer.from(g.event.card_id),
          value: codec.encode(g.event as never),
          headers: {},
          timestamp: g.event.event_time,
        });
      }
      metrics.eventsIn.inc({ topic: 'payments' }, n);
      await processor.process({ topic: 'payments', partition: 0, records, highWatermark: '-1' });
      if (o.rate > 0) {
        const due = start + (offset / o.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  } finally {
    await http?.stop();
    await model.release();
  }
  const seconds = (performance.now() - start) / 1000;
  const alerts = processor.counts.alerts;
  return {
    events: offset,
    scored: processor.counts.scored,
    alerts,
    injected,
    caught,
    ...detectionRates(alerts, caught, injected, falseAlerts, offset - injected),
    byKind,
    trainSeconds,
    events_per_s: offset / seconds,
    model: { name: 'demo', version, device: model.device.actual },
  };
}

export interface KafkaDemoOptions extends DemoOptions {
  brokers: string[];
  client: 'confluent' | 'kafkajs';
  /** Input topic (default: a fresh `ddcl-demo-payments-<time>`, one partition). */
  topic?: string;
}

/**
 * The demo through a real broker: the first window trains the first model (as in process), then
 * the generated events are produced to the input topic and the daemon (src/daemon/daemon.ts)
 * consumes, scores and publishes enriched events, alerts and dead letters back to Kafka. Alerts
 * print as the daemon raises them; the summary compares them with the injected anomalies.
 */
export async function runDemoKafka(o: KafkaDemoOptions): Promise<DemoSummary & { topic: string }> {
  const log = o.log ?? createLogger({ format: 'pretty' });
  const print = o.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const codec = new AvroCodec(loadSchemaJson('payment'));
  const topic = o.topic ?? `ddcl-demo-payments-${Date.now().toString(36)}`;
  const t0 = performance.now();
  const { gen, registry, version, built } = await trainFirstModel(o, log);
  const trainSeconds = (performance.now() - t0) / 1000;
  log.info('model ready', { version, seconds: Number(trainSeconds.toFixed(2)), rows: built.rows });

  const cfg = buildConfig(
    {
      kafka: { client: o.client, brokers: o.brokers, clientId: 'ddcl-demo', groupId: `${topic}-ddcl` },
      input: { topics: [topic], format: 'avro', schema: schemaPath('payment'), timeField: 'event_time' },
      // The first model's feature spec (demoFeatureSpec), for any model the daemon builds later.
      features: { overrides: { event_time: { parts: ['hour'] } }, extra: [DEMO_AMOUNT_RATIO] },
      batch: { size: o.batch, lingerMs: 20, maxInFlight: 4 },
      model: { name: 'demo', registry: registry.root },
      scoring: { alertThreshold: o.alertThreshold, topFeatures: 3 },
      http: o.http,
      log: { level: 'warn', format: 'pretty' },
    },
    {},
    'demo',
  );
  // The label of each produced event, by offset (one partition: offsets follow the produce order).
  const labels = new Map<string, AnomalyKind>();
  const byKind: Record<string, { injected: number; caught: number }> = {};
  let caught = 0;
  let falseAlerts = 0;
  let delivered = 0;
  const daemon = new Daemon(cfg, {
    log,
    onAlert: (a) => {
      const kind = labels.get(a.source.offset) ?? null;
      if (kind) {
        caught++;
        byKind[kind]!.caught++;
      } else falseAlerts++;
      if (!o.quiet) print(fmtAlert(a, kind));
    },
    onDelivered: (b) => (delivered += b.records.length),
  });
  const client = createKafkaClient(kafkaClientConfig(cfg));
  const admin = await client.admin();
  await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
  await admin.disconnect();
  await daemon.start();
  log.info('daemon consuming', {
    topic,
    brokers: o.brokers,
    client: o.client,
    enriched: `${topic}${cfg.output.enrichedSuffix}`,
    alerts: cfg.output.alertsTopic,
  });
  const producer = await client.producer();
  let produced = 0;
  let injected = 0;
  let device: string = cfg.model.device;
  const start = performance.now();
  try {
    while ((o.events === 0 || produced < o.events) && !o.signal?.aborted) {
      const n = o.events === 0 ? o.batch : Math.min(o.batch, o.events - produced);
      const recs: ProducerRecord[] = [];
      for (let i = 0; i < n; i++) {
        const g = gen.next();
        if (g.anomaly) {
          injected++;
          (byKind[g.anomaly] ??= { injected: 0, caught: 0 }).injected++;
          labels.set(String(produced + i), g.anomaly);
        }
        recs.push({ topic, partition: 0, key: g.event.card_id, value: codec.encode(g.event as never) });
      }
      await producer.send(recs);
      produced += n;
      if (o.rate > 0) {
        const wait = start + (produced / o.rate) * 1000 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    // Let the daemon finish what was produced (bounded).
    const deadline = Date.now() + 60_000;
    while (delivered < produced && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    device = daemon.model?.device.actual ?? device;
    await producer.disconnect();
    await daemon.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  const alerts = daemon.processor.counts.alerts;
  const scored = daemon.processor.counts.scored;
  return {
    topic,
    events: produced,
    scored,
    alerts,
    injected,
    caught,
    ...detectionRates(alerts, caught, injected, falseAlerts, scored - injected),
    byKind,
    trainSeconds,
    events_per_s: scored / seconds,
    model: { name: 'demo', version, device },
  };
}
