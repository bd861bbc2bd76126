import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../../src/model/engine.js';
import { Mlp, activate, foldStandardisation } from '../../../src/model/backbone.js';
import { standardise } from '../../../src/model/loss.js';
import { Rng } from '../../../src/model/rng.js';
import type { Activation } from '../../../src/model/types.js';
import { erf } from '../../../src/serve/reference.js';

before(async () => {
  await initEngine('auto');
});

const X = (() => {
  const r = new Rng(3);
  return Float32Array.from({ length: 50 * 6 }, () => r.normal());
})();

test('seeded init is deterministic and the weights round-trip through the plain format', () => {
  const a = Mlp.create({ sizes: [6, 8, 4], activation: 'tanh', seed: 5 });
  const b = Mlp.create({ sizes: [6, 8, 4], activation: 'tanh', seed: 5 });
  const c = Mlp.create({ sizes: [6, 8, 4], activation: 'tanh', seed: 6 });
  assert.deepEqual(a.toWeights(), b.toWeights());
  assert.notDeepEqual(a.toWeights().layers[0]!.W, c.toWeights().layers[0]!.W);
  const w = a.toWeights();
  assert.equal(w.layers[0]!.W.length, 6 * 8); // row-major [in][out]
  const back = Mlp.fromWeights(w);
  const x = tf.tensor2d(X, [50, 6]);
  assert.deepEqual(Array.from(back.apply(x).dataSync()), Array.from(a.apply(x).dataSync()));
  // The layer is y = x W + b with W[i][j] at i * out + j.
  const x0 = X.subarray(0, 6);
  const L = w.layers[0]!;
  const y0 = tf.tidy(() => tf.tanh(tf.tensor2d(x0, [1, 6]).matMul(tf.tensor2d(L.W, [6, 8]))).dataSync());
  let s = 0;
  for (let i = 0; i < 6; i++) s += x0[i]! * L.W[i * 8]!;
  assert.ok(Math.abs(Math.tanh(s + L.b[0]!) - y0[0]!) < 1e-6);
});

test('the embedding layer has no trainable bias unless asked', () => {
  const a = Mlp.create({ sizes: [6, 8, 4], activation: 'relu', seed: 1 });
  assert.equal(a.trainable().length, 3); // W1, b1, W2
  const b = Mlp.create({ sizes: [6, 8, 4], activation: 'relu', seed: 1, lastBias: true });
  assert.equal(b.trainable().length, 4);
});

test('every activation gives finite outputs; gelu is the exact erf form, leaky_relu slope 0.01', () => {
  const xs = [-3, -0.5, 0, 0.7, 2.5];
  for (const a of ['relu', 'tanh', 'gelu', 'elu', 'leaky_relu', 'linear'] as Activation[]) {
    const y = tf.tidy(() => activate(tf.tensor2d(xs, [1, 5]), a).dataSync());
    for (const v of y) assert.ok(Number.isFinite(v));
    if (a === 'gelu') {
      xs.forEach((x, i) => {
        const g = 0.5 * x * (1 + erf(x / Math.SQRT2));
        assert.ok(Math.abs(y[i]! - g) < 1e-6);
      });
    }
    if (a === 'leaky_relu') assert.ok(Math.abs(y[0]! - -0.03) < 1e-7);
  }
});

test('folding the standardisation into the last layer equals standardising its output', () => {
  const net = Mlp.create({ sizes: [6, 8, 4], activation: 'elu', seed: 9, lastBias: true });
  const x = tf.tensor2d(X, [50, 6]);
  const z = net.apply(x);
  const { H, mean, variance } = standardise(z, 1e-5);
  const std = tf.sqrt(tf.add(variance, 1e-5)).dataSync() as Float32Array;
  const folded = Mlp.fromWeights(foldStandardisation(net.toWeights(), mean.dataSync() as Float32Array, std));
  const a = folded.apply(x).dataSync();
  const b = H.dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4);
});
