// The `train` role: `ddcl train --from-kafka --since 1h --config FILE`. Reads its window straight
// from the input topics by timestamp, trains (in a worker), gates the challenger against the
// serving version, writes it to the registry, moves `current` when accepted and announces it on
// the models topic, so that every scorer of the group swaps to it. Run it from cron to let one
// trainer serve many scorers (set training.enabled: false in the scorers' config).
import { UserError } from '../args.js';

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(s.trim());
  if (!m) throw new UserError(`--since must be a duration like 90s, 30m, 1h or 2d, got "${s}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}

export interface TrainFromKafkaResult {
  model: string;
  result: string;
  version: string | null;
  rows: number;
  seconds: number;
  reasons: string[];
}

export async function trainFromKafka(configFile: string, since: string): Promise<TrainFromKafkaResult> {
  const sinceMs = parseDuration(since);
  const { loadConfig, ConfigError } = await import('../../config/config.js');
  let cfg;
  try {
    cfg = loadConfig(configFile);
  } catch (e) {
    if (e instanceof ConfigError) throw new UserError(`invalid config: ${e.message}`);
    throw e;
  }
  if (cfg.input.topics.length === 0)
    throw new UserError('invalid config: input.topics: must name at least one topic');
  const { createLogger } = await import('../../obs/logger.js');
  const { createKafkaClient } = await import('../../stream/index.js');
  const { kafkaClientConfig } = await import('../../daemon/daemon.js');
  const { inputCodec } = await import('../../daemon/codecs.js');
  const { retrainerSettings } = await import('../../daemon/retraining.js');
  const { ModelRegistry } = await import('../../registry/registry.js');
  const { InlierWindow, Retrainer, loadCurrent, readWindowFromKafka, modelsTopicSpec } =
    await import('../../train/retrain/index.js');
  const log = createLogger({ level: cfg.log.level, format: cfg.log.format });
  const client = createKafkaClient(kafkaClientConfig(cfg, log));
  const t0 = performance.now();
  const from = Date.now() - sinceMs;
  const samples = await readWindowFromKafka(client, cfg.input.topics, from, {
    maxEvents: cfg.training.window.maxEvents,
  });
  log.info('window read from kafka', {
    topics: cfg.input.topics,
    since: new Date(from).toISOString(),
    events: samples.length,
  });
  const window = new InlierWindow({
    maxEvents: cfg.training.window.maxEvents,
    maxAgeMs: Math.max(cfg.training.window.maxAgeMs, sinceMs),
  });
  window.add(samples);
  const registry = new ModelRegistry(cfg.model.registry);
  const serving = await loadCurrent(registry, cfg.model.name, { device: 'cpu', threads: cfg.model.threads });
  const { schema } = inputCodec(cfg);
  const admin = await client.admin();
  const producer = await client.producer({ idempotent: true });
  try {
    await admin.createTopics([modelsTopicSpec(cfg.output.modelsTopic)]);
    const retrainer = new Retrainer({
      ...retrainerSettings(cfg, schema),
      registry,
      window,
      serving: () => serving,
      announce: { producer, topic: cfg.output.modelsTopic },
      log,
    });
    const out = await retrainer.retrain({ reason: 'manual', at: new Date() });
    if (out.result === 'failed') throw new Error(`training failed: ${out.reason}`);
    return {
      model: cfg.model.name,
      result: out.result,
      version: out.version ?? null,
      rows: samples.length,
      seconds: (performance.now() - t0) / 1000,
      reasons: out.decision?.reasons.map((r) => r.message) ?? (out.reason ? [out.reason] : []),
    };
  } finally {
    await serving?.release();
    await producer.disconnect();
    await admin.disconnect();
  }
}
