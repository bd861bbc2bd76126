// The DDCL loss in tfjs, with the names of DDCL.md: D, q, L_q, L_OLS, V, and the anti-collapse
// guards of its "Trivial solutions" section. Prototypes are rows, P in R^{K x m}.
import * as tf from '@tensorflow/tfjs';
import { matMul } from './dense.js';
import { ConfigError } from './errors.js';

/** What is optimised: L_q (DDCL), L_OLS only (ablation), or L_q with q and P detached (ablation). */
export type Objective = 'lq' | 'ols' | 'stopgrad';
/**
 * How D is scaled before the temperature: by its detached batch median or mean, by the
 * embedding width m (the mean squared distance of standardised points is 2m), or not at all.
 */
export type DistNorm = 'median' | 'mean' | 'dim' | 'none';

/** Identity forward, zero gradient: tfjs has no public stop-gradient op. */
export const detach = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => {
  const X = x as tf.Tensor;
  return { value: tf.clone(X), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
}) as <T extends tf.Tensor>(x: T) => T;

/**
 * Median of all entries (the lower one for an even count), with a zero gradient. Runs inside a
 * custom op because the forward of a custom gradient is not recorded, and TopK has no gradient.
 */
export const detachedMedian = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => {
  const X = x as tf.Tensor;
  const flat = tf.reshape(X, [-1]) as tf.Tensor1D;
  const k = Math.floor(flat.shape[0] / 2) + 1;
  const top = tf.topk(flat, k, true).values;
  return { value: tf.reshape(tf.slice(top, [k - 1], [1]), []), gradFunc: () => tf.zerosLike(X) };
}) as (x: tf.Tensor) => tf.Scalar;

/** D_ik = ||h_i - p_k||^2 from differences (exact, non-negative; no cancellation). */
export function sqDistances(H: tf.Tensor2D, P: tf.Tensor2D): tf.Tensor2D {
  return tf.sum(tf.square(tf.sub(tf.expandDims(H, 1), tf.expandDims(P, 0))), 2) as tf.Tensor2D;
}

/** The detached scale s that D is divided by. */
export function distanceScale(D: tf.Tensor2D, norm: DistNorm, m: number): tf.Scalar {
  switch (norm) {
    case 'median':
      return tf.maximum(detachedMedian(D), 1e-12) as tf.Scalar;
    case 'mean':
      return tf.maximum(detach(tf.mean(D)), 1e-12) as tf.Scalar;
    case 'dim':
      return tf.scalar(m);
    case 'none':
      return tf.scalar(1);
    default: {
      const never: never = norm;
      throw new ConfigError('distNorm', never, 'unknown distance normalisation');
    }
  }
}

/** q_i = softmax_k(-D_ik / (scale T)). */
export function softAssign(D: tf.Tensor2D, scale: tf.Scalar | number, T: number): tf.Tensor2D {
  return tf.softmax(tf.div(tf.neg(D), tf.mul(scale, T))) as tf.Tensor2D;
}

export interface DdclTerms {
  /** n x K squared distances (raw units). */
  D: tf.Tensor2D;
  /** n x K soft assignments. */
  q: tf.Tensor2D;
  /** K x m prototypes the DCL produced for this batch. */
  P: tf.Tensor2D;
  /** The distance scale s (detached): median of D, or 1. L_q, L_OLS and V are in units of D / s. */
  scale: tf.Scalar;
  Lq: tf.Scalar;
  Lols: tf.Scalar;
  V: tf.Scalar;
  /** The objective's differentiable value (L_q, L_OLS, or the stop-gradient surrogate). */
  objective: tf.Scalar;
}

export interface DdclOptions {
  T: number;
  distNorm: DistNorm;
  objective: Objective;
}

/**
 * L_q = (1/n) sum_ik q_ik D_ik, L_OLS = (1/n) sum_i ||h_i - P^T q_i||^2,
 * V = (1/n) sum_ik q_ik ||p_k - P^T q_i||^2, all divided by the scale s, so L_q = L_OLS + V.
 *
 * `dcl` maps embeddings to prototypes. For 'stopgrad' the backbone sees detached q and P, and the
 * DCL learns from L_q with q and H detached (the VQ split: prototypes still move, but no gradient
 * crosses between them and the backbone, and none flows through q).
 */
export function ddclTerms(
  H: tf.Tensor2D,
  dcl: (H: tf.Tensor2D) => tf.Tensor2D,
  opts: DdclOptions,
): DdclTerms {
  if (!(opts.T > 0) || !Number.isFinite(opts.T))
    throw new ConfigError('T', opts.T, 'temperature must be finite and > 0');
  const P = dcl(H);
  const D = sqDistances(H, P);
  const scale = distanceScale(D, opts.distNorm, H.shape[1]);
  const q = softAssign(D, scale, opts.T);
  const Lq = tf.div(tf.mean(tf.sum(tf.mul(q, D), 1)), scale) as tf.Scalar;
  const R = matMul(q, P); // reconstructions P^T q_i, n x m
  const Lols = tf.div(tf.mean(tf.sum(tf.square(tf.sub(H, R)), 1)), scale) as tf.Scalar;
  const spread = tf.sum(tf.square(tf.sub(tf.expandDims(P, 0), tf.expandDims(R, 1))), 2); // n x K
  const V = tf.div(tf.mean(tf.sum(tf.mul(q, spread), 1)), scale) as tf.Scalar;
  let objective: tf.Scalar;
  switch (opts.objective) {
    case 'lq':
      objective = Lq;
      break;
    case 'ols':
      objective = Lols;
      break;
    case 'stopgrad': {
      const qs = detach(q);
      const toBackbone = tf.mean(tf.sum(tf.mul(qs, sqDistances(H, detach(P))), 1));
      const toDcl = tf.mean(tf.sum(tf.mul(qs, sqDistances(detach(H), dcl(detach(H)))), 1));
      objective = tf.div(tf.add(toBackbone, toDcl), scale) as tf.Scalar;
      break;
    }
    default: {
      const never: never = opts.objective;
      throw new ConfigError('objective', never, 'unknown objective');
    }
  }
  return { D, q, P, scale, Lq, Lols, V, objective };
}

/** Standardise each column over the batch: (Z - mean) / sqrt(var + eps). */
export function standardise(
  Z: tf.Tensor2D,
  eps: number,
): { H: tf.Tensor2D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const { mean, variance } = tf.moments(Z, 0);
  const H = tf.div(tf.sub(Z, mean), tf.sqrt(tf.add(variance, eps))) as tf.Tensor2D;
  return { H, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Epsilon inside the L2 norm; the serving graph uses the same h / sqrt(||h||^2 + eps). */
export const L2_EPS = 1e-12;

export function l2Normalise(H: tf.Tensor2D): tf.Tensor2D {
  return tf.div(H, tf.sqrt(tf.add(tf.sum(tf.square(H), 1, true), L2_EPS))) as tf.Tensor2D;
}

/** log K - entropy(mean_i q_i) >= 0: zero when every prototype gets the same mass (SCAN, IIC). */
export function usagePenalty(q: tf.Tensor2D): tf.Scalar {
  const K = q.shape[1];
  const qbar = tf.mean(q, 0);
  return tf.add(Math.log(K), tf.sum(tf.mul(qbar, tf.log(tf.add(qbar, 1e-12))))) as tf.Scalar;
}

/**
 * mean_i H(q_i), the entropy of each row's assignment. With usagePenalty it makes IIC's
 * mutual-information objective: coincident prototypes split q evenly and keep mean q balanced,
 * so balance alone cannot see them; per-row entropy can.
 */
export function assignmentEntropy(q: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(q, tf.log(tf.add(q, 1e-12))), 1))) as tf.Scalar;
}

/** Mean squared reconstruction error over rows and columns. */
export function reconLoss(X: tf.Tensor2D, Xhat: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.square(tf.sub(X, Xhat))) as tf.Scalar;
}

/** Temperature of epoch e of E, annealed from `start` to `end`. */
export function temperatureAt(
  e: number,
  E: number,
  t: { start: number; end: number; schedule: 'geometric' | 'linear' | 'constant' },
): number {
  if (t.schedule === 'constant' || E <= 1) return t.schedule === 'constant' ? t.start : t.end;
  const f = e / (E - 1);
  return t.schedule === 'linear' ? t.start + (t.end - t.start) * f : t.start * (t.end / t.start) ** f;
}

/** Sigmabar = (1/n) sum_i (diag(q_i) - q_i q_i^T), K x K. */
export function sigmaBar(q: tf.Tensor2D): tf.Tensor2D {
  const n = q.shape[0];
  return tf.sub(tf.diag(tf.mean(q, 0)), tf.div(matMul(tf.transpose(q), q), n)) as tf.Tensor2D;
}

/** Mean pairwise Euclidean distance between the K prototypes (rows of P). */
export function prototypeSeparation(P: tf.Tensor2D): tf.Scalar {
  const K = P.shape[0];
  if (K < 2) return tf.scalar(0);
  const d = tf.sqrt(tf.maximum(sqDistances(P, P), 0));
  return tf.div(tf.sum(d), K * (K - 1)) as tf.Scalar;
}
