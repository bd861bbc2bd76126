// Shared helpers for tests against the real broker (scripts/kafka.sh, or KAFKA_BROKERS).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ConsumedRecord,
  ConsumerOptions,
  KafkaClient,
  KafkaClientConfig,
  KafkaImpl,
} from '../../../src/stream/index.js';
import { parseBrokers } from '../../../src/stream/index.js';

/** Brokers from KAFKA_BROKERS, default the local scripts/kafka.sh broker. */
export function brokers(): string[] {
  return parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:19092');
}

/** Implementations under test: KAFKA_IMPLS=confluent,kafkajs (default both). */
export function impls(): KafkaImpl[] {
  const list = (process.env.KAFKA_IMPLS ?? 'confluent,kafkajs').split(',').map((s) => s.trim());
  return list.filter((s): s is KafkaImpl => s === 'confluent' || s === 'kafkajs');
}

export function clientConfig(impl: KafkaImpl, extra: Partial<KafkaClientConfig> = {}): KafkaClientConfig {
  return { impl, brokers: brokers(), clientId: `ddcl-test-${impl}`, logLevel: (process.env.KAFKA_LOG_LEVEL as KafkaClientConfig['logLevel']) ?? 'nothing', ...extra };
}

/** A name no other test (or earlier run) used: `<prefix>-<time>-<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 30000,
  stepMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const script = join(root, 'scripts', 'kafka.sh');

/** Whether this process may stop and start the broker: only the local, script-managed one. */
export function canRestartBroker(): boolean {
  if (process.env.KAFKA_BROKERS && process.env.KAFKA_BROKERS !== '127.0.0.1:19092') return false;
  const r = spawnSync('bash', [script, 'status'], { encoding: 'utf8' });
  return r.status === 0 && /^up: Kafka/.test(r.stdout);
}

function kafkaSh(...args: string[]): void {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/kafka.sh ${args.join(' ')} failed: ${r.stderr}`);
}

/** Stops the local broker keeping its data (topics, offsets, transactions). */
export function stopBroker(): void {
  kafkaSh('stop', '--keep-data');
}

export function startBroker(): void {
  kafkaSh('start');
}

/** Stops the local broker, keeping its data, and starts it again; resolves when it answers. */
export function restartBroker(): void {
  stopBroker();
  startBroker();
}


export interface DrainOptions extends Partial<ConsumerOptions> {
  topic: string;
  /** Stop once this many records arrived (then wait settleMs more to catch extras). */
  expect: number;
  settleMs?: number;
  timeoutMs?: number;
}

/**
 * Reads a topic from the beginning with a fresh group until `expect` records arrived, waits
 * `settleMs` for any extra, and returns everything seen (in arrival order).
 */
export async function drain(client: KafkaClient, o: DrainOptions): Promise<ConsumedRecord[]> {
  const { topic, expect, settleMs = 1000, timeoutMs = 30000, ...rest } = o;
  const consumer = await client.consumer({ groupId: uniqueName('drain'), fromBeginning: true, ...rest });
  const seen: ConsumedRecord[] = [];
  try {
    await consumer.subscribe([topic]);
    await consumer.run({
      eachBatch: async (batch) => {
        seen.push(...batch.records);
      },
    });
    await waitFor(`${expect} records on ${topic} (have ${seen.length})`, () => seen.length >= expect, timeoutMs);
    await sleep(settleMs);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
