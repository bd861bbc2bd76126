// The stream client against a real broker, for both implementations (KAFKA_IMPLS to pick).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createKafkaClient,
  KafkaConfigError,
  KafkaConnectionError,
  KafkaProtocolError,
  nextOffset,
  type Admin,
  type ConsumedRecord,
  type KafkaClient,
  type TopicPartitionOffset,
} from '../../../src/stream/index.js';
import { clientConfig, drain, impls, sleep, uniqueName, waitFor } from '../helpers/kafka.js';

const TIMEOUT = 60000;

class DeliberateAbort extends Error {}

for (const impl of impls()) {
  describe(`stream client (${impl})`, () => {
    let client: KafkaClient;
    let admin: Admin;

    before(async () => {
      client = createKafkaClient(clientConfig(impl));
      admin = await client.admin();
    });

    after(async () => {
      await admin?.disconnect();
    });

    it('delivers every produced record back with its key and headers', { timeout: TIMEOUT }, async () => {
      const topic = uniqueName(`rt-${impl}`);
      assert.equal(await admin.createTopics([{ topic, numPartitions: 3 }]), true);
      assert.ok((await admin.listTopics()).includes(topic));

      const N = 300;
      const producer = await client.producer();
      try {
        for (let start = 0; start < N; start += 100) {
          await producer.send(
            Array.from({ length: 100 }, (_, j) => {
              const i = start + j;
              return {
                topic,
                key: `k${i % 17}`,
                value: Buffer.from(JSON.stringify({ i })),
                headers: { 'x-i': String(i), 'x-bin': Buffer.from([i % 256, 0xff]) },
              };
            }),
          );
        }
      } finally {
        await producer.disconnect();
      }
      // send() resolved: every record is acknowledged, so the high watermarks already count them.
      const marks = await admin.fetchTopicOffsets(topic);
      assert.equal(marks.length, 3);
      assert.equal(
        marks.reduce((s, m) => s + Number(m.high), 0),
        N,
      );

      const seen = await drain(client, { topic, expect: N, maxBatchSize: 50, settleMs: 500 });
      assert.equal(seen.length, N);
      const byI = new Map<number, ConsumedRecord>();
      for (const r of seen) byI.set((JSON.parse(r.value!.toString()) as { i: number }).i, r);
      assert.equal(byI.size, N, 'each record exactly once');
      const partitionOfKey = new Map<string, number>();
      const lastIndexOfKey = new Map<string, number>();
      for (let i = 0; i < N; i++) {
        const r = byI.get(i);
        assert.ok(r, `record ${i} arrived`);
        const key = r.key!.toString();
        assert.equal(key, `k${i % 17}`);
        assert.equal(r.headers['x-i']!.toString(), String(i));
        assert.deepEqual([...r.headers['x-bin']!], [i % 256, 0xff]);
        assert.ok(r.timestamp > Date.now() - 10 * 60_000 && r.timestamp <= Date.now() + 60_000);
        // One key, one partition: that is what keeps a key's events in order.
        if (partitionOfKey.has(key)) assert.equal(r.partition, partitionOfKey.get(key));
        partitionOfKey.set(key, r.partition);
      }
      // Per partition, arrival order is offset order, and a key's records keep their send order.
      const lastOffset = new Map<number, bigint>();
      for (const r of seen) {
        const prev = lastOffset.get(r.partition);
        if (prev !== undefined) assert.ok(BigInt(r.offset) > prev);
        lastOffset.set(r.partition, BigInt(r.offset));
        const i = (JSON.parse(r.value!.toString()) as { i: number }).i;
        const key = r.key!.toString();
        assert.ok((lastIndexOfKey.get(key) ?? -1) < i);
        lastIndexOfKey.set(key, i);
      }
      await admin.deleteTopics([topic]);
    });

    it('hands out micro-batches no larger than maxBatchSize', { timeout: TIMEOUT }, async () => {
      const topic = uniqueName(`mb-${impl}`);
      await admin.createTopics([{ topic, numPartitions: 1 }]);
      const producer = await client.producer({ idempotent: false });
      await producer.send(Array.from({ length: 120 }, (_, i) => ({ topic, value: Buffer.from(String(i)) })));
      await producer.disconnect();
      const consumer = await client.consumer({
        groupId: uniqueName('mb'),
        fromBeginning: true,
        maxBatchSize: 16,
      });
      const sizes: number[] = [];
      const values: string[] = [];
      try {
        await consumer.subscribe([topic]);
        await consumer.run({
          eachBatch: async (b) => {
            sizes.push(b.records.length);
            values.push(...b.records.map((r) => r.value!.toString()));
          },
        });
        await waitFor('120 records', () => values.length >= 120);
      } finally {
        await consumer.disconnect();
      }
      assert.ok(Math.max(...sizes) <= 16, `batch sizes ${sizes.join(',')}`);
      assert.deepEqual(
        values,
        Array.from({ length: 120 }, (_, i) => String(i)),
      );
    });

    it(
      'resumes a group from its committed offsets after a consumer restart, without re-delivery',
      { timeout: TIMEOUT },
      async () => {
        const topic = uniqueName(`commit-${impl}`);
        const groupId = uniqueName(`g-${impl}`);
        await admin.createTopics([{ topic, numPartitions: 3 }]);
        const N = 90;
        const LIMIT = 45;
        const producer = await client.producer();
        await producer.send(
          Array.from({ length: N }, (_, i) => ({ topic, key: `k${i}`, value: Buffer.from(String(i)) })),
        );
        await producer.disconnect();

        // First member: processes LIMIT records, committing after each micro-batch, then leaves.
        const first = await client.consumer({ groupId, fromBeginning: true, maxBatchSize: 7 });
        const processed: ConsumedRecord[] = [];
        const committed = new Map<number, string>();
        const assigned: number[] = [];
        await first.subscribe([topic]);
        await first.run({
          onRebalance: (ev) => {
            if (ev.type === 'assign') assigned.push(...ev.partitions.map((p) => p.partition));
          },
          eachBatch: async (b) => {
            const room = LIMIT - processed.length;
            if (room <= 0) return; // not processed, so not committed
            const done = b.records.slice(0, room);
            processed.push(...done);
            const offset = nextOffset(done[done.length - 1]!);
            await first.commit([{ topic: b.topic, partition: b.partition, offset }]);
            committed.set(b.partition, offset);
          },
        });
        await waitFor('the first member to process its share', () => processed.length >= LIMIT);
        await sleep(200);
        assert.deepEqual(
          [...new Set(assigned)].sort(),
          [0, 1, 2],
          'the rebalance callback saw the assignment',
        );
        await first.disconnect();

        const stored = await admin.fetchOffsets(groupId, [topic]);
        for (const s of stored) {
          assert.equal(s.offset, committed.get(s.partition) ?? '-1', `partition ${s.partition}`);
        }

        // Second member, same group: gets exactly what was not committed.
        const rest = await drain(client, { topic, groupId, expect: N - LIMIT, settleMs: 1500 });
        const key = (r: ConsumedRecord) => `${r.partition}:${r.offset}`;
        const firstKeys = new Set(processed.map(key));
        const restKeys = new Set(rest.map(key));
        assert.equal(rest.length, N - LIMIT, 'no record delivered twice to the second member');
        assert.equal(restKeys.size, N - LIMIT);
        for (const k of restKeys) assert.ok(!firstKeys.has(k), `${k} was committed yet delivered again`);
        for (const r of rest) {
          const c = committed.get(r.partition);
          if (c !== undefined) assert.ok(BigInt(r.offset) >= BigInt(c));
        }
      },
    );

    it('pauses and resumes a partition', { timeout: TIMEOUT }, async () => {
      const topic = uniqueName(`pause-${impl}`);
      await admin.createTopics([{ topic, numPartitions: 1 }]);
      const producer = await client.producer();
      await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic, value: Buffer.from(String(i)) })));
      const consumer = await client.consumer({ groupId: uniqueName('pause'), fromBeginning: true });
      const got: string[] = [];
      try {
        await consumer.subscribe([topic]);
        await consumer.run({
          eachBatch: async (b) => {
            got.push(...b.records.map((r) => r.value!.toString()));
          },
        });
        await waitFor('the first 10', () => got.length >= 10);
        assert.deepEqual(consumer.assignment(), [{ topic, partition: 0 }]);
        consumer.pause([{ topic, partitions: [0] }]);
        assert.deepEqual(consumer.paused(), [{ topic, partition: 0 }]);
        await producer.send(
          Array.from({ length: 5 }, (_, i) => ({ topic, value: Buffer.from(String(10 + i)) })),
        );
        await sleep(1500);
        assert.equal(got.length, 10, 'nothing delivered while paused');
        consumer.resume([{ topic, partitions: [0] }]);
        assert.deepEqual(consumer.paused(), []);
        await waitFor('the 5 produced while paused', () => got.length >= 15);
        assert.deepEqual(
          got,
          Array.from({ length: 15 }, (_, i) => String(i)),
        );
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
      }
    });

    it(
      'commits a consume-transform-produce transaction exactly once; an aborted one stays invisible',
      { timeout: TIMEOUT },
      async () => {
        const input = uniqueName(`tx-in-${impl}`);
        const output = uniqueName(`tx-out-${impl}`);
        const groupId = uniqueName(`tx-g-${impl}`);
        await admin.createTopics([
          { topic: input, numPartitions: 2 },
          { topic: output, numPartitions: 2 },
        ]);
        const N = 40;
        const plain = await client.producer();
        await plain.send(
          Array.from({ length: N }, (_, i) => ({
            topic: input,
            key: `k${i}`,
            value: Buffer.from(String(i)),
          })),
        );
        await plain.disconnect();

        const txProducer = await client.producer({ transactionalId: uniqueName(`txid-${impl}`) });
        await assert.rejects(txProducer.send([{ topic: output, value: null }]), KafkaConfigError);
        const consumer = await client.consumer({
          groupId,
          fromBeginning: true,
          isolationLevel: 'read_committed',
          maxBatchSize: 8,
        });
        let committedRecords = 0;
        let abortedRecords = 0;
        try {
          await consumer.subscribe([input]);
          await consumer.run({
            eachBatch: async (b) => {
              const abortThisOne = abortedRecords === 0; // the very first batch is aborted once
              const outs = b.records.map((r) => ({
                topic: output,
                key: r.key,
                value: r.value,
                headers: { src: `${r.partition}:${r.offset}` },
              }));
              const offsets: TopicPartitionOffset[] = [
                {
                  topic: b.topic,
                  partition: b.partition,
                  offset: nextOffset(b.records[b.records.length - 1]!),
                },
              ];
              try {
                await txProducer.transaction(async (tx) => {
                  await tx.send(outs);
                  await tx.sendOffsets({ consumer, offsets });
                  if (abortThisOne) throw new DeliberateAbort('test abort');
                });
                committedRecords += outs.length;
              } catch (e) {
                if (!(e instanceof DeliberateAbort)) throw e;
                abortedRecords += outs.length;
                // The aborted batch must be processed again: go back to its first record.
                consumer.seek({ topic: b.topic, partition: b.partition, offset: b.records[0]!.offset });
              }
            },
          });
          await waitFor(
            `all ${N} input records transformed (have ${committedRecords})`,
            () => committedRecords >= N,
          );
        } finally {
          await consumer.disconnect();
          await txProducer.disconnect();
        }
        assert.equal(committedRecords, N);
        assert.ok(abortedRecords > 0);

        // The group's offsets were committed by the transactions, not by the consumer.
        const stored = await admin.fetchOffsets(groupId, [input]);
        const marks = await admin.fetchTopicOffsets(input);
        for (const m of marks) {
          assert.equal(
            stored.find((s) => s.partition === m.partition)?.offset,
            m.high,
            `partition ${m.partition}`,
          );
        }

        const committedView = await drain(client, {
          topic: output,
          expect: N,
          isolationLevel: 'read_committed',
          settleMs: 1500,
        });
        const srcs = committedView.map((r) => r.headers.src!.toString());
        assert.equal(committedView.length, N, 'read_committed sees each transformed record once');
        assert.equal(new Set(srcs).size, N);
        const dirtyView = await drain(client, {
          topic: output,
          expect: N + abortedRecords,
          isolationLevel: 'read_uncommitted',
          settleMs: 500,
        });
        assert.equal(dirtyView.length, N + abortedRecords, 'the aborted records were written, then aborted');
      },
    );

    it('keeps an aborted transaction from read_committed consumers', { timeout: TIMEOUT }, async () => {
      const topic = uniqueName(`abort-${impl}`);
      await admin.createTopics([{ topic, numPartitions: 1 }]);
      const producer = await client.producer({ transactionalId: uniqueName(`txa-${impl}`) });
      try {
        await assert.rejects(
          producer.transaction(async (tx) => {
            await tx.send(
              Array.from({ length: 5 }, (_, i) => ({ topic, value: Buffer.from(`aborted-${i}`) })),
            );
            throw new DeliberateAbort('no');
          }),
          DeliberateAbort,
        );
        const r = await producer.transaction(async (tx) => {
          await tx.send(
            Array.from({ length: 5 }, (_, i) => ({ topic, value: Buffer.from(`committed-${i}`) })),
          );
          return 'done';
        });
        assert.equal(r, 'done');
      } finally {
        await producer.disconnect();
      }
      const seen = await drain(client, {
        topic,
        expect: 5,
        isolationLevel: 'read_committed',
        settleMs: 1000,
      });
      assert.deepEqual(
        seen.map((s) => s.value!.toString()),
        Array.from({ length: 5 }, (_, i) => `committed-${i}`),
      );
    });

    it(
      'consumes with the KIP-848 group protocol (confluent) or refuses it (kafkajs)',
      { timeout: TIMEOUT },
      async () => {
        const groupId = uniqueName(`kip848-${impl}`);
        if (impl === 'kafkajs') {
          await assert.rejects(client.consumer({ groupId, groupProtocol: 'consumer' }), KafkaConfigError);
          return;
        }
        const topic = uniqueName(`kip848-${impl}`);
        await admin.createTopics([{ topic, numPartitions: 3 }]);
        const producer = await client.producer();
        await producer.send(
          Array.from({ length: 30 }, (_, i) => ({ topic, key: `k${i}`, value: Buffer.from(String(i)) })),
        );
        await producer.disconnect();
        const consumer = await client.consumer({ groupId, fromBeginning: true, groupProtocol: 'consumer' });
        let done = 0;
        try {
          await consumer.subscribe([topic]);
          await consumer.run({
            eachBatch: async (b) => {
              await consumer.commit([
                { topic, partition: b.partition, offset: nextOffset(b.records[b.records.length - 1]!) },
              ]);
              done += b.records.length;
            },
          });
          await waitFor('30 records', () => done >= 30);
        } finally {
          await consumer.disconnect();
        }
        const stored = await admin.fetchOffsets(groupId, [topic]);
        const marks = await admin.fetchTopicOffsets(topic);
        assert.deepEqual(
          stored.map((s) => s.offset),
          marks.map((m) => m.high),
        );
      },
    );

    it('reports broker and connection failures as typed errors', { timeout: TIMEOUT }, async () => {
      await assert.rejects(
        admin.createTopics([{ topic: uniqueName('bad'), config: { 'cleanup.policy': 'no-such-policy' } }]),
        (e: unknown) => {
          assert.ok(e instanceof KafkaProtocolError, String(e));
          assert.equal(e.brokerCode, 40); // INVALID_CONFIG
          assert.equal(e.code, 'INVALID_CONFIG');
          assert.equal(e.retriable, false);
          assert.equal(e.impl, impl);
          return true;
        },
      );
      const nowhere = createKafkaClient(
        clientConfig(impl, { brokers: ['127.0.0.1:1'], connectionTimeoutMs: 500, requestTimeoutMs: 2000 }),
      );
      await assert.rejects(
        (async () => {
          const a = await nowhere.admin();
          try {
            await a.listTopics();
          } finally {
            await a.disconnect();
          }
        })(),
        (e: unknown) => {
          assert.ok(e instanceof KafkaConnectionError, String(e));
          assert.equal(e.retriable, true);
          return true;
        },
      );
    });

    it('creates the compacted models topic', { timeout: TIMEOUT }, async () => {
      const topic = uniqueName(`models-${impl}`);
      assert.equal(
        await admin.createTopics([{ topic, numPartitions: 1, config: { 'cleanup.policy': 'compact' } }]),
        true,
      );
      assert.equal(
        await admin.createTopics([{ topic, numPartitions: 1 }]),
        false,
        'a second create reports it existed',
      );
      await admin.deleteTopics([topic]);
      await waitFor('deletion', async () => !(await admin.listTopics()).includes(topic), 15000, 200);
    });
  });
}
