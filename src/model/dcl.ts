// The Dual Competitive Layer: prototypes as a differentiable function of the batch's embeddings.
// Prototypes are returned as rows, P in R^{K x m} (DDCL.md writes the transpose, m x K).
import * as tf from '@tensorflow/tfjs';
import type { DclVariant, DclWeights } from './types.js';
import { matMul } from './dense.js';
import { Rng } from './rng.js';
import { ConfigError, ShapeError } from './errors.js';

export interface Dcl {
  readonly variant: DclVariant;
  readonly K: number;
  /** P (K x m) from the batch embeddings H (n x m). */
  prototypes(H: tf.Tensor2D): tf.Tensor2D;
  trainable(): tf.Variable[];
  toWeights(): DclWeights;
  dispose(): void;
}

/** dual-linear: P = W^T H (rows), W in R^{n x K}; needs the same n rows in the same order. */
export class DualLinear implements Dcl {
  readonly variant = 'dual-linear' as const;
  readonly W: tf.Variable<tf.Rank.R2>;

  constructor(
    readonly n: number,
    readonly K: number,
    W: Float32Array,
  ) {
    if (W.length !== n * K) throw new ShapeError('dual-linear W', n * K, W.length);
    this.W = tf.variable(tf.tensor2d(W, [n, K]), true);
  }

  /**
   * One-hot columns on K distinct rows plus small noise, so the first prototypes are K distinct
   * data points. Never uniform: that is the collapsed start.
   */
  static init(n: number, rows: ArrayLike<number>, noise: number, seed: number): DualLinear {
    const K = rows.length;
    if (new Set(Array.from(rows)).size !== K)
      throw new ConfigError('dcl rows', Array.from(rows), 'rows must be distinct');
    const rng = new Rng(seed);
    const W = new Float32Array(n * K);
    for (let i = 0; i < W.length; i++) W[i] = noise * rng.normal();
    for (let k = 0; k < K; k++) {
      const r = rows[k]!;
      if (r < 0 || r >= n) throw new ShapeError('dcl row index', `[0, ${n})`, r);
      W[r * K + k] = 1 + W[r * K + k]!;
    }
    return new DualLinear(n, K, W);
  }

  /**
   * Column k = the indicator of cluster k divided by its size (plus noise), so that the first
   * prototypes are the cluster means of a given partition (IDEC starts from k-means the same way).
   */
  static fromLabels(labels: ArrayLike<number>, K: number, noise: number, seed: number): DualLinear {
    const n = labels.length;
    const count = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      const l = labels[i]!;
      if (!Number.isInteger(l) || l < 0 || l >= K) throw new ShapeError('cluster label', `[0, ${K})`, l);
      count[l]!++;
    }
    const empty = Array.from(count).findIndex((c) => c === 0);
    if (empty >= 0) throw new ConfigError('dcl labels', empty, 'a cluster is empty');
    const rng = new Rng(seed);
    const W = new Float32Array(n * K);
    for (let i = 0; i < W.length; i++) W[i] = (noise * rng.normal()) / n;
    for (let i = 0; i < n; i++) W[i * K + labels[i]!]! += 1 / count[labels[i]!]!;
    return new DualLinear(n, K, W);
  }

  prototypes(H: tf.Tensor2D): tf.Tensor2D {
    if (H.shape[0] !== this.n)
      throw new ShapeError('dual-linear batch rows (fixed window)', this.n, H.shape[0]);
    return matMul(tf.transpose(this.W), H);
  }

  trainable(): tf.Variable[] {
    return [this.W];
  }

  toWeights(): DclWeights {
    return { variant: 'dual-linear', n: this.n, K: this.K, W: this.W.dataSync().slice() as Float32Array };
  }

  dispose(): void {
    this.W.dispose();
  }
}

/**
 * dual-attention: A = softmax over the n rows of (H U) / tau, P = A^T H (rows). Each prototype is
 * a convex combination of the batch's embeddings; permutation-invariant and any n.
 */
export class DualAttention implements Dcl {
  readonly variant = 'dual-attention' as const;
  readonly U: tf.Variable<tf.Rank.R2>;

  constructor(
    readonly m: number,
    readonly K: number,
    U: Float32Array,
    readonly tau: number,
  ) {
    if (U.length !== m * K) throw new ShapeError('dual-attention U', m * K, U.length);
    if (!(tau > 0)) throw new ConfigError('attentionTau', tau, 'must be > 0');
    this.U = tf.variable(tf.tensor2d(U, [m, K]), true);
  }

  /**
   * Column k of U points at the embedding of a distinct data point (length `scale`), so attention
   * k starts concentrated around that point and the first prototypes are distinct.
   */
  static init(
    H: Float32Array,
    m: number,
    rows: ArrayLike<number>,
    scale: number,
    tau: number,
    noise: number,
    seed: number,
  ): DualAttention {
    const K = rows.length;
    if (new Set(Array.from(rows)).size !== K)
      throw new ConfigError('dcl rows', Array.from(rows), 'rows must be distinct');
    const C = new Float32Array(K * m);
    for (let k = 0; k < K; k++) C.set(H.subarray(rows[k]! * m, (rows[k]! + 1) * m), k * m);
    return DualAttention.fromDirections(C, m, K, scale, tau, noise, seed);
  }

  /** Column k of U = `scale` times the unit direction of row k of C (K x m), e.g. k-means centroids. */
  static fromDirections(
    C: ArrayLike<number>,
    m: number,
    K: number,
    scale: number,
    tau: number,
    noise: number,
    seed: number,
  ): DualAttention {
    if (C.length !== K * m) throw new ShapeError('dual-attention directions', K * m, C.length);
    const rng = new Rng(seed);
    const U = new Float32Array(m * K);
    for (let k = 0; k < K; k++) {
      let norm = 0;
      for (let j = 0; j < m; j++) norm += C[k * m + j]! ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < m; j++) U[j * K + k] = (scale * C[k * m + j]!) / norm + noise * rng.normal();
    }
    return new DualAttention(m, K, U, tau);
  }

  /** A^T (K x n): row k is prototype k's attention over the batch rows. */
  attention(H: tf.Tensor2D): tf.Tensor2D {
    // tf.softmax works on the last axis only, so the logits are transposed to K x n first.
    return tf.softmax(tf.div(tf.transpose(matMul(H, this.U)), this.tau)) as tf.Tensor2D;
  }

  prototypes(H: tf.Tensor2D): tf.Tensor2D {
    if (H.shape[1] !== this.m) throw new ShapeError('dual-attention embedding width', this.m, H.shape[1]);
    return matMul(this.attention(H), H);
  }

  trainable(): tf.Variable[] {
    return [this.U];
  }

  toWeights(): DclWeights {
    return {
      variant: 'dual-attention',
      m: this.m,
      K: this.K,
      U: this.U.dataSync().slice() as Float32Array,
      tau: this.tau,
    };
  }

  dispose(): void {
    this.U.dispose();
  }
}

export function dclFromWeights(w: DclWeights): Dcl {
  return w.variant === 'dual-linear'
    ? new DualLinear(w.n, w.K, w.W)
    : new DualAttention(w.m, w.K, w.U, w.tau);
}
