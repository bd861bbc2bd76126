// k-means in plain float64 JS: k-means++ seeding, Lloyd iterations, n_init restarts, seeded.
// Used for baselines (raw and embedded inputs), DeepCluster pseudo-labels and DCL initialisation.
import { Rng } from './rng.js';
import { ConfigError, ShapeError } from './errors.js';

export interface KMeansOptions {
  /** Restarts; the run with the lowest inertia wins (sklearn's n_init). */
  nInit: number;
  maxIter: number;
  /** Stop when the total squared centroid shift falls below tol times the mean column variance. */
  tol: number;
  seed: number;
}

export interface KMeansResult {
  /** K x d, row-major. */
  centroids: Float64Array;
  labels: Int32Array;
  /** Sum of squared distances to the assigned centroid. */
  inertia: number;
  iterations: number;
}

type Rows = ArrayLike<number>;

function sq(X: Rows, i: number, C: Rows, k: number, d: number): number {
  let s = 0;
  const a = i * d;
  const b = k * d;
  for (let j = 0; j < d; j++) {
    const t = X[a + j]! - C[b + j]!;
    s += t * t;
  }
  return s;
}

/** k-means++ seeding: K distinct row indices, each drawn with probability proportional to D^2. */
export function kmeansPlusPlus(X: Rows, n: number, d: number, K: number, rng: Rng): Int32Array {
  if (K > n) throw new ConfigError('K', K, `more clusters than rows (${n})`);
  const seeds = new Int32Array(K);
  const chosen = new Uint8Array(n);
  const dist = new Float64Array(n).fill(Infinity);
  seeds[0] = rng.int(n);
  chosen[seeds[0]] = 1;
  for (let c = 1; c < K; c++) {
    const prev = seeds[c - 1]!;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dd = sq(X, i, X, prev, d);
      if (dd < dist[i]!) dist[i] = dd;
      if (!chosen[i]) total += dist[i]!;
    }
    let pick = -1;
    if (total > 0) {
      let u = rng.next() * total;
      for (let i = 0; i < n; i++) {
        if (chosen[i]) continue;
        u -= dist[i]!;
        if (u <= 0) {
          pick = i;
          break;
        }
      }
    }
    // Duplicated rows leave no mass: fall back to any unchosen row so the seeds stay distinct.
    if (pick < 0) for (let i = 0; i < n && pick < 0; i++) if (!chosen[i]) pick = i;
    seeds[c] = pick;
    chosen[pick] = 1;
  }
  return seeds;
}

function assign(
  X: Rows,
  n: number,
  d: number,
  C: Float64Array,
  K: number,
  labels: Int32Array,
  dmin: Float64Array,
): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    let bk = 0;
    for (let k = 0; k < K; k++) {
      const dd = sq(X, i, C, k, d);
      if (dd < best) {
        best = dd;
        bk = k;
      }
    }
    labels[i] = bk;
    dmin[i] = best;
    inertia += best;
  }
  return inertia;
}

function lloyd(
  X: Rows,
  n: number,
  d: number,
  K: number,
  seeds: Int32Array,
  maxIter: number,
  tolAbs: number,
): KMeansResult {
  const C = new Float64Array(K * d);
  for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) C[k * d + j] = X[seeds[k]! * d + j]!;
  const labels = new Int32Array(n);
  const dmin = new Float64Array(n);
  const next = new Float64Array(K * d);
  const count = new Float64Array(K);
  let inertia = assign(X, n, d, C, K, labels, dmin);
  let it = 0;
  while (it < maxIter) {
    it++;
    next.fill(0);
    count.fill(0);
    for (let i = 0; i < n; i++) {
      const k = labels[i]!;
      count[k]!++;
      for (let j = 0; j < d; j++) next[k * d + j]! += X[i * d + j]!;
    }
    for (let k = 0; k < K; k++) {
      if (count[k] === 0) {
        // Empty cluster: move it to the row farthest from its centroid (sklearn does the same).
        let far = 0;
        for (let i = 1; i < n; i++) if (dmin[i]! > dmin[far]!) far = i;
        for (let j = 0; j < d; j++) next[k * d + j] = X[far * d + j]!;
        dmin[far] = 0;
      } else {
        for (let j = 0; j < d; j++) next[k * d + j]! /= count[k]!;
      }
    }
    let shift = 0;
    for (let t = 0; t < C.length; t++) shift += (C[t]! - next[t]!) ** 2;
    C.set(next);
    inertia = assign(X, n, d, C, K, labels, dmin);
    if (shift <= tolAbs) break;
  }
  return { centroids: C, labels, inertia, iterations: it };
}

/** Lloyd's k-means with k-means++ seeding, best of `nInit` seeded restarts. */
export function kmeans(
  X: Rows,
  n: number,
  d: number,
  K: number,
  opts: Partial<KMeansOptions> = {},
): KMeansResult {
  const o: KMeansOptions = { nInit: 10, maxIter: 300, tol: 1e-4, seed: 0, ...opts };
  if (X.length !== n * d) throw new ShapeError('kmeans X', n * d, X.length);
  if (!Number.isInteger(K) || K < 1) throw new ConfigError('K', K, 'must be a positive integer');
  if (!Number.isInteger(o.nInit) || o.nInit < 1)
    throw new ConfigError('nInit', o.nInit, 'must be a positive integer');
  // sklearn's tolerance is relative to the data's mean variance.
  let meanVar = 0;
  for (let j = 0; j < d; j++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = X[i * d + j]!;
      s += v;
      s2 += v * v;
    }
    meanVar += s2 / n - (s / n) ** 2;
  }
  const tolAbs = (o.tol * meanVar) / d;
  const rng = new Rng(o.seed);
  let best: KMeansResult | null = null;
  for (let r = 0; r < o.nInit; r++) {
    const res = lloyd(X, n, d, K, kmeansPlusPlus(X, n, d, K, rng), o.maxIter, tolAbs);
    if (!best || res.inertia < best.inertia) best = res;
  }
  return best!;
}
