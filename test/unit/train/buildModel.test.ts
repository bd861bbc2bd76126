import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numericSpecForColumns } from '../../../src/features/index.js';
import { Rng } from '../../../src/model/rng.js';
import { OnnxScorer } from '../../../src/serve/scorer.js';
import { buildModel, partToTrainWeights, trainWeightsToPart } from '../../../src/train/buildModel.js';

const TINY = { epochs: 2, pretrainEpochs: 1, lambda: 1, widths: [8], m: 4, K: 4, batchSize: 128, seed: 3 };

function rows(n: number, seed = 1): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => [rng.normal() + (i % 2) * 4, rng.normal(), rng.normal() * 2]);
}

test('a model is built from records: rows accounted, calibration held back, ONNX takes the feature width', async () => {
  const recs = rows(1000);
  const b = await buildModel(numericSpecForColumns(['a', 'b', 'c']), recs, {
    train: TINY,
    holdoutFraction: 0.2,
  });
  assert.deepEqual(b.rows, { total: 1000, refused: 0, train: 800, calibration: 200 });
  assert.equal(b.parts.inputDim, 3);
  assert.equal(b.parts.prototypes.stats.length, 4);
  assert.equal((b.parts.trainingMetrics as unknown[]).length, 2);
  const scorer = await OnnxScorer.create(b.parts.onnx);
  assert.equal(scorer.inputDim, 3);
  await scorer.release();
});

test('maxTrainRows bounds the rows the network trains on, not the calibration slice', async () => {
  const b = await buildModel(numericSpecForColumns(['a', 'b', 'c']), rows(2000, 2), {
    train: TINY,
    maxTrainRows: 500,
  });
  assert.equal(b.rows.train, 500);
  assert.equal(b.rows.calibration, 400);
  assert.equal(b.result.assignments.length, 500);
});

test('refused records are counted, and too few usable ones are a clear error', async () => {
  const recs: unknown[] = rows(400, 3);
  recs[5] = ['x', 1, 2];
  const b = await buildModel(numericSpecForColumns(['a', 'b', 'c']), recs, { train: TINY });
  assert.equal(b.rows.refused, 1);
  await assert.rejects(
    buildModel(numericSpecForColumns(['a', 'b', 'c']), rows(20, 4), { train: TINY }),
    /too few usable records/,
  );
});

test('training weights survive the artifact tensors round trip', async () => {
  const b = await buildModel(numericSpecForColumns(['a', 'b', 'c']), rows(600, 5), { train: TINY });
  const back = partToTrainWeights(trainWeightsToPart(b.result.weights));
  assert.deepEqual(
    back.backbone.layers.map((l) => [l.in, l.out]),
    b.result.weights.backbone.layers.map((l) => [l.in, l.out]),
  );
  assert.deepEqual(
    Array.from(back.backbone.layers[0]!.W),
    Array.from(b.result.weights.backbone.layers[0]!.W),
  );
  assert.equal(back.dcl.variant, b.result.weights.dcl.variant);
  assert.equal(back.standardize, b.result.weights.standardize);
  assert.ok(back.decoder, 'the decoder is kept');
});
