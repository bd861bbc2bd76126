// A plain float64 reference of DDCL.md's forward terms and closed-form gradients, for tests.
// Matrices are row-major Float64Arrays; P is K x m (row k = p_k), the transpose of DDCL.md's P.

export interface RefTerms {
  D: Float64Array; // n x K
  q: Float64Array; // n x K
  Lq: number;
  Lols: number;
  V: number;
}

/** D_ik = ||h_i - p_k||^2. */
export function refDistances(
  H: Float64Array,
  P: Float64Array,
  n: number,
  m: number,
  K: number,
): Float64Array {
  const D = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += (H[i * m + j]! - P[k * m + j]!) ** 2;
      D[i * K + k] = s;
    }
  }
  return D;
}

/** q_i = softmax_k(-D_ik / T), stabilised by the row minimum. */
export function refSoftAssign(D: Float64Array, n: number, K: number, T: number): Float64Array {
  const q = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let mn = Infinity;
    for (let k = 0; k < K; k++) mn = Math.min(mn, D[i * K + k]!);
    let z = 0;
    for (let k = 0; k < K; k++) z += q[i * K + k] = Math.exp(-(D[i * K + k]! - mn) / T);
    for (let k = 0; k < K; k++) q[i * K + k]! /= z;
  }
  return q;
}

/** L_q, L_OLS and V, each computed from its own definition (not one from the others). */
export function refTerms(
  H: Float64Array,
  P: Float64Array,
  n: number,
  m: number,
  K: number,
  T: number,
): RefTerms {
  const D = refDistances(H, P, n, m, K);
  const q = refSoftAssign(D, n, K, T);
  let Lq = 0;
  let Lols = 0;
  let V = 0;
  const r = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    r.fill(0);
    for (let k = 0; k < K; k++) {
      Lq += q[i * K + k]! * D[i * K + k]!;
      for (let j = 0; j < m; j++) r[j]! += q[i * K + k]! * P[k * m + j]!;
    }
    for (let j = 0; j < m; j++) Lols += (H[i * m + j]! - r[j]!) ** 2;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += (P[k * m + j]! - r[j]!) ** 2;
      V += q[i * K + k]! * s;
    }
  }
  return { D, q, Lq: Lq / n, Lols: Lols / n, V: V / n };
}

/** P = W^T H (rows) for the dual-linear layer, W n x K. */
export function refDualLinear(
  H: Float64Array,
  W: Float64Array,
  n: number,
  m: number,
  K: number,
): Float64Array {
  const P = new Float64Array(K * m);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const w = W[i * K + k]!;
      for (let j = 0; j < m; j++) P[k * m + j]! += w * H[i * m + j]!;
    }
  }
  return P;
}

/**
 * G_ik = dL_q/dD_ik = (1/n) q_ik (1 - (D_ik - dbar_i)/T); with `stopgrad` (q constant) G = q/n.
 */
export function refG(
  D: Float64Array,
  q: Float64Array,
  n: number,
  K: number,
  T: number,
  stopgrad = false,
): Float64Array {
  const G = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let dbar = 0;
    for (let k = 0; k < K; k++) dbar += q[i * K + k]! * D[i * K + k]!;
    for (let k = 0; k < K; k++) {
      const qk = q[i * K + k]!;
      G[i * K + k] = stopgrad ? qk / n : (qk * (1 - (D[i * K + k]! - dbar) / T)) / n;
    }
  }
  return G;
}

/** dL/dP (rows, K x m) = 2 (diag(sum_i G_ik) P - G^T H): DDCL.md's 2 (P diag(.) - H^T G), transposed. */
export function refGradP(
  H: Float64Array,
  P: Float64Array,
  G: Float64Array,
  n: number,
  m: number,
  K: number,
): Float64Array {
  const g = new Float64Array(K * m);
  for (let k = 0; k < K; k++) {
    let col = 0;
    for (let i = 0; i < n; i++) col += G[i * K + k]!;
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += G[i * K + k]! * H[i * m + j]!;
      g[k * m + j] = 2 * (col * P[k * m + j]! - s);
    }
  }
  return g;
}

/** dL/dW = H (dL/dP)^T (n x K) for P = W^T H: DDCL.md's H dL/dP. */
export function refGradW(H: Float64Array, gP: Float64Array, n: number, m: number, K: number): Float64Array {
  const g = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += H[i * m + j]! * gP[k * m + j]!;
      g[i * K + k] = s;
    }
  }
  return g;
}

/**
 * dL/dH = 2 (diag(sum_k G_ik) H - G P) + W dL/dP (n x m): the direct path and, for dual-linear,
 * the path through P (pass W = null for prototypes that do not depend on H).
 */
export function refGradH(
  H: Float64Array,
  P: Float64Array,
  G: Float64Array,
  W: Float64Array | null,
  gP: Float64Array,
  n: number,
  m: number,
  K: number,
): Float64Array {
  const g = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let k = 0; k < K; k++) row += G[i * K + k]!;
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += G[i * K + k]! * P[k * m + j]!;
      let through = 0;
      if (W) for (let k = 0; k < K; k++) through += W[i * K + k]! * gP[k * m + j]!;
      g[i * m + j] = 2 * (row * H[i * m + j]! - s) + through;
    }
  }
  return g;
}

/** dV/dP (rows) with q fixed: 2 Sigmabar P, Sigmabar = (1/n) sum_i (diag(q_i) - q_i q_i^T). */
export function refForce(P: Float64Array, q: Float64Array, n: number, m: number, K: number): Float64Array {
  const S = new Float64Array(K * K);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < K; a++) {
      S[a * K + a]! += q[i * K + a]! / n;
      for (let b = 0; b < K; b++) S[a * K + b]! -= (q[i * K + a]! * q[i * K + b]!) / n;
    }
  }
  const F = new Float64Array(K * m);
  for (let a = 0; a < K; a++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let b = 0; b < K; b++) s += S[a * K + b]! * P[b * m + j]!;
      F[a * m + j] = 2 * s;
    }
  }
  return F;
}

/** Central finite differences of f at x (float64), step h. */
export function finiteDiff(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  const y = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const x0 = y[i]!;
    y[i] = x0 + h;
    const fp = f(y);
    y[i] = x0 - h;
    const fm = f(y);
    y[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}
