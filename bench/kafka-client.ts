// The Kafka client alone, no scoring: end-to-end latency (produce timestamp -> eachBatch) at a
// fixed rate, and the time a send takes to be acknowledged. Shows what the client and broker add
// before the daemon does anything, and how partitionsConsumedConcurrently changes it.
//   node --import tsx bench/kafka-client.ts [--brokers 127.0.0.1:19092] [--client confluent|kafkajs]
//     [--partitions 3] [--concurrency 1] [--rate 2000] [--seconds 5] [--wait-ms 5] [--runs 3]
import { parseArgs } from 'node:util';
import { median, quantile as q } from '../src/daemon/throughput.js';
import { createKafkaClient, type KafkaImpl, type ProducerRecord } from '../src/stream/index.js';

const { values: a } = parseArgs({
  options: {
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092' },
    client: { type: 'string', default: 'confluent' },
    partitions: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    'wait-ms': { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
  },
});
const impl = a.client as KafkaImpl;
const parts = Number(a.partitions);
const conc = Number(a.concurrency);
const rate = Number(a.rate);
const n = Math.round(rate * Number(a.seconds));

async function run(): Promise<{ p50: number; p99: number; max: number; send_p99: number }> {
  const client = createKafkaClient({
    impl,
    brokers: a.brokers!.split(','),
    clientId: 'bench-client',
    logLevel: 'nothing',
  });
  const topic = `bench-client-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  const admin = await client.admin();
  await admin.createTopics([{ topic, numPartitions: parts }]);
  const lat: number[] = [];
  const sendLat: number[] = [];
  const consumer = await client.consumer({
    groupId: `${topic}-g`,
    fromBeginning: true,
    maxWaitTimeMs: Number(a['wait-ms']),
  });
  await consumer.subscribe([topic]);
  let assigned = 0;
  await consumer.run({
    partitionsConsumedConcurrently: conc,
    eachBatch: (b) => {
      const now = Date.now();
      for (const r of b.records) lat.push(now - r.timestamp);
      return Promise.resolve();
    },
    onRebalance: (ev) => {
      if (ev.type === 'assign') assigned += ev.partitions.length;
    },
  });
  while (assigned < parts) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 1000));
  const producer = await client.producer({ lingerMs: 1 });
  const per = Math.max(1, Math.round(rate / 100));
  const value = Buffer.alloc(200, 7);
  const t0 = performance.now();
  for (let i = 0; i < n;) {
    const recs: ProducerRecord[] = [];
    for (let j = 0; j < per && i < n; j++, i++) recs.push({ topic, partition: i % parts, key: 'k', value });
    const s0 = performance.now();
    void producer.send(recs).then(() => sendLat.push(performance.now() - s0));
    const w = t0 + (i / rate) * 1000 - performance.now();
    if (w > 0) await new Promise((r) => setTimeout(r, w));
  }
  const deadline = Date.now() + 30_000;
  while (lat.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await producer.disconnect();
  await consumer.disconnect();
  await admin.deleteTopics([topic]).catch(() => undefined);
  await admin.disconnect();
  lat.sort((x, y) => x - y);
  sendLat.sort((x, y) => x - y);
  if (lat.length < n) throw new Error(`only ${lat.length} of ${n} records arrived`);
  return {
    p50: q(lat, 0.5),
    p99: q(lat, 0.99),
    max: lat[lat.length - 1]!,
    send_p99: Math.round(q(sendLat, 0.99)),
  };
}

const runs = [];
for (let r = 0; r < Number(a.runs); r++) {
  const x = await run();
  console.error(`run ${r + 1}: p50 ${x.p50} ms, p99 ${x.p99} ms, max ${x.max} ms, send p99 ${x.send_p99} ms`);
  runs.push(x);
}
console.log(
  JSON.stringify({
    client: impl,
    partitions: parts,
    concurrency: conc,
    rate,
    events: n,
    p50_ms: median(runs.map((x) => x.p50)),
    p99_ms: median(runs.map((x) => x.p99)),
    runs,
    command: `node --import tsx bench/kafka-client.ts ${process.argv.slice(2).join(' ')}`.trim(),
  }),
);
process.exit(0);
