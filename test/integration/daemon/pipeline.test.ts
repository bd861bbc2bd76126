// The daemon end to end on the real broker, for both Kafka clients: it trains its first model from
// the input topic (bootstrap), scores every event into the enriched topic (one per input offset),
// alerts most injected anomalies (recall measured on the generator's out-of-band labels) with few
// false alerts, dead-letters bad records with the reason in headers, commits to the end, and serves
// /healthz, /readyz (503 before the model and partitions, then 200) and /metrics meanwhile.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AvroCodec, loadSchema, loadSchemaJson } from '../../../src/codec/index.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { bootstrapFromTopics } from '../../../src/daemon/bootstrap.js';
import type { AlertInfo } from '../../../src/daemon/processor.js';
import { PaymentGenerator } from '../../../src/demo/generator.js';
import { createLogger } from '../../../src/obs/logger.js';
import { createKafkaClient } from '../../../src/stream/index.js';
import { brokers, clientConfig, impls, uniqueName, waitFor } from '../helpers/kafka.js';
import {
  coverage,
  createTopic,
  daemonConfig,
  decodeEnriched,
  freePort,
  missingPositions,
  paymentEvents,
  place,
  produceEvents,
  readAll,
  waitCommitted,
} from './helpers.js';

const N = 4000;
const P = 3;
// Measured on this stream (seed 11, 1% anomalies, bootstrap on 1500 events, SMALL_TRAIN, the
// default scoring: s_mix + reconstruction + input mixture + global deviation, summed) with the
// alert threshold at grade 0.99: confluent recall 0.642, false alert rate 0.0010 (four runs);
// kafkajs 0.698-0.774, 0.0010-0.0048 (four runs; the bootstrap window is the first 1500 events in arrival order
// across partitions, so it can vary from run to run). The former grading (per-prototype z of s_q,
// max with the reconstruction z) measured recall 0.62-0.70 at false alert rates 0.0005-0.0076.
// DDCL_IT_SWEEP=1 prints recall and false alert rate over thresholds.
// A calibrated grade puts about 1 - threshold of normal events above the threshold; the bounds
// leave room around what was measured.
const THRESHOLD = 0.99;
const MIN_RECALL = 0.45;
const MAX_FALSE_ALERT_RATE = 2 * (1 - THRESHOLD);

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

function badRecords(): { value: Buffer; code: string }[] {
  const codec = new AvroCodec(loadSchemaJson('payment'));
  const good = codec.encode(new PaymentGenerator({ seed: 99 }).next().event as never);
  const nan = { ...new PaymentGenerator({ seed: 98 }).next().event, amount: Number.NaN };
  return [
    { value: Buffer.from('this is not avro at all \u0000\u00ff\u00fe garbage'), code: 'decode' },
    { value: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), code: 'decode' },
    { value: good.subarray(0, Math.floor(good.length / 2)), code: 'truncated' },
    { value: good.subarray(0, 5), code: 'truncated' },
    { value: codec.encode(nan as never), code: 'nan' },
  ];
}

describe('daemon on the real broker', { timeout: 240000 }, () => {
  for (const impl of impls()) {
    it(
      `${impl}: N events in, N enriched out; anomalies alerted; bad records dead-lettered; endpoints`,
      { timeout: 150000 },
      async () => {
        const client = createKafkaClient(clientConfig(impl));
        const admin = await client.admin();
        const producer = await client.producer();
        const topic = uniqueName(`dm-pipe-${impl}`);
        await createTopic(admin, topic, P);
        const port = await freePort();
        const cfg = daemonConfig({
          impl,
          brokers: brokers(),
          topic,
          registry: mkdtempSync(join(tmpdir(), 'ddcl-it-reg-')),
          httpPort: port,
          minEvents: 1500,
          threshold: THRESHOLD,
        });
        const alerts: AlertInfo[] = [];
        const daemon = new Daemon(cfg, {
          bootstrap: (d) => bootstrapFromTopics(d, { timeoutMs: 60000 }),
          onAlert: (a) => alerts.push(a),
          log: createLogger({ level: 'warn' }),
        });
        const ev = paymentEvents(N, { seed: 11, anomalyRate: 0.01 });
        const bad = badRecords();
        try {
          const started = daemon.start();
          let startError: unknown;
          started.catch((e: unknown) => (startError = e));
          // Before any event the daemon waits for its bootstrap window: alive, not ready.
          await waitFor(
            'the HTTP endpoints',
            async () => (await get(port, '/healthz').catch(() => ({ status: 0 }))).status === 200,
            30000,
            100,
          );
          const notReady = await get(port, '/readyz');
          assert.equal(notReady.status, 503, `readyz before the model: ${notReady.body}`);
          assert.equal((JSON.parse(notReady.body) as { checks: { model: unknown } }).checks.model, false);

          await produceEvents(producer, topic, ev, { partitions: P });
          await producer.send(bad.map((b) => ({ topic, partition: 0, value: b.value })));
          await started;
          assert.equal(startError, undefined);
          await waitFor('readyz 200', async () => (await get(port, '/readyz')).status === 200, 30000, 100);

          await waitCommitted(admin, cfg.kafka.groupId, topic, 90000);
          const metrics = await get(port, '/metrics');
          assert.equal(metrics.status, 200);
          const inTotal = Number(/^ddcl_events_in_total\{topic="[^"]+"\} (\d+)/m.exec(metrics.body)?.[1]);
          assert.equal(inTotal, N + bad.length, 'ddcl_events_in_total counts every consumed record');
          assert.match(metrics.body, /^ddcl_events_out_total\{sink="[^"]+\.ddcl\.enriched"\} 4000$/m);
          assert.match(metrics.body, /^ddcl_dlq_total\{code="[^"]+"\} \d+$/m);
          assert.match(metrics.body, /^ddcl_batch_seconds_count\{stage="end_to_end"\} \d+$/m);
          assert.match(metrics.body, /^ddcl_model_info\{model="payments",version="[^"]+"\} 1$/m);
          assert.equal((await get(port, '/healthz')).status, 200);

          // Every input offset has exactly one enriched record (a clean run: no re-delivery).
          const enriched = (await readAll(client, admin, `${topic}.ddcl.enriched`)).map(decodeEnriched);
          const cov = coverage(enriched);
          assert.deepEqual(missingPositions(cov, N, P), [], 'every input offset enriched');
          assert.equal(enriched.length, N, 'one enriched record per input event');
          if (process.env.DDCL_IT_SWEEP) {
            const g = new Map(enriched.map((r) => [`${r.partition}-${r.offset}`, r.grade]));
            for (const t of [0.9, 0.95, 0.98, 0.99, 0.995, 0.999]) {
              let c = 0,
                a = 0,
                f = 0;
              for (let i = 0; i < N; i++) {
                const p = place(i, P);
                const hit = g.get(`${p.partition}-${p.offset}`)! >= t;
                if (ev.labels[i]) {
                  a++;
                  if (hit) c++;
                } else if (hit) f++;
              }
              process.stdout.write(
                `# sweep ${t}: recall ${(c / a).toFixed(3)} far ${(f / (N - a)).toFixed(4)}\n`,
              );
            }
          }

          // Alerts: keyed topic-partition-offset, compared with the generator's labels.
          const alertRecs = await readAll(client, admin, `${topic}.alerts`);
          const alertType = loadSchema('alert');
          const alerted = new Set(alertRecs.map((r) => r.key!.toString()));
          assert.equal(alerted.size, alertRecs.length, 'one alert per alerted event');
          for (const r of alertRecs) {
            const a = alertType.fromBuffer(r.value!) as {
              source: { topic: string; partition: number; offset: number };
              grade: number;
              top_features: unknown[];
            };
            assert.equal(r.key!.toString(), `${a.source.topic}-${a.source.partition}-${a.source.offset}`);
            assert.ok(a.grade >= THRESHOLD && a.top_features.length === 3);
          }
          assert.equal(alerts.length, alertRecs.length, 'onAlert saw every alert');
          let anomalies = 0;
          let caught = 0;
          let falseAlerts = 0;
          for (let i = 0; i < N; i++) {
            const p = place(i, P);
            const hit = alerted.has(`${topic}-${p.partition}-${p.offset}`);
            if (ev.labels[i]) {
              anomalies++;
              if (hit) caught++;
            } else if (hit) falseAlerts++;
          }
          const recall = caught / anomalies;
          const far = falseAlerts / (N - anomalies);
          process.stdout.write(
            `# ${impl}: ${anomalies} injected, ${caught} alerted (recall ${recall.toFixed(3)}), ${falseAlerts} false alerts (rate ${far.toFixed(4)})\n`,
          );
          assert.ok(anomalies >= 20, `the stream holds anomalies (${anomalies})`);
          assert.ok(recall >= MIN_RECALL, `recall ${recall.toFixed(3)} >= ${MIN_RECALL}`);
          assert.ok(
            far <= MAX_FALSE_ALERT_RATE,
            `false alert rate ${far.toFixed(4)} <= ${MAX_FALSE_ALERT_RATE}`,
          );

          // Dead letters: the original bytes, the reason in headers, the source position.
          const dlq = await readAll(client, admin, `${topic}.dlq`);
          assert.equal(dlq.length, bad.length, 'every bad record dead-lettered, nothing else');
          const firstBad = Math.ceil(N / P);
          for (const d of dlq) {
            const h = Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k, v.toString()]));
            const i = Number(h['ddcl-source-offset']) - firstBad;
            assert.equal(h['ddcl-source-topic'], topic);
            assert.equal(h['ddcl-source-partition'], '0');
            assert.ok(i >= 0 && i < bad.length, `source offset ${h['ddcl-source-offset']}`);
            assert.deepEqual(d.value, bad[i]!.value, 'the original bytes');
            assert.ok(
              h['ddcl-error-code'] && h['ddcl-error-reason'] && h['ddcl-error-path'] !== undefined,
              JSON.stringify(h),
            );
            if (bad[i]!.code === 'nan') {
              assert.equal(h['ddcl-error-code'], 'not_finite');
              assert.equal(h['ddcl-error-path'], 'amount');
            } else assert.equal(h['ddcl-error'], 'DecodeError', JSON.stringify(h));
          }
          assert.deepEqual(daemon.processor.counts, { scored: N, alerts: alertRecs.length, dlq: bad.length });
        } finally {
          await daemon.stop();
          await producer.disconnect();
          await admin.disconnect();
        }
      },
    );
  }
});
