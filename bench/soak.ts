// Memory in steady state: one daemon (confluent client, demo-shaped model) on a real broker while
// events are produced at a fixed rate; RSS, JS heap and external memory sampled every 10 s.
//   node --import tsx bench/soak.ts [RATE=20000] [SECONDS=60]   (broker on 127.0.0.1:19092)
import { buildConfig } from '../src/config/config.js';
import { Daemon } from '../src/daemon/daemon.js';
import { benchRegistry, preparedEvents, removeRegistry } from '../src/daemon/throughput.js';
import { schemaPath } from '../src/codec/index.js';
import { createLogger } from '../src/obs/logger.js';
import { createKafkaClient, type ProducerRecord } from '../src/stream/index.js';
const rate = Number(process.argv[2] ?? 20000),
  seconds = Number(process.argv[3] ?? 60);
const reg = await benchRegistry();
const topic = `soak-${Date.now()}`;
const client = createKafkaClient({
  impl: 'confluent',
  brokers: ['127.0.0.1:19092'],
  clientId: 'soak',
  logLevel: 'nothing',
});
const admin = await client.admin();
await admin.createTopics([{ topic, numPartitions: 3 }]);
let delivered = 0;
const cfg = buildConfig(
  {
    kafka: { client: 'confluent', brokers: ['127.0.0.1:19092'], clientId: 'soak', groupId: `${topic}-g` },
    input: { topics: [topic], format: 'avro', schema: schemaPath('payment'), timeField: 'event_time' },
    output: { alertsTopic: `${topic}.alerts`, dlqTopic: `${topic}.dlq`, modelsTopic: `${topic}.models` },
    model: { name: 'bench', registry: reg, device: 'cpu', threads: 1 },
    scoring: { alertThreshold: 0.999 },
    http: { enabled: false },
  },
  {},
  'soak',
);
const daemon = new Daemon(cfg, {
  log: createLogger({ silent: true }),
  onDelivered: (b) => {
    delivered += b.records.length;
  },
});
await daemon.start();
const ev = preparedEvents(50000);
const producer = await client.producer({ lingerMs: 5 });
const mb = (x: number) => Math.round(x / 2 ** 20);
const t0 = performance.now();
let i = 0;
let nextSample = 0;
while (performance.now() - t0 < seconds * 1000) {
  const recs: ProducerRecord[] = [];
  for (let j = 0; j < rate / 100; j++, i++)
    recs.push({ topic, partition: i % 3, key: ev.keys[i % 50000]!, value: ev.values[i % 50000]! });
  void producer.send(recs);
  const el = performance.now() - t0;
  if (el >= nextSample) {
    const m = process.memoryUsage();
    console.log(
      `${Math.round(el / 1000)} s: produced ${i}, delivered ${delivered}, rss ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB, external ${mb(m.external)} MB`,
    );
    nextSample += 10000;
  }
  const w = t0 + (i / rate) * 1000 - performance.now();
  if (w > 0) await new Promise((r) => setTimeout(r, w));
}
await new Promise((r) => setTimeout(r, 3000));
const m = process.memoryUsage();
console.log(`end: produced ${i}, delivered ${delivered}, rss ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB`);
await producer.disconnect();
await daemon.stop();
await admin
  .deleteTopics([topic, `${topic}.ddcl.enriched`, `${topic}.alerts`, `${topic}.dlq`, `${topic}.models`])
  .catch(() => undefined);
await admin.disconnect();
removeRegistry(reg);
process.exit(0);
