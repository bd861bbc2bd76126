import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger, redact } from '../../../src/obs/logger.js';
import { DdclMetrics } from '../../../src/obs/metrics.js';
import { HttpEndpoints } from '../../../src/obs/http.js';

test('secrets never appear in logs', async () => {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  const log = createLogger({ stream });
  log.info('connecting', {
    kafka: { brokers: ['a:1'], sasl: { username: 'u', password: 'hunter2' } },
    token: 'abc',
  });
  await new Promise((r) => setTimeout(r, 20));
  const line = chunks.join('');
  assert.ok(line.includes('connecting'));
  assert.ok(!line.includes('hunter2'), line);
  assert.ok(!line.includes('"abc"'), line);
  assert.ok(line.includes('[redacted]'));
  const rec = JSON.parse(line.trim()) as { kafka: { brokers: string[] } };
  assert.deepEqual(rec.kafka.brokers, ['a:1']);
  assert.deepEqual(redact({ a: { password: 'x', ok: 1 } }), { a: { password: '[redacted]', ok: 1 } });
});

test('HTTP endpoints answer health, readiness and metrics', async () => {
  const metrics = new DdclMetrics({ collectDefault: false });
  metrics.eventsIn.inc({ topic: 't' }, 3);
  let ready = false;
  const http = new HttpEndpoints({
    readiness: () => ({ ready, checks: { model: ready } }),
    metrics: () => metrics.text(),
  });
  const { port } = await http.start();
  try {
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const r1 = await fetch(`${base}/readyz`);
    assert.equal(r1.status, 503);
    assert.deepEqual(await r1.json(), { ready: false, checks: { model: false } });
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /ddcl_events_in_total\{topic="t"\} 3/);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await http.stop();
  }
});
