// The scoring math of docs/DDCL.md "Anomaly scoring" in plain float64 JS: no runtime, no graph.
// It is the yardstick the ONNX export is tested against, written the direct way
// (d_k = sum_j (h_j - p_kj)^2) rather than the expanded form the graph uses.

import type { Activation, BackboneWeights, ScoringModel } from '../model/types.js';
import { ELU_ALPHA, L2_EPS, LEAKY_RELU_ALPHA, validateScoringModel } from './onnx/export.js';
import { ScoreInputError } from './errors.js';

/** ScoreBatch's fields in float64 (and `h`, the embeddings). */
export interface ReferenceScores {
  n: number;
  K: number;
  m: number;
  h: Float64Array;
  D: Float64Array;
  q: Float64Array;
  sMin: Float64Array;
  sQ: Float64Array;
  r: Float64Array;
  v: Float64Array;
  nearest: Int32Array;
  recon?: Float64Array;
}

/** erf by Abramowitz-Stegun 7.1.26 is too coarse (1.5e-7 abs); use a series / continued fraction. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)); converges fast here.
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // erfc x = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz, backwards).
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

export function activate(a: Activation, x: number): number {
  switch (a) {
    case 'linear':
      return x;
    case 'relu':
      return x > 0 ? x : 0;
    case 'tanh':
      return Math.tanh(x);
    case 'elu':
      return x > 0 ? x : ELU_ALPHA * (Math.exp(x) - 1);
    case 'leaky_relu':
      return x > 0 ? x : LEAKY_RELU_ALPHA * x;
    case 'gelu':
      return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
  }
}

/** Apply an MLP to n rows (row-major, width = first layer's `in`). */
export function mlpForward(w: BackboneWeights, X: ArrayLike<number>, n: number): Float64Array {
  let cur = Float64Array.from(X as ArrayLike<number>);
  w.layers.forEach((l, li) => {
    const next = new Float64Array(n * l.out);
    const last = li === w.layers.length - 1;
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < l.out; o++) {
        let s = l.b[o]!;
        for (let j = 0; j < l.in; j++) s += cur[i * l.in + j]! * l.W[j * l.out + o]!;
        next[i * l.out + o] = last ? s : activate(w.activation, s);
      }
    }
    cur = next;
  });
  return cur;
}

export function scoreReference(model: ScoringModel, X: ArrayLike<number>, n: number): ReferenceScores {
  const m = validateScoringModel(model);
  const d = model.inputDim;
  if (X.length !== n * d) throw new ScoreInputError(n, d, X.length, 'scoreReference');
  const { K, P, T, distScale } = model.prototypes;
  const h = mlpForward(model.backbone, X, n);
  if (model.embedNorm === 'l2') {
    for (let i = 0; i < n; i++) {
      let ss = 0;
      for (let j = 0; j < m; j++) ss += h[i * m + j]! ** 2;
      const inv = 1 / Math.sqrt(ss + L2_EPS);
      for (let j = 0; j < m; j++) h[i * m + j]! *= inv;
    }
  }
  const D = new Float64Array(n * K);
  const q = new Float64Array(n * K);
  const sMin = new Float64Array(n);
  const sQ = new Float64Array(n);
  const r = new Float64Array(n);
  const v = new Float64Array(n);
  const nearest = new Int32Array(n);
  const c = 1 / (distScale * T);
  const hq = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += (h[i * m + j]! - P[k * m + j]!) ** 2;
      D[i * K + k] = s;
      if (s < D[i * K + best]!) best = k;
    }
    nearest[i] = best;
    const dmin = D[i * K + best]!;
    sMin[i] = dmin;
    // softmax(-D c), shifted by the largest logit (-dmin c) for stability
    let z = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(-(D[i * K + k]! - dmin) * c);
      q[i * K + k] = e;
      z += e;
    }
    let sq = 0;
    hq.fill(0);
    for (let k = 0; k < K; k++) {
      const qk = q[i * K + k]! / z;
      q[i * K + k] = qk;
      sq += qk * D[i * K + k]!;
      for (let j = 0; j < m; j++) hq[j]! += qk * P[k * m + j]!;
    }
    sQ[i] = sq;
    let rr = 0;
    for (let j = 0; j < m; j++) rr += (h[i * m + j]! - hq[j]!) ** 2;
    r[i] = rr;
    // v = sum_k q_k ||p_k - P q||^2 directly (not s_q - r), so the test checks the identity too.
    let vv = 0;
    for (let k = 0; k < K; k++) {
      let dk = 0;
      for (let j = 0; j < m; j++) dk += (P[k * m + j]! - hq[j]!) ** 2;
      vv += q[i * K + k]! * dk;
    }
    v[i] = vv;
  }
  const out: ReferenceScores = { n, K, m, h, D, q, sMin, sQ, r, v, nearest };
  if (model.decoder !== undefined) {
    const xhat = mlpForward(model.decoder, h, n);
    const recon = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (X[i * d + j]! - xhat[i * d + j]!) ** 2;
      recon[i] = s / d;
    }
    out.recon = recon;
  }
  return out;
}
