// `ddcl run`: the daemon. Config in, then: load the current model from the registry (or train
// the first one from the input topics), consume micro-batches, score, produce enriched events,
// alerts and dead letters, commit after the sinks acknowledged, serve /healthz /readyz /metrics,
// and stop gracefully on SIGTERM/SIGINT.
import { hostname } from 'node:os';
import { resolveSecret, type DdclConfig } from '../config/config.js';
import { deriveSpecFromAvro, validateField, type FeatureSpec, type FieldSpec } from '../features/index.js';
import { createLogger, type Logger } from '../obs/logger.js';
import { DdclMetrics } from '../obs/metrics.js';
import { HttpEndpoints } from '../obs/http.js';
import { loadArtifact } from '../registry/artifact.js';
import { ModelRegistry } from '../registry/registry.js';
import { ServingModel } from '../serve/servingModel.js';
import {
  createKafkaClient,
  ddclTopicSpecs,
  ensureTopics,
  type KafkaClient,
  type KafkaClientConfig,
  type RecordBatch,
  type TopicPartition,
} from '../stream/index.js';
import { readFileSync } from 'node:fs';
import { inputCodec } from './codecs.js';
import { ScoringProcessor, type AlertInfo, type InlierSample } from './processor.js';
import { StreamRunner } from './runner.js';

export interface DaemonOptions {
  log?: Logger;
  onAlert?: (a: AlertInfo) => void;
  /** Build the first model when the registry has none (from the first events of the input topics). */
  bootstrap?: (daemon: Daemon) => Promise<void>;
  onInliers?: (samples: InlierSample[], model: ServingModel) => void;
  /** A batch's outputs were acknowledged (or its transaction committed): end-to-end latency. */
  onDelivered?: (batch: RecordBatch, at: number) => void;
}

export function kafkaClientConfig(cfg: DdclConfig, log?: Logger): KafkaClientConfig {
  const k = cfg.kafka;
  const tls = k.tls?.enabled
    ? {
        ...(k.tls.caFile ? { ca: readFileSync(k.tls.caFile, 'utf8') } : {}),
        ...(k.tls.certFile ? { cert: readFileSync(k.tls.certFile, 'utf8') } : {}),
        ...(k.tls.keyFile ? { key: readFileSync(k.tls.keyFile, 'utf8') } : {}),
        rejectUnauthorized: k.tls.rejectUnauthorized !== false,
      }
    : undefined;
  return {
    impl: k.client,
    brokers: k.brokers,
    clientId: k.clientId,
    ...(tls ? { ssl: tls } : {}),
    ...(k.sasl
      ? { sasl: { mechanism: k.sasl.mechanism, username: k.sasl.username, password: resolveSecret(k.sasl) } }
      : {}),
    ...(log
      ? { log: (r) => log.log(r.level, r.message, { component: 'kafka', namespace: r.namespace }) }
      : {}),
  };
}

/** The feature spec for a config: given in full, or derived from the input schema with overrides. */
export function featureSpecFor(cfg: DdclConfig, schema: object | undefined): FeatureSpec {
  const f = (cfg.features ?? {}) as {
    spec?: FeatureSpec;
    key?: string;
    overrides?: Record<string, Record<string, unknown>>;
    extra?: FieldSpec[];
  };
  if (f.spec) return f.spec;
  if (f.extra !== undefined && !Array.isArray(f.extra))
    throw new Error('features.extra must be a list of field specs (src/features/spec.ts)');
  if (!schema)
    throw new Error('features: with input.format json and no input.schema, features.spec must be given');
  return deriveSpecFromAvro(schema, {
    ...(f.key ? { key: f.key } : {}),
    ...(f.overrides ? { overrides: f.overrides } : {}),
    ...(f.extra ? { extra: f.extra.map((x, i) => validateField(x, `features.extra[${i}]`)) } : {}),
  });
}

export class Daemon {
  readonly log: Logger;
  readonly metrics = new DdclMetrics();
  readonly registry: ModelRegistry;
  readonly client: KafkaClient;
  readonly processor: ScoringProcessor;
  readonly codec;
  readonly schema: object | undefined;
  private runner?: StreamRunner;
  private http?: HttpEndpoints;
  private stopped?: Promise<void>;

  constructor(
    readonly cfg: DdclConfig,
    private readonly opts: DaemonOptions = {},
  ) {
    this.log = opts.log ?? createLogger({ level: cfg.log.level, format: cfg.log.format });
    this.registry = new ModelRegistry(cfg.model.registry);
    this.client = createKafkaClient(kafkaClientConfig(cfg, this.log));
    const { codec, schema } = inputCodec(cfg);
    this.codec = codec;
    this.schema = schema;
    this.processor = new ScoringProcessor({
      codec,
      sinks: { ...cfg.output },
      alertThreshold: cfg.scoring.alertThreshold,
      topFeatures: cfg.scoring.topFeatures,
      ...(cfg.input.timeField ? { timeField: cfg.input.timeField } : {}),
      metrics: this.metrics,
      ...(opts.onAlert ? { onAlert: opts.onAlert } : {}),
      ...(opts.onInliers ? { onInliers: opts.onInliers } : {}),
    });
  }

  /** The input partitions this instance holds now. */
  get assignment(): TopicPartition[] {
    return this.runner?.assignment ?? [];
  }

  get model(): ServingModel | undefined {
    return this.processor.current;
  }

  /** Loads a version (default: current) and swaps it in between batches. */
  async loadModel(version?: string): Promise<ServingModel> {
    const name = this.cfg.model.name;
    const v = version ?? (await this.registry.current(name));
    if (!v) throw new Error(`no current version of model "${name}" in ${this.registry.root}`);
    const artifact = await loadArtifact(this.registry.versionDir(name, v));
    const m = await ServingModel.fromArtifact(artifact, {
      device: this.cfg.model.device,
      threads: this.cfg.model.threads,
    });
    const old = this.processor.setModel(m);
    this.metrics.setModel(name, v);
    this.metrics.setDevice('serve', m.device.requested, m.device.actual);
    if (old) this.metrics.modelSwaps.inc({ model: name });
    this.log.info('model loaded', {
      model: name,
      version: v,
      device: m.device.actual,
      ...(m.device.fellBack ? { fallback: m.device.reasons } : {}),
    });
    // The in-flight batch may still hold the old model: release it a little later.
    if (old) setTimeout(() => void old.release().catch(() => undefined), 5000).unref();
    return m;
  }

  async start(): Promise<void> {
    const cfg = this.cfg;
    if (cfg.http.enabled) {
      this.http = new HttpEndpoints({
        host: cfg.http.host,
        port: cfg.http.port,
        readiness: () => {
          const model = this.model ? `${this.model.name}@${this.model.version}` : false;
          const partitions = this.runner?.assignment.length ?? 0;
          return {
            ready: Boolean(model) && partitions > 0 && Boolean(this.runner?.running),
            checks: { model, partitions: partitions > 0 ? String(partitions) : false },
          };
        },
        metrics: () => this.metrics.text(),
      });
      const a = await this.http.start();
      this.log.info('http endpoints up', { url: `http://${a.host}:${a.port}` });
    }
    const admin = await this.client.admin();
    try {
      // The configured output names: a sink created on first send would stall that send on
      // metadata (and fail where the broker does not auto-create topics).
      await ensureTopics(
        admin,
        ddclTopicSpecs(cfg.input.topics, {
          enrichedSuffix: cfg.output.enrichedSuffix,
          alertsTopic: cfg.output.alertsTopic,
          dlqTopic: cfg.output.dlqTopic,
          modelsTopic: cfg.output.modelsTopic,
        }),
      );
    } finally {
      await admin.disconnect();
    }
    if (await this.registry.current(cfg.model.name)) await this.loadModel();
    else if (this.opts.bootstrap) await this.opts.bootstrap(this);
    else
      throw new Error(
        `no model "${cfg.model.name}" in ${this.registry.root}: train one first (ddcl train) or enable bootstrap`,
      );
    this.runner = new StreamRunner({
      client: this.client,
      topics: cfg.input.topics,
      consumer: {
        groupId: cfg.kafka.groupId,
        fromBeginning: true,
        maxBatchSize: cfg.batch.size,
        maxWaitTimeMs: Math.max(1, cfg.batch.lingerMs),
      },
      delivery: cfg.delivery,
      // Stable across restarts of this instance (not the pid): a restarted instance fences its
      // predecessor and aborts the transaction a kill -9 left open, instead of every
      // read_committed reader and the group's offsets waiting for its timeout. Two instances on
      // one host need distinct kafka.clientId values.
      transactionalId: `ddcl-${cfg.kafka.groupId}-${cfg.kafka.clientId}-${hostname()}`,
      maxInFlight: cfg.batch.maxInFlight,
      concurrency: cfg.batch.concurrency,
      commitIntervalMs: cfg.batch.commitIntervalMs,
      processor: this.processor,
      log: this.log,
      metrics: this.metrics,
      ...(this.opts.onDelivered ? { onDelivered: this.opts.onDelivered } : {}),
    });
    await this.runner.start();
    this.log.info('consuming', {
      topics: cfg.input.topics,
      group: cfg.kafka.groupId,
      delivery: cfg.delivery,
      client: cfg.kafka.client,
    });
  }

  /** Graceful stop (idempotent): finish the in-flight batches, commit, close; bounded by shutdown.timeoutMs. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const t0 = performance.now();
      const r = (await this.runner?.stop(this.cfg.shutdown.timeoutMs)) ?? { clean: true };
      await this.http?.stop();
      await this.model?.release().catch(() => undefined);
      this.log.info('stopped', {
        clean: r.clean,
        ms: Math.round(performance.now() - t0),
        ...this.processor.counts,
      });
    })();
    return this.stopped;
  }
}
