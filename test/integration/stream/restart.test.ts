// Both clients ride out a broker restart that keeps its data: topics, committed offsets and the
// records survive, the producer delivers once the broker is back, and the consumer group goes on
// from its commits without re-delivering. Runs its own broker (KAFKA_RESTART_PORT, default 19192)
// so the shared test broker is never stopped under other tests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKafkaClient, nextOffset, type ConsumedRecord } from '../../../src/stream/index.js';
import { LocalBroker, impls, sleep, uniqueName, waitFor } from '../helpers/kafka.js';

const broker = new LocalBroker(Number(process.env.KAFKA_RESTART_PORT ?? 19192));

describe('stream client across a broker restart', { timeout: 240000 }, () => {
  before(async () => {
    await broker.start();
  });

  after(async () => {
    await broker.stop();
  });

  for (const impl of impls()) {
    it(`${impl}: keeps producing and consuming from committed offsets`, { timeout: 90000 }, async () => {
      const client = createKafkaClient({
        impl,
        brokers: broker.brokers,
        clientId: `ddcl-restart-${impl}`,
        logLevel: 'nothing',
      });
      const topic = uniqueName(`restart-${impl}`);
      const groupId = uniqueName(`restart-g-${impl}`);
      const admin = await client.admin();
      await admin.createTopics([{ topic, numPartitions: 2 }]);
      const producer = await client.producer();
      const consumer = await client.consumer({ groupId, fromBeginning: true, sessionTimeoutMs: 10000 });
      const seen: ConsumedRecord[] = [];
      const committed = new Map<number, string>();
      const batch = (from: number) =>
        Array.from({ length: 20 }, (_, i) => ({
          topic,
          key: `k${from + i}`,
          value: Buffer.from(String(from + i)),
        }));
      try {
        await consumer.subscribe([topic]);
        await consumer.run({
          eachBatch: async (b) => {
            seen.push(...b.records);
            const offset = nextOffset(b.records[b.records.length - 1]!);
            await consumer.commit([{ topic: b.topic, partition: b.partition, offset }]);
            committed.set(b.partition, offset);
          },
        });
        await producer.send(batch(0));
        await waitFor(
          'the first 20',
          () => seen.length >= 20 && [...committed.values()].reduce((s, o) => s + Number(o), 0) >= 20,
        );

        await broker.restart();

        assert.ok((await admin.listTopics()).includes(topic), 'the topic survived');
        const stored = await admin.fetchOffsets(groupId, [topic]);
        for (const s of stored)
          assert.equal(s.offset, committed.get(s.partition) ?? '-1', 'the commits survived');

        await producer.send(batch(20));
        await waitFor(`all 40 (have ${seen.length})`, () => seen.length >= 40, 60000);
        await sleep(1000); // room for a duplicate to show up
        const values = seen.map((r) => Number(r.value!.toString()));
        assert.equal(new Set(values).size, values.length, 'nothing delivered twice');
        assert.deepEqual(
          [...values].sort((a, b) => a - b),
          Array.from({ length: 40 }, (_, i) => i),
        );
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
        await admin.disconnect();
      }
    });
  }
});
