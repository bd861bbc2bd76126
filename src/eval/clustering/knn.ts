// Exact k nearest neighbours (squared Euclidean) of every row, by blocks of tfjs matrix products:
// ||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2. The neighbour lists feed the neighbour-consistency term
// of the best clustering protocol (SCAN's "mine the nearest neighbours" step, on the inputs).
import * as tf from '@tensorflow/tfjs';
import { ClusteringError } from './errors.js';

export interface KnnGraph {
  n: number;
  k: number;
  /** n x k row-major: the k nearest other rows of each row, nearest first. */
  index: Int32Array;
}

/** The k nearest other rows of each of the n rows of X (n x d). Ties broken by lower index. */
export function knnGraph(X: Float32Array, n: number, d: number, k: number, block = 1024): KnnGraph {
  if (!Number.isInteger(k) || k < 1 || k >= n)
    throw new ClusteringError('knn k', k, `must be an integer in [1, ${n - 1}]`);
  if (X.length !== n * d) throw new ClusteringError('knn X length', X.length, `expected ${n * d}`);
  const index = new Int32Array(n * k);
  const all = tf.tensor2d(X, [n, d]);
  try {
    const sqAll = tf.tidy(() => tf.sum(tf.square(all), 1));
    for (let s = 0; s < n; s += block) {
      const rows = Math.min(block, n - s);
      // topk of -D: the k + 1 smallest distances (the row itself is among them).
      const { values, indices } = tf.tidy(() => {
        const a = tf.slice(all, [s, 0], [rows, d]);
        const sqA = tf.slice(sqAll, [s], [rows]);
        const D = tf.add(
          tf.sub(tf.expandDims(sqA, 1), tf.mul(tf.matMul(a, all, false, true), 2)),
          tf.expandDims(sqAll, 0),
        );
        const top = tf.topk(tf.neg(D), Math.min(k + 1, n), true);
        return { values: top.values.dataSync(), indices: top.indices.dataSync() };
      });
      const kk = Math.min(k + 1, n);
      for (let r = 0; r < rows; r++) {
        const i = s + r;
        let w = 0;
        for (let t = 0; t < kk && w < k; t++) {
          const j = indices[r * kk + t]!;
          if (j === i) continue;
          index[i * k + w++] = j;
        }
        // The row itself was not among the k + 1 (exact duplicates): the first k are neighbours.
        void values;
      }
    }
    sqAll.dispose();
  } finally {
    all.dispose();
  }
  return { n, k, index };
}
