// Shared helpers for tests against the real broker (scripts/kafka.sh, or KAFKA_BROKERS).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
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
  return {
    impl,
    brokers: brokers(),
    clientId: `ddcl-test-${impl}`,
    logLevel: (process.env.KAFKA_LOG_LEVEL as KafkaClientConfig['logLevel']) ?? 'nothing',
    ...extra,
  };
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

// The repository root: the nearest folder above with scripts/kafka.sh (this file also runs compiled, from dist/).
function findScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'scripts', 'kafka.sh');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('scripts/kafka.sh not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
const script = findScript();
const run = promisify(execFile);

/**
 * A broker of our own, run by scripts/kafka.sh on `port` (controller on port+1), separate from the
 * shared test broker, for tests that stop and start it. Async, so clients keep running meanwhile.
 */
export class LocalBroker {
  constructor(readonly port: number) {}

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  private async sh(...args: string[]): Promise<string> {
    try {
      const r = await run('bash', [script, ...args], {
        env: { ...process.env, KAFKA_PORT: String(this.port), KAFKA_CONTROLLER_PORT: String(this.port + 1) },
      });
      return r.stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(
        `scripts/kafka.sh ${args.join(' ')} (port ${this.port}) failed: ${err.stderr ?? err.message}`,
      );
    }
  }

  /** Starts it (reusing kept data); resolves once it answers. */
  async start(): Promise<void> {
    await this.sh('start');
  }

  /** Stops it; keepData keeps topics, offsets and transaction state for the next start. */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    await this.sh('stop', ...(options.keepData ? ['--keep-data'] : []));
  }

  async restart(): Promise<void> {
    await this.stop({ keepData: true });
    await this.start();
  }
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
    await waitFor(
      `${expect} records on ${topic} (have ${seen.length})`,
      () => seen.length >= expect,
      timeoutMs,
    );
    await sleep(settleMs);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
