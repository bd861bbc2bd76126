// The tfjs loss: float32 decomposition identity, autodiff gradients against the float64
// reference (finite differences and DDCL.md's closed forms), ablations and guards.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../../../src/model/engine.js';
import { matMul } from '../../../src/model/dense.js';
import { Rng } from '../../../src/model/rng.js';
import {
  ddclTerms,
  detachedMedian,
  sigmaBar,
  temperatureAt,
  usagePenalty,
  assignmentEntropy,
} from '../../../src/model/loss.js';
import {
  finiteDiff,
  refDualLinear,
  refG,
  refGradH,
  refGradP,
  refGradW,
  refTerms,
} from '../../../src/model/reference.js';

before(async () => {
  await initEngine('auto');
});

const randF32 = (rng: Rng, len: number, s = 1): Float32Array =>
  Float32Array.from({ length: len }, () => s * rng.normal());
const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

test('float32 L_q = L_OLS + V to 1e-5 relative, V >= 0, and agrees with the float64 reference', () => {
  const rng = new Rng(21);
  for (let trial = 0; trial < 10; trial++) {
    const n = 8 + rng.int(120);
    const m = 2 + rng.int(14);
    const K = 2 + rng.int(9);
    const T = 0.1 + 2 * rng.next();
    const H = randF32(rng, n * m, 1.5);
    const P = randF32(rng, K * m, 1.5);
    const [Lq, Lols, V] = tf.tidy(() => {
      const t = ddclTerms(tf.tensor2d(H, [n, m]), () => tf.tensor2d(P, [K, m]), {
        T,
        distNorm: 'none',
        objective: 'lq',
      });
      return [t.Lq, t.Lols, t.V].map((s) => s.dataSync()[0]!);
    }) as [number, number, number];
    assert.ok(V >= 0, `V = ${V}`);
    assert.ok(Math.abs(Lq - Lols - V) / Lq <= 1e-5, `trial ${trial}: gap ${Math.abs(Lq - Lols - V) / Lq}`);
    const ref = refTerms(f64(H), f64(P), n, m, K, T);
    assert.ok(Math.abs(Lq - ref.Lq) / ref.Lq < 1e-5);
    assert.ok(Math.abs(V - ref.V) / Math.max(ref.V, 1e-6) < 1e-4);
  }
});

test('autodiff dL_q/dP, dL_q/dW, dL_q/dH equal the closed forms and finite differences (dual-linear)', () => {
  const rng = new Rng(4);
  const n = 12;
  const m = 4;
  const K = 3;
  const T = 0.8;
  const H = randF32(rng, n * m);
  const W = randF32(rng, n * K, 0.3);
  // autodiff through P = W^T H
  const [gH, gW] = tf.tidy(() => {
    const f = (h: tf.Tensor, w: tf.Tensor): tf.Scalar =>
      ddclTerms(h as tf.Tensor2D, (hh) => matMul(tf.transpose(w as tf.Tensor2D), hh), {
        T,
        distNorm: 'none',
        objective: 'lq',
      }).Lq;
    return tf
      .grads(f)([tf.tensor2d(H, [n, m]), tf.tensor2d(W, [n, K])])
      .map((g) => g.dataSync().slice());
  });
  // autodiff with P free
  const Pv = refDualLinear(f64(H), f64(W), n, m, K);
  const gP = tf.tidy(() => {
    const f = (p: tf.Tensor): tf.Scalar =>
      ddclTerms(tf.tensor2d(H, [n, m]), () => p as tf.Tensor2D, { T, distNorm: 'none', objective: 'lq' }).Lq;
    return tf
      .grad(f)(tf.tensor2d(Float32Array.from(Pv), [K, m]))
      .dataSync()
      .slice();
  });
  // closed forms in float64
  const H64 = f64(H);
  const W64 = f64(W);
  const t = refTerms(H64, Pv, n, m, K, T);
  const G = refG(t.D, t.q, n, K, T);
  const cP = refGradP(H64, Pv, G, n, m, K);
  const cW = refGradW(H64, cP, n, m, K);
  const cH = refGradH(H64, Pv, G, W64, cP, n, m, K);
  assert.ok(maxRelErr(gP!, cP) < 1e-4, `dP ${maxRelErr(gP!, cP)}`);
  assert.ok(maxRelErr(gW!, cW) < 1e-4, `dW ${maxRelErr(gW!, cW)}`);
  assert.ok(maxRelErr(gH!, cH) < 1e-4, `dH ${maxRelErr(gH!, cH)}`);
  // and against finite differences of the float64 reference
  const fdP = finiteDiff((p) => refTerms(H64, p, n, m, K, T).Lq, Pv);
  const fdW = finiteDiff((w) => refTerms(H64, refDualLinear(H64, w, n, m, K), n, m, K, T).Lq, W64);
  const fdH = finiteDiff((h) => refTerms(h, refDualLinear(h, W64, n, m, K), n, m, K, T).Lq, H64);
  assert.ok(maxRelErr(gP!, fdP) < 1e-4);
  assert.ok(maxRelErr(gW!, fdW) < 1e-4);
  assert.ok(maxRelErr(gH!, fdH) < 1e-4);
});

test('stopgrad: the backbone gradient is the closed form with G = q/n and no path through P', () => {
  const rng = new Rng(6);
  const n = 10;
  const m = 3;
  const K = 4;
  const T = 0.5;
  const H = randF32(rng, n * m);
  const W = randF32(rng, n * K, 0.3);
  const dcl = (w: tf.Tensor2D) => (hh: tf.Tensor2D) => matMul(tf.transpose(w), hh);
  const gH = tf.tidy(() => {
    const w = tf.tensor2d(W, [n, K]);
    const f = (h: tf.Tensor): tf.Scalar =>
      ddclTerms(h as tf.Tensor2D, dcl(w), { T, distNorm: 'none', objective: 'stopgrad' }).objective;
    return tf
      .grad(f)(tf.tensor2d(H, [n, m]))
      .dataSync()
      .slice();
  });
  const gW = tf.tidy(() => {
    const f = (w: tf.Tensor): tf.Scalar =>
      ddclTerms(tf.tensor2d(H, [n, m]), dcl(w as tf.Tensor2D), { T, distNorm: 'none', objective: 'stopgrad' })
        .objective;
    return tf
      .grad(f)(tf.tensor2d(W, [n, K]))
      .dataSync()
      .slice();
  });
  const H64 = f64(H);
  const P = refDualLinear(H64, f64(W), n, m, K);
  const t = refTerms(H64, P, n, m, K, T);
  const G = refG(t.D, t.q, n, K, T, true);
  const cP = refGradP(H64, P, G, n, m, K);
  assert.ok(maxRelErr(gH, refGradH(H64, P, G, null, cP, n, m, K)) < 1e-4);
  assert.ok(maxRelErr(gW, refGradW(H64, cP, n, m, K)) < 1e-4);
});

test('ols objective differentiates L_OLS, whose value is L_q - V', () => {
  const rng = new Rng(7);
  const n = 20;
  const m = 3;
  const K = 3;
  const H = randF32(rng, n * m);
  const P = randF32(rng, K * m);
  const [obj, Lq, V] = tf.tidy(() => {
    const t = ddclTerms(tf.tensor2d(H, [n, m]), () => tf.tensor2d(P, [K, m]), {
      T: 1,
      distNorm: 'none',
      objective: 'ols',
    });
    return [t.objective, t.Lq, t.V].map((s) => s.dataSync()[0]!);
  }) as [number, number, number];
  assert.ok(Math.abs(obj - (Lq - V)) / obj < 1e-5);
});

test('uniform dual-linear W collapses every prototype to the mean: V = 0, q uniform', () => {
  const rng = new Rng(2);
  const n = 30;
  const m = 5;
  const K = 6;
  const H = randF32(rng, n * m);
  const [V, Lq, qs] = tf.tidy(() => {
    const W = tf.fill([n, K], 1 / n) as tf.Tensor2D;
    const t = ddclTerms(tf.tensor2d(H, [n, m]), (h) => matMul(tf.transpose(W), h), {
      T: 1,
      distNorm: 'median',
      objective: 'lq',
    });
    return [t.V.dataSync()[0]!, t.Lq.dataSync()[0]!, t.q.dataSync().slice()];
  }) as [number, number, Float32Array];
  assert.ok(V <= 1e-6 * Lq, `V = ${V}, L_q = ${Lq}`);
  for (const v of qs) assert.ok(Math.abs(v - 1 / K) < 1e-6);
});

test('detachedMedian is the lower median and passes no gradient', () => {
  const x = [5, 1, 4, 2, 3, 6];
  assert.equal(
    tf.tidy(() => detachedMedian(tf.tensor1d(x)).dataSync()[0]),
    3,
  );
  assert.equal(
    tf.tidy(() => detachedMedian(tf.tensor1d([7, 1, 9])).dataSync()[0]),
    7,
  );
  const g = tf.tidy(() =>
    tf
      .grad((t: tf.Tensor) => tf.add(detachedMedian(t), tf.sum(t)) as tf.Scalar)(tf.tensor1d(x))
      .dataSync()
      .slice(),
  );
  assert.deepEqual(Array.from(g), [1, 1, 1, 1, 1, 1]);
});

test('median normalisation makes the terms scale-free', () => {
  const rng = new Rng(12);
  const n = 40;
  const m = 4;
  const K = 5;
  const H = randF32(rng, n * m);
  const P = randF32(rng, K * m);
  const terms = (s: number): number[] =>
    tf.tidy(() => {
      const t = ddclTerms(
        tf.mul(tf.tensor2d(H, [n, m]), s) as tf.Tensor2D,
        () => tf.mul(tf.tensor2d(P, [K, m]), s) as tf.Tensor2D,
        {
          T: 0.5,
          distNorm: 'median',
          objective: 'lq',
        },
      );
      return [t.Lq, t.Lols, t.V].map((v) => v.dataSync()[0]!);
    });
  const a = terms(1);
  const b = terms(10);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(a[i]! - b[i]!) / a[i]! < 1e-5);
});

test('Sigmabar rows sum to zero; usage and confidence terms have their bounds', () => {
  const rng = new Rng(13);
  const n = 16;
  const K = 4;
  const logits = randF32(rng, n * K, 2);
  const [S, u, c] = tf.tidy(() => {
    const q = tf.softmax(tf.tensor2d(logits, [n, K])) as tf.Tensor2D;
    return [
      sigmaBar(q).dataSync().slice(),
      usagePenalty(q).dataSync()[0]!,
      assignmentEntropy(q).dataSync()[0]!,
    ];
  }) as [Float32Array, number, number];
  for (let a = 0; a < K; a++) {
    let s = 0;
    for (let b = 0; b < K; b++) s += S[a * K + b]!;
    assert.ok(Math.abs(s) < 1e-6);
  }
  assert.ok(u >= 0 && u <= Math.log(K));
  assert.ok(c >= 0 && c <= Math.log(K) + 1e-6);
  const uniform = tf.tidy(() => usagePenalty(tf.fill([n, K], 1 / K) as tf.Tensor2D).dataSync()[0]!);
  assert.ok(Math.abs(uniform) < 1e-6);
});

test('temperature schedule anneals from start to end', () => {
  const s = { start: 2, end: 0.5, schedule: 'geometric' as const };
  assert.equal(temperatureAt(0, 10, s), 2);
  assert.ok(Math.abs(temperatureAt(9, 10, s) - 0.5) < 1e-12);
  assert.ok(Math.abs(temperatureAt(3, 7, s) - 1) < 1e-12); // geometric midpoint
  assert.ok(Math.abs(temperatureAt(3, 7, { ...s, schedule: 'linear' }) - 1.25) < 1e-12);
  assert.equal(temperatureAt(5, 7, { ...s, schedule: 'constant' }), 2);
});
