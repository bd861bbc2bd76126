// The float64 reference: the decomposition L_q = L_OLS + V and the closed-form gradients of
// DDCL.md against central finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/model/rng.js';
import {
  finiteDiff,
  refDistances,
  refDualLinear,
  refForce,
  refG,
  refGradH,
  refGradP,
  refGradW,
  refSoftAssign,
  refTerms,
} from '../../../src/model/reference.js';

const rand = (rng: Rng, len: number, s = 1): Float64Array =>
  Float64Array.from({ length: len }, () => s * rng.normal());

function maxRelErr(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

test('L_q = L_OLS + V to 1e-9 relative on random inputs, V >= 0', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 20; trial++) {
    const n = 5 + rng.int(40);
    const m = 1 + rng.int(8);
    const K = 2 + rng.int(8);
    const T = 0.05 + 3 * rng.next();
    const t = refTerms(rand(rng, n * m, 2), rand(rng, K * m, 2), n, m, K, T);
    assert.ok(t.V >= 0, `V = ${t.V}`);
    assert.ok(Math.abs(t.Lq - t.Lols - t.V) / t.Lq <= 1e-9, `trial ${trial}: ${t.Lq} vs ${t.Lols} + ${t.V}`);
  }
});

test('G = dL_q/dD matches finite differences of L_q(D)', () => {
  const rng = new Rng(3);
  const n = 7;
  const K = 4;
  const T = 0.7;
  const D = Float64Array.from({ length: n * K }, () => 3 * rng.next());
  const Lq = (Dv: Float64Array): number => {
    const q = refSoftAssign(Dv, n, K, T);
    let s = 0;
    for (let i = 0; i < n * K; i++) s += q[i]! * Dv[i]!;
    return s / n;
  };
  const G = refG(D, refSoftAssign(D, n, K, T), n, K, T);
  assert.ok(maxRelErr(G, finiteDiff(Lq, D)) < 1e-7);
  // Each row of G sums to 1/n (DDCL.md).
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += G[i * K + k]!;
    assert.ok(Math.abs(s - 1 / n) < 1e-12);
  }
});

test('dual-linear closed forms dL/dP, dL/dW, dL/dH match finite differences', () => {
  const rng = new Rng(5);
  const n = 9;
  const m = 3;
  const K = 3;
  const T = 0.9;
  const H = rand(rng, n * m);
  const W = rand(rng, n * K, 0.4);
  const P = refDualLinear(H, W, n, m, K);
  const t = refTerms(H, P, n, m, K, T);
  const G = refG(t.D, t.q, n, K, T);
  const gP = refGradP(H, P, G, n, m, K);
  // dL/dP with P free (H fixed).
  assert.ok(
    maxRelErr(
      gP,
      finiteDiff((Pv) => refTerms(H, Pv, n, m, K, T).Lq, P),
    ) < 1e-6,
  );
  // dL/dW through P = W^T H.
  const gW = refGradW(H, gP, n, m, K);
  assert.ok(
    maxRelErr(
      gW,
      finiteDiff((Wv) => refTerms(H, refDualLinear(H, Wv, n, m, K), n, m, K, T).Lq, W),
    ) < 1e-6,
  );
  // dL/dH: direct path plus the path through P.
  const gH = refGradH(H, P, G, W, gP, n, m, K);
  assert.ok(
    maxRelErr(
      gH,
      finiteDiff((Hv) => refTerms(Hv, refDualLinear(Hv, W, n, m, K), n, m, K, T).Lq, H),
    ) < 1e-6,
  );
});

test('with q fixed, dV/dP = 2 Sigmabar P', () => {
  const rng = new Rng(8);
  const n = 6;
  const m = 2;
  const K = 4;
  const H = rand(rng, n * m);
  const P = rand(rng, K * m);
  const q = refSoftAssign(refDistances(H, P, n, m, K), n, K, 1);
  const Vfixed = (Pv: Float64Array): number => {
    let V = 0;
    for (let i = 0; i < n; i++) {
      const r = new Float64Array(m);
      for (let k = 0; k < K; k++) for (let j = 0; j < m; j++) r[j]! += q[i * K + k]! * Pv[k * m + j]!;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let j = 0; j < m; j++) s += (Pv[k * m + j]! - r[j]!) ** 2;
        V += q[i * K + k]! * s;
      }
    }
    return V / n;
  };
  assert.ok(maxRelErr(refForce(P, q, n, m, K), finiteDiff(Vfixed, P)) < 1e-6);
});

test('coincident prototypes give V = 0 and uniform q (the collapsed point)', () => {
  const rng = new Rng(9);
  const n = 10;
  const m = 3;
  const K = 5;
  const H = rand(rng, n * m);
  const W = new Float64Array(n * K).fill(1 / n); // uniform W: every prototype is the mean
  const t = refTerms(H, refDualLinear(H, W, n, m, K), n, m, K, 1);
  assert.ok(t.V < 1e-20, `V = ${t.V}`);
  for (const v of t.q) assert.ok(Math.abs(v - 1 / K) < 1e-12);
});
