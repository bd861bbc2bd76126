// DeepCluster-e2e baseline (DDCL.md "Baselines"): the same backbone; each epoch k-means on the
// embeddings gives pseudo-labels, a fresh linear head and the backbone train on cross-entropy,
// with no gradient through the clustering.
import * as tf from '@tensorflow/tfjs';
import type { Activation, BackboneWeights } from '../model/types.js';
import { initEngine, type EnginePreference } from '../model/engine.js';
import { Mlp } from '../model/backbone.js';
import { dense } from '../model/dense.js';
import { standardise } from '../model/loss.js';
import { kmeans } from '../model/kmeans.js';
import { Rng } from '../model/rng.js';
import { ConfigError, TrainingDivergedError } from '../model/errors.js';
import { checkFinite } from './trainer.js';

export interface DeepClusterConfig {
  seed: number;
  engine: EnginePreference;
  widths: number[];
  m: number;
  K: number;
  activation: Activation;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Standardise embeddings over the batch, as the DDCL trainer does. */
  standardize: boolean;
  standardizeEps: number;
  /** k-means restarts per epoch. */
  kmeansInit: number;
}

export const defaultDeepClusterConfig: Readonly<DeepClusterConfig> = Object.freeze({
  seed: 0,
  engine: 'auto',
  widths: [64, 32],
  m: 16,
  K: 8,
  activation: 'relu',
  epochs: 20,
  batchSize: 256,
  lr: 1e-3,
  standardize: true,
  standardizeEps: 1e-5,
  kmeansInit: 3,
}) as DeepClusterConfig;

export interface DeepClusterEpoch {
  epoch: number;
  /** Mean cross-entropy over the epoch's batches. */
  loss: number;
  /** Fraction of rows whose pseudo-label changed since the previous epoch (after matching none: raw ids). */
  changed: number;
  seconds: number;
}

export interface DeepClusterResult {
  /** k-means labels of the final embeddings. */
  labels: Int32Array;
  /** Final embeddings, n x m (standardised over the whole set when configured). */
  embeddings: Float32Array;
  backbone: BackboneWeights;
  history: DeepClusterEpoch[];
  seconds: number;
  backend: string;
}

export async function trainDeepCluster(
  X: Float32Array,
  n: number,
  d: number,
  cfg: Partial<DeepClusterConfig> = {},
): Promise<DeepClusterResult> {
  const c: DeepClusterConfig = { ...defaultDeepClusterConfig, ...cfg };
  checkFinite(X, n, d);
  if (!Number.isInteger(c.K) || c.K < 2 || c.K > n)
    throw new ConfigError('K', c.K, `must be an integer in [2, ${n}]`);
  if (!Number.isInteger(c.epochs) || c.epochs < 0)
    throw new ConfigError('epochs', c.epochs, 'must be an integer >= 0');
  const engine = await initEngine(c.engine);
  const t0 = performance.now();
  const rng = new Rng(c.seed);
  const backbone = Mlp.create({
    sizes: [d, ...c.widths, c.m],
    activation: c.activation,
    seed: rng.int(2 ** 31),
  });
  const Xt = tf.tensor2d(X, [n, d]);
  const opt = tf.train.adam(c.lr);
  const embed = (x: tf.Tensor2D): tf.Tensor2D => {
    const z = backbone.apply(x);
    return c.standardize ? standardise(z, c.standardizeEps).H : z;
  };
  const embedAll = (): Float32Array => tf.tidy(() => embed(Xt).dataSync() as Float32Array);
  const history: DeepClusterEpoch[] = [];
  let prev: Int32Array | null = null;
  try {
    for (let e = 0; e < c.epochs; e++) {
      const te = performance.now();
      const labels = kmeans(embedAll(), n, c.m, c.K, { nInit: c.kmeansInit, seed: rng.int(2 ** 31) }).labels;
      let changed = 1;
      if (prev) {
        let s = 0;
        for (let i = 0; i < n; i++) if (labels[i] !== prev[i]) s++;
        changed = s / n;
      }
      prev = labels;
      // DeepCluster samples uniformly over pseudo-labels; weighting each row by 1/|cluster| is
      // the same in expectation, and stops a large cluster from taking over.
      const count = new Float64Array(c.K);
      for (const l of labels) count[l]!++;
      const weight = Float32Array.from(labels, (l) => n / (c.K * count[l]!));
      // A fresh head every epoch: the cluster ids are arbitrary between epochs.
      const lim = Math.sqrt(3 / c.m);
      const Wh = tf.variable(
        tf.tensor2d(
          Float32Array.from({ length: c.m * c.K }, () => (2 * rng.next() - 1) * lim),
          [c.m, c.K],
        ),
      );
      const bh = tf.variable(tf.zeros([c.K]) as tf.Tensor1D);
      const headOpt = tf.train.adam(c.lr);
      const vars = backbone.trainable();
      let total = 0;
      let batches = 0;
      const perm = rng.permutation(n);
      const nb = Math.max(1, Math.round(n / c.batchSize));
      for (let b = 0; b < nb; b++) {
        const idx = perm.subarray(Math.floor((b * n) / nb), Math.floor(((b + 1) * n) / nb));
        const [xb, yb, wb] = tf.tidy(() => {
          const it = tf.tensor1d(idx, 'int32');
          return [
            tf.gather(Xt, it) as tf.Tensor2D,
            tf.oneHot(
              tf.tensor1d(
                Int32Array.from(idx, (i) => labels[i]!),
                'int32',
              ),
              c.K,
            ) as tf.Tensor2D,
            tf.tensor1d(Float32Array.from(idx, (i) => weight[i]!)),
          ];
        });
        const { value, grads } = tf.variableGrads(() => {
          const logits = dense(embed(xb), Wh, bh);
          const ce = tf.neg(tf.sum(tf.mul(yb, tf.logSoftmax(logits)), 1));
          return tf.mean(tf.mul(ce, wb)) as tf.Scalar;
        }, [...vars, Wh, bh]);
        const named = Object.entries(grads).map(([name, tensor]) => ({ name, tensor }));
        const isHead = (name: string): boolean => name === Wh.name || name === bh.name;
        opt.applyGradients(named.filter((g) => !isHead(g.name)));
        headOpt.applyGradients(named.filter((g) => isHead(g.name)));
        total += value.dataSync()[0]!;
        batches++;
        tf.dispose([value, xb, yb, wb, ...Object.values(grads)]);
      }
      tf.dispose([Wh, bh]);
      headOpt.dispose();
      const loss = total / batches;
      if (!Number.isFinite(loss)) throw new TrainingDivergedError(e, 'cross-entropy', loss);
      history.push({ epoch: e, loss, changed, seconds: (performance.now() - te) / 1000 });
    }
    const embeddings = embedAll();
    const labels = kmeans(embeddings, n, c.m, c.K, { nInit: c.kmeansInit, seed: rng.int(2 ** 31) }).labels;
    return {
      labels,
      embeddings,
      backbone: backbone.toWeights(),
      history,
      seconds: (performance.now() - t0) / 1000,
      backend: engine.backend,
    };
  } finally {
    Xt.dispose();
    backbone.dispose();
    opt.dispose();
  }
}
