import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainDeepCluster } from '../../../src/train/deepcluster.js';
import { NonFiniteInputError } from '../../../src/model/errors.js';
import { gaussianBlobs, matchedAccuracy } from './blobs.js';

const n = 300;
const d = 10;
const K = 4;
const { X, y } = gaussianBlobs(2, n, d, K);

test('DeepCluster-e2e runs, returns one label per row, and is deterministic for a seed', async () => {
  const cfg = { K, widths: [32, 16], m: 8, epochs: 4, seed: 3 };
  const a = await trainDeepCluster(X, n, d, cfg);
  assert.equal(a.labels.length, n);
  assert.ok(a.labels.every((l) => l >= 0 && l < K));
  assert.equal(a.history.length, 4);
  assert.ok(a.history.every((h) => Number.isFinite(h.loss) && h.changed >= 0 && h.changed <= 1));
  assert.equal(a.embeddings.length, n * 8);
  // Well-separated blobs stay separable in its embeddings.
  assert.ok(matchedAccuracy(a.labels, y, K) >= 0.9, `accuracy ${matchedAccuracy(a.labels, y, K)}`);
  const b = await trainDeepCluster(X, n, d, cfg);
  assert.deepEqual(a.labels, b.labels);
  assert.deepEqual(a.backbone, b.backbone);
});

test('DeepCluster refuses NaN input', async () => {
  const bad = X.slice();
  bad[0] = NaN;
  await assert.rejects(trainDeepCluster(bad, n, d, { K }), NonFiniteInputError);
});
