import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kmeans, kmeansPlusPlus } from '../../../src/model/kmeans.js';
import { Rng } from '../../../src/model/rng.js';

function blobs(seed: number, n: number, d: number, K: number, spread: number) {
  const r = new Rng(seed);
  const C = Array.from({ length: K }, () => Array.from({ length: d }, () => 10 * r.normal()));
  const X = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % K;
    for (let j = 0; j < d; j++) X[i * d + j] = C[y[i]!]![j]! + spread * r.normal();
  }
  return { X, y };
}

test('recovers well-separated blobs exactly (one cluster per blob)', () => {
  const { X, y } = blobs(1, 600, 5, 6, 0.5);
  const res = kmeans(X, 600, 5, 6, { seed: 0 });
  const map = new Map<number, number>();
  for (let i = 0; i < 600; i++) {
    const prev = map.get(y[i]!);
    if (prev === undefined) map.set(y[i]!, res.labels[i]!);
    else assert.equal(res.labels[i], prev);
  }
  assert.equal(new Set(map.values()).size, 6);
});

test('deterministic for a seed; more restarts never worse', () => {
  const { X } = blobs(2, 300, 3, 5, 3);
  const a = kmeans(X, 300, 3, 5, { seed: 4, nInit: 1 });
  const b = kmeans(X, 300, 3, 5, { seed: 4, nInit: 1 });
  assert.deepEqual(a, b);
  const c = kmeans(X, 300, 3, 5, { seed: 4, nInit: 8 });
  assert.ok(c.inertia <= a.inertia + 1e-9);
});

test('k-means++ seeds are distinct even with duplicated rows', () => {
  const X = new Float64Array(10 * 2); // all rows identical
  const s = kmeansPlusPlus(X, 10, 2, 4, new Rng(0));
  assert.equal(new Set(s).size, 4);
});
