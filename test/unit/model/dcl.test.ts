import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../../src/model/engine.js';
import { DualAttention, DualLinear, dclFromWeights } from '../../../src/model/dcl.js';
import { ConfigError, ShapeError } from '../../../src/model/errors.js';
import { Rng } from '../../../src/model/rng.js';

before(async () => {
  await initEngine('auto');
});

const n = 20;
const m = 3;
const H = (() => {
  const r = new Rng(1);
  return Float32Array.from({ length: n * m }, () => r.normal());
})();

test('dual-linear init: the first prototypes are the chosen distinct rows (plus small noise)', () => {
  const rows = [3, 11, 17];
  const d = DualLinear.init(n, rows, 1e-3, 0);
  const P = tf.tidy(() => d.prototypes(tf.tensor2d(H, [n, m])).dataSync());
  rows.forEach((r, k) => {
    for (let j = 0; j < m; j++) assert.ok(Math.abs(P[k * m + j]! - H[r * m + j]!) < 0.02);
  });
  assert.throws(() => DualLinear.init(n, [2, 2, 5], 0, 0), ConfigError);
  assert.throws(() => tf.tidy(() => d.prototypes(tf.zeros([n + 1, m]) as tf.Tensor2D)), ShapeError);
});

test('dual-linear from labels starts at the cluster means', () => {
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const d = DualLinear.fromLabels(labels, 2, 0, 0);
  const P = tf.tidy(() => d.prototypes(tf.tensor2d(H, [n, m])).dataSync());
  for (let k = 0; k < 2; k++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let i = k; i < n; i += 2) s += H[i * m + j]!;
      assert.ok(Math.abs(P[k * m + j]! - s / (n / 2)) < 1e-5);
    }
  }
});

test('dual-attention: prototypes are convex combinations, invariant to row order, any batch size', () => {
  const d = DualAttention.init(H, m, [0, 5, 9, 14], 2, 1, 0.01, 3);
  const [A, P] = tf.tidy(() => {
    const h = tf.tensor2d(H, [n, m]);
    return [d.attention(h).dataSync(), d.prototypes(h).dataSync()];
  });
  for (let k = 0; k < 4; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      assert.ok(A[k * n + i]! >= 0);
      s += A[k * n + i]!;
    }
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
  const perm = new Rng(4).permutation(n);
  const Hp = new Float32Array(n * m);
  perm.forEach((p, i) => Hp.set(H.subarray(p * m, p * m + m), i * m));
  const Pp = tf.tidy(() => d.prototypes(tf.tensor2d(Hp, [n, m])).dataSync());
  for (let i = 0; i < P.length; i++) assert.ok(Math.abs(P[i]! - Pp[i]!) < 1e-5);
  const small = tf.tidy(() => d.prototypes(tf.tensor2d(H.subarray(0, 7 * m), [7, m])).shape);
  assert.deepEqual(small, [4, m]);
  // distinct starting prototypes
  const sep = Math.hypot(P[0]! - P[m]!, P[1]! - P[m + 1]!, P[2]! - P[m + 2]!);
  assert.ok(sep > 0.1, `separation ${sep}`);
});

test('DCL weights round-trip', () => {
  const d = DualAttention.init(H, m, [1, 2], 2, 0.5, 0, 0);
  const w = d.toWeights();
  const e = dclFromWeights(w);
  assert.deepEqual(e.toWeights(), w);
});
