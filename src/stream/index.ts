// The stream layer: a small Kafka client interface (types.ts) with two implementations chosen by
// config. `confluent` (default) is librdkafka through @confluentinc/kafka-javascript's
// KafkaJS-compatible API; `kafkajs` is the pure-JS fallback. Each loads its library on first use.
import { ConfluentClient } from './confluent.js';
import { KafkajsClient } from './kafkajs.js';
import { KafkaConfigError } from './errors.js';
import type { KafkaClient, KafkaClientConfig } from './types.js';

export * from './types.js';
export * from './errors.js';
export * from './topics.js';
export * from './retry.js';
export { nextOffset } from './common.js';

export function createKafkaClient(config: KafkaClientConfig): KafkaClient {
  const impl = config.impl ?? 'confluent';
  switch (impl) {
    case 'confluent':
      return new ConfluentClient(config);
    case 'kafkajs':
      return new KafkajsClient(config);
    default:
      throw new KafkaConfigError(`unknown Kafka client implementation ${JSON.stringify(impl)}`, {
        op: 'client.create',
        subject: String(impl),
      });
  }
}

/** Parses "host:port,host:port" as config and environment give brokers. */
export function parseBrokers(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
