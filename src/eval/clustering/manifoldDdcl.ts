// The best protocol's DDCL: a manifold embedding of the inputs (N2D's recipe: a k-NN graph, its
// Laplacian eigenmap, then a UMAP layout started from it), and a DDCL layer (dual-attention)
// trained on L_q (or an ablation's objective) over that embedding. The prototypes, the soft
// assignments and the hard clusters all come from the DCL: P = A^T H, q = softmax(-D / (s T)),
// cluster = argmin_k D against the prototypes of the whole table. No labels anywhere.
import * as tf from '@tensorflow/tfjs';
import { DualAttention } from '../../model/dcl.js';
import { kmeans } from '../../model/kmeans.js';
import type { Objective } from '../../model/loss.js';
import { matMul } from '../../model/dense.js';
import {
  ddclTerms,
  prototypeSeparation,
  sigmaBar,
  sqDistances,
  temperatureAt,
  usagePenalty,
} from '../../model/loss.js';
import { Rng } from '../../model/rng.js';
import { TrainingDivergedError } from '../../model/errors.js';
import type { TemperatureSchedule } from '../../train/config.js';
import type { CurveRow } from './curves.js';
import { ClusteringError } from './errors.js';
import { knnGraph, type KnnGraph } from './knn.js';
import { fuzzyGraph, laplacianEigenmap, normalisedAffinity, umapLayout } from './spectral.js';

export interface ManifoldConfig {
  /** Neighbours per row of the input-space graph. */
  knn: number;
  /** Width of the embedding (eigenvectors, then layout dimensions). */
  dims: number;
  /** 'eigenmap': the row-normalised eigenvectors; 'umap': a UMAP layout started from them. */
  layout: 'eigenmap' | 'umap';
  umapEpochs: number;
  /** UMAP's set_op_mix_ratio: 1 fuzzy union (UMAP's default), 0 intersection (mutual k-NN). */
  mix: number;
}

/**
 * The embedding DDCL trains on: n x dims, columns centred and scaled to unit variance, rows
 * scaled to unit length (so the dual-attention logits h . u are a monotone function of the
 * distance to u's direction). `graph` may be passed when already built over X with c.knn.
 */
export function manifoldEmbedding(
  X: Float32Array,
  n: number,
  d: number,
  c: ManifoldConfig,
  seed: number,
  graph?: KnnGraph,
): Float32Array {
  const g = graph ?? knnGraph(X, n, d, c.knn);
  if (g.k !== c.knn || g.n !== n) throw new ClusteringError('graph', g.k, `expected k = ${c.knn}, n = ${n}`);
  const E = laplacianEigenmap(normalisedAffinity(X, n, d, g), { dims: c.dims, tol: 1e-7, seed });
  let Y = E.Y;
  if (c.layout === 'umap')
    Y = umapLayout(E.Y, n, c.dims, fuzzyGraph(X, n, d, g, c.mix), { epochs: c.umapEpochs, seed });
  return standardiseRows(Y, n, c.dims);
}

/** Columns to zero mean and unit variance, then rows to unit length (a copy). */
export function standardiseRows(Y: ArrayLike<number>, n: number, m: number): Float32Array {
  const out = new Float32Array(n * m);
  for (let j = 0; j < m; j++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      s += Y[i * m + j]!;
      s2 += Y[i * m + j]! ** 2;
    }
    const mu = s / n;
    const sd = Math.sqrt(Math.max(s2 / n - mu * mu, 0)) || 1;
    for (let i = 0; i < n; i++) out[i * m + j] = (Y[i * m + j]! - mu) / sd;
  }
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < m; j++) norm += out[i * m + j]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < m; j++) out[i * m + j]! /= norm;
  }
  return out;
}

export interface DdclHeadConfig {
  K: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Dual-attention temperature and the length of U's columns at the k-means start. */
  tau: number;
  initScale: number;
  /** k-means restarts for the start; the lowest inertia wins (no labels). */
  kmeansInit: number;
  usageWeight: number;
  temperature: TemperatureSchedule;
}

export interface DdclHeadResult {
  labels: Int32Array;
  history: CurveRow[];
  /** K x m prototypes of the whole table after training. */
  prototypes: Float32Array;
}

/**
 * Trains a dual-attention DCL on the fixed embedding H (n x m): U starts at the directions of the
 * k-means centroids, then Adam on objective + usageWeight * usage over random mini-batches.
 */
export function trainDdclHead(
  H: Float32Array,
  n: number,
  m: number,
  c: DdclHeadConfig,
  objective: Objective,
  seed: number,
): DdclHeadResult {
  if (H.length !== n * m) throw new ClusteringError('embedding length', H.length, `expected ${n * m}`);
  if (!Number.isInteger(c.epochs) || c.epochs < 0)
    throw new ClusteringError('epochs', c.epochs, 'an integer >= 0');
  const km = kmeans(H, n, m, c.K, { nInit: c.kmeansInit, seed });
  const dcl = DualAttention.fromDirections(km.centroids, m, c.K, c.initScale, c.tau, 0, seed);
  const Ht = tf.tensor2d(H, [n, m]);
  const opt = tf.train.adam(c.lr);
  const rng = new Rng(seed + 7919);
  const history: CurveRow[] = [];
  try {
    const bs = Math.min(c.batchSize, n);
    const steps = Math.max(1, Math.round(n / bs));
    for (let e = 0; e < c.epochs; e++) {
      const T = temperatureAt(e, c.epochs, c.temperature);
      const perm = rng.permutation(n);
      const rows: Float32Array[] = [];
      for (let s = 0; s < steps; s++) {
        const idx = perm.subarray(Math.floor((s * n) / steps), Math.floor(((s + 1) * n) / steps));
        const hb = tf.tidy(() => tf.gather(Ht, tf.tensor1d(idx, 'int32')) as tf.Tensor2D);
        let metrics: tf.Tensor1D | null = null;
        const { value, grads } = tf.variableGrads(() => {
          const t = ddclTerms(hb, (B) => dcl.prototypes(B), { T, distNorm: 'median', objective });
          let total: tf.Scalar = t.objective;
          if (c.usageWeight > 0) total = tf.add(total, tf.mul(usagePenalty(t.q), c.usageWeight));
          const force = tf.div(tf.norm(tf.mul(matMul(sigmaBar(t.q), t.P), 2)), t.scale);
          metrics = tf.keep(
            tf.stack([
              t.Lq,
              t.Lols,
              t.V,
              tf.abs(tf.sub(tf.sub(t.Lq, t.Lols), t.V)),
              prototypeSeparation(t.P),
              force,
              total,
            ]) as tf.Tensor1D,
          );
          return total;
        }, dcl.trainable());
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        tf.dispose([value, hb, ...Object.values(grads)]);
        rows.push((metrics as tf.Tensor1D | null)!.dataSync() as Float32Array);
        (metrics as tf.Tensor1D | null)?.dispose();
      }
      const mean = (j: number): number => rows.reduce((a, r) => a + r[j]!, 0) / rows.length;
      if (!Number.isFinite(mean(6))) throw new TrainingDivergedError(e, 'total loss', mean(6));
      history.push({
        epoch: e,
        T,
        Lq: mean(0),
        Lols: mean(1),
        V: mean(2),
        identityGap: mean(3),
        minV: Math.min(...rows.map((r) => r[2]!)),
        separation: mean(4),
        forceNorm: mean(5),
      });
    }
    const { labels, P } = tf.tidy(() => {
      const P = dcl.prototypes(Ht);
      return { labels: tf.argMin(sqDistances(Ht, P), 1).dataSync(), P: P.dataSync() };
    });
    return { labels: Int32Array.from(labels), history, prototypes: Float32Array.from(P) };
  } finally {
    Ht.dispose();
    dcl.dispose();
    opt.dispose();
  }
}
