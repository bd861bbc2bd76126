// Scoring with tfjs: exactly what the ONNX serving graph computes, for the parity test and for
// training-time statistics. Per row, with h = backbone(x) (then h / sqrt(||h||^2 + 1e-12) when
// embedNorm = 'l2') and P* the K x m prototype rows:
//   D_k    = max(||h||^2 - 2 h . p*_k + ||p*_k||^2, 0)
//   q      = softmax(-D / (distScale * T))
//   sMin   = min_k D_k,  nearest = argmin_k D_k
//   sQ     = sum_k q_k D_k
//   r      = ||h - P*^T q||^2
//   v      = sQ - r
//   recon  = mean_j (x_j - decoder(h)_j)^2   (when a decoder exists)
// Activations: gelu is the tanh form, leaky_relu has slope 0.01 (see backbone.ts).
import * as tf from '@tensorflow/tfjs';
import type { BackboneWeights, ScoreBatch, ScoringModel } from './types.js';
import { activate } from './backbone.js';
import { L2_EPS } from './loss.js';
import { ShapeError } from './errors.js';

function forward(w: BackboneWeights, x: tf.Tensor2D): tf.Tensor2D {
  let y = x;
  const last = w.layers.length - 1;
  w.layers.forEach((L, i) => {
    y = tf.add(tf.matMul(y, tf.tensor2d(L.W, [L.in, L.out])), tf.tensor1d(L.b));
    if (i < last) y = activate(y, w.activation);
  });
  return y;
}

/** The embeddings h (n x m) the scoring graph uses, as a tensor (caller disposes). */
export function embedTf(model: ScoringModel, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const z = forward(model.backbone, x);
    return model.embedNorm === 'l2'
      ? (tf.div(z, tf.sqrt(tf.add(tf.sum(tf.square(z), 1, true), L2_EPS))) as tf.Tensor2D)
      : z;
  });
}

function f32(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

/** Scores n rows of X (row-major n x inputDim) against the model's frozen prototypes. */
export function scoreTf(model: ScoringModel, X: Float32Array, n: number): ScoreBatch {
  const d = model.inputDim;
  if (X.length !== n * d) throw new ShapeError('score X', n * d, X.length);
  const { K, m } = model.prototypes;
  if (model.prototypes.P.length !== K * m)
    throw new ShapeError('prototypes P', K * m, model.prototypes.P.length);
  const out: Record<string, tf.Tensor> = tf.tidy(() => {
    const x = tf.tensor2d(X, [n, d]);
    const h = embedTf(model, x);
    if (h.shape[1] !== m) throw new ShapeError('embedding width', m, h.shape[1]);
    const P = tf.tensor2d(model.prototypes.P, [K, m]);
    const hh = tf.sum(tf.square(h), 1, true);
    const pp = tf.reshape(tf.sum(tf.square(P), 1), [1, K]);
    const D = tf.relu(tf.add(tf.sub(hh, tf.mul(tf.matMul(h, tf.transpose(P)), 2)), pp)) as tf.Tensor2D;
    const q = tf.softmax(tf.div(tf.neg(D), model.prototypes.distScale * model.prototypes.T)) as tf.Tensor2D;
    const sMin = tf.min(D, 1);
    const sQ = tf.sum(tf.mul(q, D), 1);
    const r = tf.sum(tf.square(tf.sub(h, tf.matMul(q, P))), 1);
    const v = tf.sub(sQ, r);
    const nearest = tf.argMin(D, 1);
    const o: Record<string, tf.Tensor> = { D, q, sMin, sQ, r, v, nearest };
    if (model.decoder) o.recon = tf.mean(tf.square(tf.sub(x, forward(model.decoder, h))), 1);
    return o;
  });
  const res: ScoreBatch = {
    n,
    K,
    D: f32(out.D!),
    q: f32(out.q!),
    sMin: f32(out.sMin!),
    sQ: f32(out.sQ!),
    r: f32(out.r!),
    v: f32(out.v!),
    nearest: Int32Array.from(out.nearest!.dataSync()),
  };
  if (out.recon) res.recon = f32(out.recon);
  for (const t of Object.values(out)) t.dispose();
  return res;
}
