// The processor under concurrent batches (batch.concurrency > 1): batches of different
// partitions overlap across the awaited ONNX run, and each must be scored on its own features.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSchema } from '../../../src/codec/index.js';
import { ScoringProcessor } from '../../../src/daemon/processor.js';
import { ModelRegistry } from '../../../src/registry/registry.js';
import { inputDeviation, normalise } from '../../../src/serve/calibration.js';
import { ServingModel } from '../../../src/serve/servingModel.js';
import type { ConsumedRecord, RecordBatch } from '../../../src/stream/types.js';
import { InlierWindow } from '../../../src/train/retrain/window.js';
import { avro, events, retrainer, samplesOf, tempDir } from '../retrain/fixtures.js';

test('concurrent batches are scored exactly as one after another', async (t) => {
  const reg = new ModelRegistry(tempDir(t));
  const window = new InlierWindow({ maxEvents: 5000, maxAgeMs: 30 * 86_400_000 });
  window.add(samplesOf(events(1500, { seed: 41 })));
  const trained = await retrainer(reg, window).retrain();
  assert.equal(trained.result, 'accepted', trained.reason);
  const model = await ServingModel.fromArtifact(await reg.load('pay'), { device: 'cpu' });
  t.after(() => model.release());

  // Distinct cards per partition, so per-key feature state does not depend on the interleaving.
  const batches: RecordBatch[] = [0, 1, 2, 3].map((p) => {
    const gen = events(400, { seed: 50 + p, anomalyRate: 0.05 });
    const records: ConsumedRecord[] = gen.map((g, i) => ({
      topic: 'pay',
      partition: p,
      offset: String(i),
      key: Buffer.from(`${p}:${g.event.card_id}`),
      value: avro().encode({ ...g.event, card_id: `${p}:${g.event.card_id}` } as never),
      headers: {},
      timestamp: g.event.event_time,
    }));
    return { topic: 'pay', partition: p, records, highWatermark: '-1' };
  });
  const processor = () => {
    const pr = new ScoringProcessor({
      codec: avro(),
      sinks: { enrichedSuffix: '.e', alertsTopic: 'a', dlqTopic: 'd', enriched: true },
      alertThreshold: 0.99,
      topFeatures: 2,
    });
    pr.setModel(model);
    return pr;
  };
  const enriched = loadSchema('enriched');
  const view = (out: { topic: string; value: Buffer | null }[]) =>
    out
      .filter((r) => r.topic === 'pay.e')
      .map((r) => {
        const e = enriched.fromBuffer(r.value!) as {
          ddcl: { score: number; grade: number; nearest_prototype: number };
        };
        return [e.ddcl.score, e.ddcl.grade, e.ddcl.nearest_prototype];
      });
  const seq = processor();
  const one: unknown[] = [];
  for (const b of batches) one.push(view((await seq.process(b)).out));
  const par = processor();
  const all = await Promise.all(batches.map((b) => par.process(b)));
  assert.deepEqual(
    all.map((r) => view(r.out)),
    one,
  );
  assert.equal(par.counts.scored, 1600);
});

test('scoring.rawScore s_mix and inputDeviation: the model grades with the mixture and the input deviation', async (t) => {
  const reg = new ModelRegistry(tempDir(t));
  const window = new InlierWindow({ maxEvents: 5000, maxAgeMs: 30 * 86_400_000 });
  window.add(samplesOf(events(1500, { seed: 43 })));
  const trained = await retrainer(reg, window, {
    calibration: { rawScore: 's_mix' },
    inputDeviation: true,
  }).retrain();
  assert.equal(trained.result, 'accepted', trained.reason);
  const artifact = await reg.load('pay');
  const cal = artifact.calibration as {
    rawScore: string;
    mixture?: unknown;
    deviation?: { spread: number[] };
  };
  assert.equal(cal.rawScore, 's_mix');
  assert.ok(cal.mixture, 'the mixture is fitted');
  assert.ok(cal.deviation, 'the input deviation is fitted');
  const model = await ServingModel.fromArtifact(artifact, { device: 'cpu' });
  t.after(() => model.release());
  const gen = events(300, { seed: 44, anomalyRate: 0.05 });
  const X = new Float32Array(gen.length * model.dim);
  model.featurizer.featurizeMany(gen.map((g) => g.event)).X.forEach((v, i) => (X[i] = v));
  const cols = await model.score(X, gen.length);
  assert.equal(cols.dev?.length, gen.length, 'ServingModel.score adds the deviation');
  const expected = inputDeviation(
    artifact.prototypes.stats,
    cal.deviation.spread,
    X,
    gen.length,
    model.dim,
    cols.nearest,
  );
  assert.deepEqual(Array.from(cols.dev!), Array.from(expected));
  // The grade counts the deviation: its z is a lower bound of the graded z.
  const st = model.calibrator.state;
  for (let i = 0; i < gen.length; i++) {
    const z = normalise(st, cols, i);
    assert.ok(Number.isFinite(z));
    assert.ok(z >= (cols.dev![i]! - st.deviation!.loc) / st.deviation!.scale - 1e-9);
  }
});
