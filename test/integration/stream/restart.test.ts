// Both clients ride out a broker restart that keeps its data: topics, committed offsets and the
// records survive, the producer delivers once the broker is back, and the consumer group goes on
// from its commits without re-delivering. Runs its own broker (KAFKA_RESTART_PORT, default 19192)
// so the shared test broker is never stopped under other tests; one restart serves both clients.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createKafkaClient,
  nextOffset,
  withRetry,
  type Admin,
  type ConsumedRecord,
  type Consumer,
  type KafkaImpl,
  type Producer,
} from '../../../src/stream/index.js';
import { LocalBroker, impls, sleep, uniqueName, waitFor } from '../helpers/kafka.js';

const broker = new LocalBroker(Number(process.env.KAFKA_RESTART_PORT ?? 19192));

interface Side {
  impl: KafkaImpl;
  topic: string;
  groupId: string;
  admin: Admin;
  producer: Producer;
  consumer: Consumer;
  seen: ConsumedRecord[];
  committed: Map<number, string>;
}

const records = (topic: string, from: number) =>
  Array.from({ length: 20 }, (_, i) => ({
    topic,
    key: `k${from + i}`,
    value: Buffer.from(String(from + i)),
  }));

describe('stream clients across a broker restart', { timeout: 240000 }, () => {
  before(async () => {
    await broker.start();
  });

  after(async () => {
    await broker.stop();
  });

  it(
    `${impls().join(' and ')}: keep producing, and consume on from the committed offsets`,
    { timeout: 200000 },
    async () => {
      const sides: Side[] = [];
      const cleanup: (() => Promise<void>)[] = [];
      try {
        for (const impl of impls()) {
          const client = createKafkaClient({
            impl,
            brokers: broker.brokers,
            clientId: `ddcl-restart-${impl}`,
            logLevel: 'nothing',
          });
          const topic = uniqueName(`restart-${impl}`);
          const groupId = uniqueName(`restart-g-${impl}`);
          const admin = await client.admin();
          cleanup.push(() => admin.disconnect());
          await admin.createTopics([{ topic, numPartitions: 2 }]);
          const producer = await client.producer();
          cleanup.push(() => producer.disconnect());
          const consumer = await client.consumer({ groupId, fromBeginning: true, sessionTimeoutMs: 10000 });
          cleanup.push(() => consumer.disconnect());
          const side: Side = {
            impl,
            topic,
            groupId,
            admin,
            producer,
            consumer,
            seen: [],
            committed: new Map(),
          };
          sides.push(side);
          const { seen, committed } = side;
          await consumer.subscribe([topic]);
          await consumer.run({
            eachBatch: async (b) => {
              seen.push(...b.records);
              const offset = nextOffset(b.records[b.records.length - 1]!);
              await withRetry(() => consumer.commit([{ topic: b.topic, partition: b.partition, offset }]), {
                retries: 20,
              });
              committed.set(b.partition, offset);
            },
          });
          await side.producer.send(records(topic, 0));
        }
        for (const s of sides) {
          await waitFor(
            `${s.impl}: the first 20 consumed and committed`,
            () => s.seen.length >= 20 && [...s.committed.values()].reduce((n, o) => n + Number(o), 0) >= 20,
          );
        }

        await broker.restart();

        for (const s of sides) {
          assert.ok(
            (await withRetry(() => s.admin.listTopics())).includes(s.topic),
            `${s.impl}: the topic survived`,
          );
          // Right after a restart the group coordinator may still be loading: a retriable error.
          const stored = await withRetry(() => s.admin.fetchOffsets(s.groupId, [s.topic]), { retries: 20 });
          for (const o of stored) {
            assert.equal(o.offset, s.committed.get(o.partition) ?? '-1', `${s.impl}: the commits survived`);
          }
          await s.producer.send(records(s.topic, 20));
        }
        for (const s of sides) {
          await waitFor(`${s.impl}: all 40 (have ${s.seen.length})`, () => s.seen.length >= 40, 60000);
        }
        await sleep(1000); // room for a duplicate to show up
        for (const s of sides) {
          const values = s.seen.map((r) => Number(r.value!.toString()));
          assert.equal(new Set(values).size, values.length, `${s.impl}: nothing delivered twice`);
          assert.deepEqual(
            [...values].sort((a, b) => a - b),
            Array.from({ length: 40 }, (_, i) => i),
          );
        }
      } finally {
        for (const close of cleanup.reverse()) await close();
      }
    },
  );
});
