// Test data and a clustering-agreement measure shared by the train tests.
import { Rng } from '../../../src/model/rng.js';

/** n rows of K Gaussian blobs in d dimensions (centres ~ N(0, sep^2), unit noise). */
export function gaussianBlobs(
  seed: number,
  n: number,
  d: number,
  K: number,
  sep = 4,
): { X: Float32Array; y: Int32Array } {
  const r = new Rng(seed);
  const C = Array.from({ length: K }, () => Array.from({ length: d }, () => sep * r.normal()));
  const X = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % K;
    for (let j = 0; j < d; j++) X[i * d + j] = C[y[i]!]![j]! + r.normal();
  }
  return { X, y };
}

function permutations(a: number[]): number[][] {
  return a.length <= 1
    ? [a]
    : a.flatMap((x, i) => permutations([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Accuracy under the best one-to-one matching of cluster ids to labels (brute force, small K). */
export function matchedAccuracy(pred: ArrayLike<number>, y: ArrayLike<number>, K: number): number {
  let best = 0;
  for (const p of permutations(Array.from({ length: K }, (_, i) => i))) {
    let s = 0;
    for (let i = 0; i < y.length; i++) if (p[pred[i]!] === y[i]) s++;
    best = Math.max(best, s);
  }
  return best / y.length;
}
