// The daemon's default topics (DESIGN.md, Kafka): per input `<input>.ddcl.enriched`, and the shared
// `ddcl.alerts`, `ddcl.dlq` and the compacted `ddcl.models` (latest model announcement per key).
import type { Admin, TopicSpec } from './types.js';

export const ALERTS_TOPIC = 'ddcl.alerts';
export const DLQ_TOPIC = 'ddcl.dlq';
export const MODELS_TOPIC = 'ddcl.models';

export function enrichedTopic(input: string): string {
  return `${input}.ddcl.enriched`;
}

export interface TopicLayoutOptions {
  numPartitions?: number;
  replicationFactor?: number;
  /** The configured names (output.*); the defaults above when omitted. */
  enrichedSuffix?: string;
  alertsTopic?: string;
  dlqTopic?: string;
  modelsTopic?: string;
}

/** Specs for every output topic the daemon writes, given its input topics. */
export function ddclTopicSpecs(inputs: string[], options: TopicLayoutOptions = {}): TopicSpec[] {
  const common = {
    ...(options.numPartitions !== undefined && { numPartitions: options.numPartitions }),
    ...(options.replicationFactor !== undefined && { replicationFactor: options.replicationFactor }),
  };
  const suffix = options.enrichedSuffix ?? '.ddcl.enriched';
  return [
    ...inputs.map((t) => ({ topic: `${t}${suffix}`, ...common })),
    { topic: options.alertsTopic ?? ALERTS_TOPIC, ...common },
    { topic: options.dlqTopic ?? DLQ_TOPIC, ...common },
    {
      topic: options.modelsTopic ?? MODELS_TOPIC,
      // One partition keeps announcements totally ordered; compaction keeps the latest per model name.
      numPartitions: 1,
      ...(options.replicationFactor !== undefined && { replicationFactor: options.replicationFactor }),
      config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': '3600000' },
    },
  ];
}

/** Creates the topics that are missing; existing ones are left as they are. */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length) await admin.createTopics(missing);
}
