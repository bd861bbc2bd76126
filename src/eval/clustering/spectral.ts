// The manifold step of the best clustering protocol (N2D's idea, with a Laplacian eigenmap in
// place of UMAP): a symmetric k-NN graph over an embedding, its normalised affinity
// M = D^-1/2 W D^-1/2, and the span of M's top `dims` eigenvectors, rows scaled to unit length
// (Ng, Jordan and Weiss). DDCL then trains its prototypes in that space. Everything is float64
// plain JS over the sparse graph: n x k edges, so MNIST's 10000 rows cost seconds.
import { Rng } from '../../model/rng.js';
import { ClusteringError } from './errors.js';
import type { KnnGraph } from './knn.js';

/** A symmetric sparse matrix in compressed rows. */
export interface SparseSym {
  n: number;
  rowStart: Int32Array;
  col: Int32Array;
  val: Float64Array;
}

/**
 * The union of the k-NN relation (i ~ j when either lists the other), weighted
 * exp(-d_ij^2 / (sigma_i sigma_j)) with sigma_i the distance to i's k-th neighbour (self-tuning,
 * Zelnik-Manor and Perona), then normalised to D^-1/2 W D^-1/2.
 */
export function normalisedAffinity(X: ArrayLike<number>, n: number, d: number, graph: KnnGraph): SparseSym {
  if (graph.n !== n) throw new ClusteringError('graph n', graph.n, `expected ${n}`);
  const k = graph.k;
  const dist = (i: number, j: number): number => {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const u = X[i * d + t]! - X[j * d + t]!;
      s += u * u;
    }
    return s;
  };
  const sigma = new Float64Array(n);
  for (let i = 0; i < n; i++) sigma[i] = Math.sqrt(dist(i, graph.index[i * k + k - 1]!)) || 1e-12;
  // Edges i -> j from both directions; duplicates merged below.
  const nbrs: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++)
    for (let t = 0; t < k; t++) {
      const j = graph.index[i * k + t]!;
      if (j === i) continue;
      const w = Math.exp(-dist(i, j) / (sigma[i]! * sigma[j]!));
      nbrs[i]!.set(j, w);
      nbrs[j]!.set(i, w);
    }
  const deg = new Float64Array(n);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    for (const w of nbrs[i]!.values()) deg[i]! += w;
    nnz += nbrs[i]!.size;
  }
  const rowStart = new Int32Array(n + 1);
  const col = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  let p = 0;
  for (let i = 0; i < n; i++) {
    rowStart[i] = p;
    for (const [j, w] of nbrs[i]!) {
      col[p] = j;
      val[p++] = w / Math.sqrt((deg[i]! || 1) * (deg[j]! || 1));
    }
  }
  rowStart[n] = p;
  return { n, rowStart, col, val };
}

/** Orthonormalises the columns of Q (n x b, row-major) in place (modified Gram-Schmidt). */
function orthonormalise(Q: Float64Array, n: number, b: number): void {
  for (let c = 0; c < b; c++) {
    for (let pass = 0; pass < 2; pass++)
      for (let e = 0; e < c; e++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += Q[i * b + c]! * Q[i * b + e]!;
        for (let i = 0; i < n; i++) Q[i * b + c]! -= dot * Q[i * b + e]!;
      }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += Q[i * b + c]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < n; i++) Q[i * b + c]! /= norm;
  }
}

export interface EigenmapOptions {
  dims: number;
  /** Subspace-iteration steps at most. */
  maxIter: number;
  /** Stop when 1 - (smallest cosine between the old and new subspaces) falls below this. */
  tol: number;
  seed: number;
  /**
   * Extra vectors carried in the block (0: the plain iteration of `dims` vectors). With any, the
   * block is rotated to its Ritz vectors every 10 steps and convergence is judged on the wanted
   * vectors' residuals ||M q - theta q|| alone, so a small gap after the dims-th eigenvalue no
   * longer leaves the span (and so the seed) deciding the result.
   */
  oversample: number;
  /** Drop the top (trivial, sqrt-degree) eigenvector and keep the next `dims` (UMAP's choice). */
  skipTrivial: boolean;
}

export interface Eigenmap {
  /** n x dims, row-major, rows of unit length. */
  Y: Float32Array;
  dims: number;
  iterations: number;
}

/**
 * The span of the top `dims` eigenvectors of M (eigenvalues in [-1, 1]) by subspace iteration on
 * (M + I) / 2, which has the same eigenvectors and a non-negative spectrum. Only the span is
 * needed: after the rows are normalised, a rotation of the basis rotates every row alike and
 * leaves all distances (and so k-means and DDCL) unchanged.
 */
export function laplacianEigenmap(M: SparseSym, opts: Partial<EigenmapOptions> = {}): Eigenmap {
  const o: EigenmapOptions = {
    dims: 10,
    maxIter: 3000,
    tol: 1e-9,
    seed: 0,
    oversample: 0,
    skipTrivial: false,
    ...opts,
  };
  const { n } = M;
  const b = o.dims;
  if (!Number.isInteger(b) || b < 1 || b >= n)
    throw new ClusteringError('eigenmap dims', b, `must be an integer in [1, ${n - 1}]`);
  if (o.oversample > 0 || o.skipTrivial) return ritzEigenmap(M, o);
  let Q = randomBlock(n, b, o.seed);
  let Z = new Float64Array(n * b);
  let it = 0;
  for (; it < o.maxIter; it++) {
    halfShiftedProduct(M, Q, Z, b);
    orthonormalise(Z, n, b);
    // Convergence: every new column lies in the old span (residual of its projection).
    let worst = 0;
    if (it % 10 === 9) {
      const G = new Float64Array(b * b);
      for (let i = 0; i < n; i++)
        for (let c = 0; c < b; c++)
          for (let e = 0; e < b; e++) G[c * b + e]! += Z[i * b + c]! * Q[i * b + e]!;
      for (let c = 0; c < b; c++) {
        let s = 0;
        for (let e = 0; e < b; e++) s += G[c * b + e]! ** 2;
        worst = Math.max(worst, 1 - s);
      }
    }
    [Q, Z] = [Z, Q];
    if (it % 10 === 9 && worst < o.tol) {
      it++;
      break;
    }
  }
  const Y = new Float32Array(n * b);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let c = 0; c < b; c++) norm += Q[i * b + c]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let c = 0; c < b; c++) Y[i * b + c] = Q[i * b + c]! / norm;
  }
  return { Y, dims: b, iterations: it };
}

/** A random n x b block (row-major) with orthonormal columns, the start of the subspace iterations. */
function randomBlock(n: number, b: number, seed: number): Float64Array<ArrayBuffer> {
  const rng = new Rng(seed);
  const Q = new Float64Array(n * b);
  for (let i = 0; i < Q.length; i++) Q[i] = rng.normal();
  orthonormalise(Q, n, b);
  return Q;
}

/** Z = (M + I) / 2 times Q, both n x b row-major. */
function halfShiftedProduct(M: SparseSym, Q: Float64Array, Z: Float64Array, b: number): void {
  const { n, rowStart, col, val } = M;
  Z.fill(0);
  for (let i = 0; i < n; i++) {
    const zi = i * b;
    for (let p = rowStart[i]!; p < rowStart[i + 1]!; p++) {
      const w = val[p]!;
      const qj = col[p]! * b;
      for (let c = 0; c < b; c++) Z[zi + c]! += w * Q[qj + c]!;
    }
    for (let c = 0; c < b; c++) Z[zi + c] = 0.5 * (Z[zi + c]! + Q[zi + c]!);
  }
}

/** Eigen-decomposition of a small symmetric matrix (b x b, row-major) by cyclic Jacobi. */
export function symmetricEigen(A: Float64Array, b: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(b * b);
  for (let i = 0; i < b; i++) v[i * b + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < b; p++) for (let q = p + 1; q < b; q++) off += a[p * b + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < b; p++)
      for (let q = p + 1; q < b; q++) {
        const apq = a[p * b + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * b + q]! - a[p * b + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < b; k++) {
          const akp = a[k * b + p]!;
          const akq = a[k * b + q]!;
          a[k * b + p] = c * akp - s * akq;
          a[k * b + q] = s * akp + c * akq;
        }
        for (let k = 0; k < b; k++) {
          const apk = a[p * b + k]!;
          const aqk = a[q * b + k]!;
          a[p * b + k] = c * apk - s * aqk;
          a[q * b + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < b; k++) {
          const vkp = v[k * b + p]!;
          const vkq = v[k * b + q]!;
          v[k * b + p] = c * vkp - s * vkq;
          v[k * b + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(b);
  for (let i = 0; i < b; i++) values[i] = a[i * b + i]!;
  return { values, vectors: v };
}

/**
 * Subspace iteration with `oversample` extra vectors and Rayleigh-Ritz every 10 steps: the block
 * is rotated to its Ritz vectors (eigenvalues descending) and the wanted ones (the top `dims`, or
 * the `dims` after the trivial one) stop when every residual ||S q - theta q|| is below tol.
 */
function ritzEigenmap(M: SparseSym, o: EigenmapOptions): Eigenmap {
  const n = M.n;
  const first = o.skipTrivial ? 1 : 0;
  const want = first + o.dims;
  const b = Math.min(n, want + Math.max(0, o.oversample));
  let Q = randomBlock(n, b, o.seed);
  let Z = new Float64Array(n * b);
  let it = 0;
  const ritz = (): number => {
    // Q orthonormal; Z = S Q. B = Q^T Z, then Q <- Q V, Z <- Z V sorted by eigenvalue.
    halfShiftedProduct(M, Q, Z, b);
    const B = new Float64Array(b * b);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < b; c++) {
        const q = Q[i * b + c]!;
        for (let e = 0; e < b; e++) B[c * b + e]! += q * Z[i * b + e]!;
      }
    for (let c = 0; c < b; c++)
      for (let e = c + 1; e < b; e++) B[c * b + e] = B[e * b + c] = 0.5 * (B[c * b + e]! + B[e * b + c]!);
    const { values, vectors } = symmetricEigen(B, b);
    const order = Array.from({ length: b }, (_, i) => i).sort((x, y) => values[y]! - values[x]!);
    const Qn = new Float64Array(n * b);
    const Zn = new Float64Array(n * b);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < b; c++) {
        const oc = order[c]!;
        let sq = 0;
        let sz = 0;
        for (let e = 0; e < b; e++) {
          sq += Q[i * b + e]! * vectors[e * b + oc]!;
          sz += Z[i * b + e]! * vectors[e * b + oc]!;
        }
        Qn[i * b + c] = sq;
        Zn[i * b + c] = sz;
      }
    Q = Qn;
    let worst = 0;
    for (let c = 0; c < want; c++) {
      const theta = values[order[c]!]!;
      let r = 0;
      for (let i = 0; i < n; i++) r += (Zn[i * b + c]! - theta * Qn[i * b + c]!) ** 2;
      worst = Math.max(worst, Math.sqrt(r));
    }
    return worst;
  };
  for (; it < o.maxIter; it++) {
    if (it % 10 === 0 && it > 0 && ritz() < o.tol) break;
    halfShiftedProduct(M, Q, Z, b);
    orthonormalise(Z, n, b);
    [Q, Z] = [Z, Q];
  }
  if (it >= o.maxIter) ritz();
  const Y = new Float32Array(n * o.dims);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let c = first; c < want; c++) norm += Q[i * b + c]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let c = first; c < want; c++) Y[i * o.dims + c - first] = Q[i * b + c]! / norm;
  }
  return { Y, dims: o.dims, iterations: it };
}

/**
 * UMAP's fuzzy graph over a k-NN list (McInnes, Healy and Melville, 2018): for row i,
 * w_ij = exp(-(d_ij - rho_i) / sigma_i) with rho_i the distance to the nearest neighbour and
 * sigma_i chosen so that sum_j w_ij = log2(k); then UMAP's set_op_mix_ratio blend of the fuzzy
 * union w + w^T - w o w^T (mix = 1, UMAP's default) and the intersection w o w^T (mix = 0: only
 * mutual neighbours keep an edge). Returned as an edge list (i < j), weights in [0, 1].
 */
export function fuzzyGraph(
  X: ArrayLike<number>,
  n: number,
  d: number,
  graph: KnnGraph,
  mix = 1,
): { from: Int32Array; to: Int32Array; w: Float64Array } {
  if (!(mix >= 0 && mix <= 1)) throw new ClusteringError('mix', mix, 'must be in [0, 1]');
  if (graph.n !== n) throw new ClusteringError('graph n', graph.n, `expected ${n}`);
  const k = graph.k;
  const target = Math.log2(k);
  const dists = new Float64Array(k);
  const directed: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = graph.index[i * k + t]!;
      let s = 0;
      for (let c = 0; c < d; c++) {
        const u = X[i * d + c]! - X[j * d + c]!;
        s += u * u;
      }
      dists[t] = Math.sqrt(s);
    }
    let rho = Infinity;
    for (const v of dists) if (v > 0 && v < rho) rho = v;
    if (!Number.isFinite(rho)) rho = 0;
    let lo = 0;
    let hi = Infinity;
    let sigma = 1;
    for (let step = 0; step < 64; step++) {
      let s = 0;
      for (const v of dists) s += Math.exp(-Math.max(0, v - rho) / sigma);
      if (Math.abs(s - target) < 1e-5) break;
      if (s > target) {
        hi = sigma;
        sigma = (lo + hi) / 2;
      } else {
        lo = sigma;
        sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
      }
    }
    for (let t = 0; t < k; t++)
      directed[i]!.set(graph.index[i * k + t]!, Math.exp(-Math.max(0, dists[t]! - rho) / sigma));
  }
  const from: number[] = [];
  const to: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < n; i++)
    for (const [j, a] of directed[i]!) {
      const b = directed[j]!.get(i);
      if (b !== undefined && j < i) continue; // counted from the smaller index
      const both = b === undefined ? 0 : a * b;
      const v = mix * (a + (b ?? 0) - both) + (1 - mix) * both;
      if (v <= 0) continue;
      from.push(Math.min(i, j));
      to.push(Math.max(i, j));
      w.push(v);
    }
  return { from: Int32Array.from(from), to: Int32Array.from(to), w: Float64Array.from(w) };
}

export interface UmapOptions {
  epochs: number;
  /** Negative samples per positive edge. */
  negatives: number;
  /** The low-dimensional kernel 1 / (1 + a d^2b); a = 1.929, b = 0.7915 is UMAP's min_dist = 0. */
  a: number;
  b: number;
  learningRate: number;
  seed: number;
}

/**
 * UMAP's layout: starting from `init` (n x dims, e.g. the Laplacian eigenmap, scaled so that the
 * largest |coordinate| is 10), stochastic gradient steps that pull the ends of each edge together
 * (sampled with probability w / max w per epoch) and push `negatives` random rows apart, with
 * UMAP's gradient clipping at 4 and a learning rate decaying linearly to 0. Returns a new array.
 */
export function umapLayout(
  init: ArrayLike<number>,
  n: number,
  dims: number,
  edges: { from: Int32Array; to: Int32Array; w: Float64Array },
  opts: Partial<UmapOptions> = {},
): Float32Array {
  const o: UmapOptions = {
    epochs: 200,
    negatives: 5,
    a: 1.929,
    b: 0.7915,
    learningRate: 1,
    seed: 0,
    ...opts,
  };
  const Y = new Float64Array(n * dims);
  let mx = 0;
  for (let i = 0; i < n * dims; i++) mx = Math.max(mx, Math.abs(init[i]!));
  for (let i = 0; i < n * dims; i++) Y[i] = (10 * init[i]!) / (mx || 1);
  const rng = new Rng(o.seed);
  let wmax = 0;
  for (const v of edges.w) wmax = Math.max(wmax, v);
  const { a, b } = o;
  const clip = (g: number): number => (g > 4 ? 4 : g < -4 ? -4 : g);
  const m = edges.w.length;
  for (let e = 0; e < o.epochs; e++) {
    const alpha = o.learningRate * (1 - e / o.epochs);
    for (let t = 0; t < m; t++) {
      if (rng.next() * wmax > edges.w[t]!) continue;
      // Both directions, as UMAP's symmetric graph holds each edge twice.
      for (let dir = 0; dir < 2; dir++) {
        const i = dir === 0 ? edges.from[t]! : edges.to[t]!;
        const j = dir === 0 ? edges.to[t]! : edges.from[t]!;
        let d2 = 0;
        for (let c = 0; c < dims; c++) d2 += (Y[i * dims + c]! - Y[j * dims + c]!) ** 2;
        if (d2 > 0) {
          const coef = (-2 * a * b * Math.pow(d2, b - 1)) / (1 + a * Math.pow(d2, b));
          for (let c = 0; c < dims; c++) {
            const g = clip(coef * (Y[i * dims + c]! - Y[j * dims + c]!));
            Y[i * dims + c]! += alpha * g;
            Y[j * dims + c]! -= alpha * g;
          }
        }
        for (let s = 0; s < o.negatives; s++) {
          const r = rng.int(n);
          if (r === i) continue;
          let q2 = 0;
          for (let c = 0; c < dims; c++) q2 += (Y[i * dims + c]! - Y[r * dims + c]!) ** 2;
          const coef = q2 > 0 ? (2 * b) / ((0.001 + q2) * (1 + a * Math.pow(q2, b))) : 0;
          for (let c = 0; c < dims; c++) {
            const g = coef > 0 ? clip(coef * (Y[i * dims + c]! - Y[r * dims + c]!)) : 4;
            Y[i * dims + c]! += alpha * g;
          }
        }
      }
    }
  }
  return Float32Array.from(Y);
}
