// The explicit-transpose dense layer computes the same values and gradients as tfjs's defaults.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../../src/model/engine.js';
import { dense, denseBuiltin, matMul } from '../../../src/model/dense.js';
import { Rng } from '../../../src/model/rng.js';

before(async () => {
  await initEngine('auto');
});

const rnd = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `${i}: ${a[i]} vs ${b[i]}`);
}

test('dense value and gradients (x, W, b) equal the built-in layer', () => {
  const rng = new Rng(1);
  const [n, i, o] = [37, 13, 7];
  const x = tf.tensor2d(rnd(rng, n * i), [n, i]);
  const W = tf.tensor2d(rnd(rng, i * o), [i, o]);
  const b = tf.tensor1d(rnd(rng, o));
  const up = tf.tensor2d(rnd(rng, n * o), [n, o]); // a non-trivial upstream gradient
  const loss = (f: typeof dense) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
    tf.sum(tf.mul(tf.tanh(f(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D)), up)) as tf.Scalar;
  close(dense(x, W, b).dataSync(), denseBuiltin(x, W, b).dataSync(), 1e-6);
  const g1 = tf.grads(loss(dense))([x, W, b]);
  const g2 = tf.grads(loss(denseBuiltin))([x, W, b]);
  for (let k = 0; k < 3; k++) close(g1[k]!.dataSync(), g2[k]!.dataSync(), 1e-5);
});

test('matMul gradients equal tf.matMul gradients', () => {
  const rng = new Rng(2);
  const a = tf.tensor2d(rnd(rng, 6 * 5), [6, 5]);
  const b = tf.tensor2d(rnd(rng, 5 * 4), [5, 4]);
  const f = (mm: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) => (x: tf.Tensor, y: tf.Tensor) =>
    tf.sum(tf.square(mm(x as tf.Tensor2D, y as tf.Tensor2D))) as tf.Scalar;
  const g1 = tf.grads(f(matMul))([a, b]);
  const g2 = tf.grads(f((x, y) => tf.matMul(x, y)))([a, b]);
  for (let k = 0; k < 2; k++) close(g1[k]!.dataSync(), g2[k]!.dataSync(), 1e-5);
});
