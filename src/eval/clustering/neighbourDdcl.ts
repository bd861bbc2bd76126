// DDCL fine-tuning with neighbour consistency: the "best" protocol's training loop. It starts from
// pretrained weights (autoencoder backbone + decoder, DCL pointed at k-means centroids of the
// embedding) and minimises, per mini-batch B and one sampled input-space neighbour j(i) per row,
//   objective (L_q, or an ablation) + lambda * recon + w_nb * mean_i -log(q_i . q_j(i)) + w_u * usage
// The neighbour term is SCAN's consistency loss with the clustering head replaced by DDCL's soft
// assignment q = softmax(-D / (s T)): neighbours in the input space should share a prototype.
import * as tf from '@tensorflow/tfjs';
import type { TrainWeights } from '../../model/types.js';
import type { Objective } from '../../model/loss.js';
import { Mlp } from '../../model/backbone.js';
import { dclFromWeights } from '../../model/dcl.js';
import { matMul } from '../../model/dense.js';
import {
  ddclTerms,
  l2Normalise,
  prototypeSeparation,
  reconLoss,
  sigmaBar,
  standardise,
  temperatureAt,
  usagePenalty,
} from '../../model/loss.js';
import { Rng } from '../../model/rng.js';
import { scoreTf } from '../../model/score.js';
import { freeze } from '../../train/trainer.js';
import type { TemperatureSchedule } from '../../train/config.js';
import { TrainingDivergedError } from '../../model/errors.js';
import type { CurveRow } from './curves.js';
import type { KnnGraph } from './knn.js';
import { ClusteringError } from './errors.js';

export interface NeighbourDdclConfig {
  seed: number;
  epochs: number;
  batchSize: number;
  lrBackbone: number;
  lrDcl: number;
  objective: Objective;
  /** Weight of the decoder's reconstruction loss (IDEC's guard against collapse). */
  lambda: number;
  /** Weight of the neighbour-consistency term (0: plain DDCL fine-tuning). */
  neighbourWeight: number;
  /** Weight of the usage term log K - H(mean q). */
  usageWeight: number;
  temperature: TemperatureSchedule;
  standardizeEps: number;
  chunkSize: number;
}

export interface NeighbourDdclResult {
  labels: Int32Array;
  history: CurveRow[];
  weights: TrainWeights;
}

function batchesOf(perm: Int32Array, batchSize: number): Int32Array[] {
  const nb = Math.max(1, Math.round(perm.length / batchSize));
  const out: Int32Array[] = [];
  for (let b = 0; b < nb; b++)
    out.push(perm.subarray(Math.floor((b * perm.length) / nb), Math.floor(((b + 1) * perm.length) / nb)));
  return out;
}

/** Fine-tunes `start` on X (n x d); returns the hard clusters argmin_k D against the frozen P*. */
export async function trainNeighbourDdcl(
  X: Float32Array,
  n: number,
  d: number,
  start: TrainWeights,
  graph: KnnGraph | null,
  c: NeighbourDdclConfig,
): Promise<NeighbourDdclResult> {
  if (c.neighbourWeight > 0 && (graph === null || graph.n !== n))
    throw new ClusteringError(
      'neighbour graph',
      graph?.n ?? null,
      `a graph over the ${n} rows is needed when neighbourWeight > 0`,
    );
  if (!start.decoder && c.lambda > 0)
    throw new ClusteringError('lambda', c.lambda, 'start weights have no decoder');
  const rng = new Rng(c.seed);
  const backbone = Mlp.fromWeights(start.backbone, false);
  const decoder = start.decoder ? Mlp.fromWeights(start.decoder) : null;
  const dcl = dclFromWeights(start.dcl);
  const Xt = tf.tensor2d(X, [n, d]);
  const optB = tf.train.adam(c.lrBackbone);
  const optD = tf.train.adam(c.lrDcl);
  try {
    const embed = (x: tf.Tensor2D): tf.Tensor2D => {
      let h = backbone.apply(x);
      if (start.standardize) h = standardise(h, c.standardizeEps).H;
      if (start.embedNorm === 'l2') h = l2Normalise(h);
      return h;
    };
    const bVars = [...backbone.trainable(), ...(decoder && c.lambda > 0 ? decoder.trainable() : [])];
    const dVars = dcl.trainable();
    const dNames = new Set(dVars.map((v) => v.name));
    const history: CurveRow[] = [];
    let T = c.temperature.end;
    for (let e = 0; e < c.epochs; e++) {
      T = temperatureAt(e, c.epochs, c.temperature);
      const rows: Float32Array[] = [];
      for (const idx of batchesOf(rng.permutation(n), c.batchSize)) {
        const b = idx.length;
        const pair = new Int32Array(2 * b);
        pair.set(idx);
        if (graph)
          for (let t = 0; t < b; t++) pair[b + t] = graph.index[idx[t]! * graph.k + rng.int(graph.k)]!;
        const useNb = c.neighbourWeight > 0;
        const xb = tf.tidy(() => tf.gather(Xt, tf.tensor1d(useNb ? pair : idx, 'int32')) as tf.Tensor2D);
        let metrics: tf.Tensor1D | null = null;
        const { grads, value } = tf.variableGrads(() => {
          const h = embed(xb);
          const t = ddclTerms(h, (H) => dcl.prototypes(H), { T, distNorm: 'median', objective: c.objective });
          let total: tf.Scalar = t.objective;
          if (decoder && c.lambda > 0)
            total = tf.add(total, tf.mul(reconLoss(xb, decoder.apply(h)), c.lambda));
          if (useNb) {
            const qi = tf.slice(t.q, [0, 0], [b, dcl.K]);
            const qj = tf.slice(t.q, [b, 0], [b, dcl.K]);
            const agree = tf.neg(tf.mean(tf.log(tf.add(tf.sum(tf.mul(qi, qj), 1), 1e-8))));
            total = tf.add(total, tf.mul(agree, c.neighbourWeight));
          }
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
        }, [...bVars, ...dVars]);
        const gB: { name: string; tensor: tf.Tensor }[] = [];
        const gD: { name: string; tensor: tf.Tensor }[] = [];
        for (const [name, tensor] of Object.entries(grads))
          (dNames.has(name) ? gD : gB).push({ name, tensor });
        optB.applyGradients(gB);
        optD.applyGradients(gD);
        tf.dispose([value, xb, ...Object.values(grads)]);
        rows.push(metrics!.dataSync() as Float32Array);
        (metrics as tf.Tensor1D | null)?.dispose();
      }
      const mean = (j: number): number => rows.reduce((a, r) => a + r[j]!, 0) / rows.length;
      const row: CurveRow = {
        epoch: e,
        T,
        Lq: mean(0),
        Lols: mean(1),
        V: mean(2),
        identityGap: mean(3),
        minV: Math.min(...rows.map((r) => r[2]!)),
        separation: mean(4),
        forceNorm: mean(5),
      };
      const total = mean(6);
      if (!Number.isFinite(total)) throw new TrainingDivergedError(e, 'total loss', total);
      history.push(row);
    }
    const weights: TrainWeights = {
      backbone: backbone.toWeights(),
      dcl: dcl.toWeights(),
      standardize: start.standardize,
      embedNorm: start.embedNorm,
      ...(decoder ? { decoder: decoder.toWeights() } : {}),
    };
    const model = freeze(
      weights,
      X,
      n,
      d,
      T,
      { standardizeEps: c.standardizeEps, chunkSize: c.chunkSize },
      false,
    );
    const labels = new Int32Array(n);
    for (let s = 0; s < n; s += c.chunkSize) {
      const r = Math.min(c.chunkSize, n - s);
      labels.set(scoreTf(model, X.subarray(s * d, (s + r) * d), r).nearest, s);
    }
    // A second await point keeps the signature async for callers that report progress.
    await Promise.resolve();
    return { labels, history, weights };
  } finally {
    Xt.dispose();
    backbone.dispose();
    decoder?.dispose();
    dcl.dispose();
    optB.dispose();
    optD.dispose();
  }
}
