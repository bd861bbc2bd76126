import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainDDCL } from '../../../src/train/trainer.js';
import { defaultTrainConfig, type EpochMetrics } from '../../../src/train/config.js';
import { scoreTf } from '../../../src/model/score.js';
import {
  CollapsedStartError,
  NonFiniteInputError,
  TrainingDivergedError,
} from '../../../src/model/errors.js';
import { gaussianBlobs, matchedAccuracy } from './blobs.js';

const n = 400;
const d = 10;
const K = 4;
const { X, y } = gaussianBlobs(1, n, d, K);
const small = { K, widths: [32, 16], m: 8, epochs: 10 };

const METRIC_KEYS: (keyof EpochMetrics)[] = [
  'epoch',
  'T',
  'loss',
  'Lq',
  'Lols',
  'V',
  'identityGap',
  'minV',
  'recon',
  'usage',
  'confidence',
  'separation',
  'meanMaxQ',
  'forceNorm',
  'embedVar',
  'usedPrototypes',
  'seconds',
];

test('dual-attention recovers 4 Gaussian blobs in 10-D and records every metric per epoch', async () => {
  const seen: EpochMetrics[] = [];
  const r = await trainDDCL(X, n, d, small, (m) => void seen.push(m));
  assert.ok(matchedAccuracy(r.assignments, y, K) >= 0.95, `accuracy ${matchedAccuracy(r.assignments, y, K)}`);
  assert.equal(r.history.length, small.epochs);
  assert.deepEqual(seen, r.history);
  for (const h of r.history) {
    for (const key of METRIC_KEYS) assert.ok(key in h, key);
    for (const key of METRIC_KEYS)
      if (key !== 'recon') assert.ok(Number.isFinite(h[key]), `${key} = ${h[key]}`);
    assert.ok(Number.isNaN(h.recon)); // no decoder
    assert.ok(h.identityGap <= 1e-5 * h.Lq, `gap ${h.identityGap}`);
    assert.ok(h.minV >= 0 && h.minV <= h.V);
    assert.ok(h.meanMaxQ >= 1 / K && h.meanMaxQ <= 1 + 1e-6);
  }
  assert.ok(r.history[0]!.T > r.history.at(-1)!.T); // annealed
  assert.equal(r.history.at(-1)!.usedPrototypes, K);
  // The ScoringModel reproduces the assignments, and its scale is the median D of the training rows.
  const s = scoreTf(r.model, X, n);
  assert.deepEqual(s.nearest, r.assignments);
  const sorted = Float32Array.from(s.D).sort();
  assert.equal(r.model.prototypes.distScale, sorted[sorted.length - 1 - Math.floor(sorted.length / 2)]);
  assert.equal(r.model.prototypes.T, r.history.at(-1)!.T);
  assert.equal(r.backend, 'wasm');
});

test('dual-linear with AE pretraining and a decoder: folded model, P* from the window, recon scored', async () => {
  const r = await trainDDCL(X, n, d, {
    ...small,
    variant: 'dual-linear',
    stepsPerEpoch: 3,
    pretrainEpochs: 3,
    lambda: 0.5,
  });
  assert.equal(r.pretrainHistory.length, 3);
  assert.ok(r.pretrainHistory.at(-1)!.recon < r.pretrainHistory[0]!.recon);
  assert.ok(r.history.every((h) => Number.isFinite(h.recon)));
  assert.ok(r.model.decoder);
  assert.ok(matchedAccuracy(r.assignments, y, K) >= 0.95, `accuracy ${matchedAccuracy(r.assignments, y, K)}`);
  const s = scoreTf(r.model, X, n);
  assert.ok(s.recon && s.recon.every((v) => Number.isFinite(v)));
  // The fold: scoring embeddings are standardised over the training rows (mean 0, variance ~1).
  assert.equal(r.weights.dcl.variant, 'dual-linear');
  if (r.weights.dcl.variant === 'dual-linear') assert.equal(r.weights.dcl.n, n);
});

test('same seed => identical weights and identical scores; another seed differs', async () => {
  const a = await trainDDCL(X, n, d, { ...small, epochs: 3, seed: 7 });
  const b = await trainDDCL(X, n, d, { ...small, epochs: 3, seed: 7 });
  const c = await trainDDCL(X, n, d, { ...small, epochs: 3, seed: 8 });
  assert.deepEqual(a.weights, b.weights);
  assert.deepEqual(a.model, b.model);
  assert.deepEqual(scoreTf(a.model, X, n), scoreTf(b.model, X, n));
  assert.notDeepEqual(a.weights.backbone.layers[0]!.W, c.weights.backbone.layers[0]!.W);
});

test('refuses a collapsed start (uniform W: every prototype at the mean)', async () => {
  const r = await trainDDCL(X, n, d, { ...small, variant: 'dual-linear', epochs: 1 });
  const uniform = {
    ...r.weights,
    dcl: { variant: 'dual-linear' as const, n, K, W: new Float32Array(n * K).fill(1 / n) },
  };
  await assert.rejects(
    trainDDCL(X, n, d, { ...small, variant: 'dual-linear', resume: uniform }),
    (e: unknown) => {
      assert.ok(e instanceof CollapsedStartError);
      assert.ok(e.V <= 1e-6 * e.Lq);
      assert.ok(Math.abs(e.meanMaxQ - 1 / K) < 1e-4);
      return true;
    },
  );
  // The same weights with their trained W resume fine.
  const again = await trainDDCL(X, n, d, { ...small, variant: 'dual-linear', epochs: 1, resume: r.weights });
  assert.equal(again.history.length, 1);
});

test('NaN input is refused with its position; an overflowing loss stops with the epoch and term', async () => {
  const bad = X.slice();
  bad[5 * d + 3] = NaN;
  await assert.rejects(
    trainDDCL(bad, n, d, small),
    (e: unknown) => e instanceof NonFiniteInputError && e.row === 5 && e.col === 3,
  );
  // 1e19 is finite in float32, its square is not: D overflows at the first epoch.
  const huge = X.map((v) => v * 1e19);
  await assert.rejects(
    trainDDCL(huge, n, d, { ...small, standardize: false, distNorm: 'none' }),
    (e: unknown) => {
      assert.ok(e instanceof TrainingDivergedError);
      assert.equal(e.epoch, 0);
      assert.equal(e.term, 'loss');
      assert.ok(Number.isNaN(e.value));
      return true;
    },
  );
});

test('defaultTrainConfig is the small dual-attention model', () => {
  assert.equal(defaultTrainConfig.variant, 'dual-attention');
  assert.deepEqual(defaultTrainConfig.widths, [64, 32]);
  assert.ok(defaultTrainConfig.m >= 8 && defaultTrainConfig.m <= 16);
  assert.ok(defaultTrainConfig.K >= 8 && defaultTrainConfig.K <= 10);
});
