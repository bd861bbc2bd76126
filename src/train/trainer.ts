// trainDDCL: backbone + Dual Competitive Layer trained end-to-end on L_q (DDCL.md), with optional
// autoencoder pretraining, anti-collapse guards and per-epoch health signals. Returns a
// ScoringModel ready for serving (standardisation folded into the last layer, frozen P*).
import * as tf from '@tensorflow/tfjs';
import type { ScoringModel, TrainWeights } from '../model/types.js';
import { initEngine } from '../model/engine.js';
import { Mlp, foldStandardisation, mirrorSizes } from '../model/backbone.js';
import { DualAttention, DualLinear, dclFromWeights, type Dcl } from '../model/dcl.js';
import {
  assignmentEntropy,
  ddclTerms,
  l2Normalise,
  prototypeSeparation,
  reconLoss,
  sigmaBar,
  standardise,
  temperatureAt,
  usagePenalty,
} from '../model/loss.js';
import { matMul } from '../model/dense.js';
import { kmeans, kmeansPlusPlus } from '../model/kmeans.js';
import { Rng } from '../model/rng.js';
import { embedTf, scoreTf } from '../model/score.js';
import {
  CollapsedStartError,
  ConfigError,
  NonFiniteInputError,
  ShapeError,
  TrainingDivergedError,
} from '../model/errors.js';
import {
  dclLearningRate,
  resolveConfig,
  type EpochMetrics,
  type PretrainMetrics,
  type TrainConfig,
  type TrainResult,
} from './config.js';

export type OnEpoch = (m: EpochMetrics) => void | Promise<void>;

/** Throws NonFiniteInputError at the first NaN or infinity. */
export function checkFinite(X: Float32Array, n: number, d: number): void {
  if (X.length !== n * d) throw new ShapeError('X', n * d, X.length);
  for (let t = 0; t < X.length; t++) {
    if (!Number.isFinite(X[t]!)) throw new NonFiniteInputError(Math.floor(t / d), t % d, X[t]!);
  }
}

/** Splits a permutation into near-equal batches (no tiny last batch to standardise over). */
function batchesOf(perm: Int32Array, batchSize: number): Int32Array[] {
  const nb = Math.max(1, Math.round(perm.length / batchSize));
  const out: Int32Array[] = [];
  for (let b = 0; b < nb; b++) {
    out.push(perm.subarray(Math.floor((b * perm.length) / nb), Math.floor(((b + 1) * perm.length) / nb)));
  }
  return out;
}

/** The lower median (matching loss.ts detachedMedian). */
function lowerMedian(v: Float32Array): number {
  const s = Float32Array.from(v).sort();
  return s[s.length - 1 - Math.floor(s.length / 2)]!;
}

// Names of the per-step metric vector, in order.
const METRICS = [
  'loss',
  'Lq',
  'Lols',
  'V',
  'identityGap',
  'recon',
  'usage',
  'confidence',
  'separation',
  'meanMaxQ',
  'forceNorm',
  'embedVar',
] as const;

interface Parts {
  backbone: Mlp;
  decoder: Mlp | null;
  dcl: Dcl | null;
}

/**
 * Trains DDCL on X (row-major n x d). Deterministic for a seed on a given backend.
 * Throws NonFiniteInputError on NaN/Inf input, CollapsedStartError on a collapsed start and
 * TrainingDivergedError when a loss term stops being finite.
 */
export async function trainDDCL(
  X: Float32Array,
  n: number,
  d: number,
  cfg: Partial<TrainConfig> = {},
  onEpoch?: OnEpoch,
): Promise<TrainResult> {
  const c = resolveConfig(cfg);
  checkFinite(X, n, d);
  if (n < c.K) throw new ConfigError('K', c.K, `more prototypes than rows (${n})`);
  const engine = await initEngine(c.engine);
  const t0 = performance.now();
  const rng = new Rng(c.seed);
  const seed = (): number => rng.int(2 ** 31);
  const sizes = [d, ...c.widths, c.m];
  const useDecoder = c.pretrainEpochs > 0 || c.lambda > 0 || c.resume?.decoder !== undefined;

  const parts: Parts = {
    backbone: c.resume
      ? Mlp.fromWeights(c.resume.backbone, c.lastBias)
      : Mlp.create({ sizes, activation: c.activation, lastBias: c.lastBias, seed: seed() }),
    decoder: null,
    dcl: null,
  };
  const Xt = tf.tensor2d(X, [n, d]);
  const optimisers: tf.Optimizer[] = [];
  try {
    const { backbone } = parts;
    if (backbone.inputDim !== d) throw new ShapeError('resume backbone input', d, backbone.inputDim);
    const m = backbone.outputDim;
    const decSeed = seed();
    if (useDecoder) {
      parts.decoder = c.resume?.decoder
        ? Mlp.fromWeights(c.resume.decoder)
        : Mlp.create({
            sizes: mirrorSizes(backbone.sizes),
            activation: c.activation,
            lastBias: true,
            seed: decSeed,
          });
    }
    const decoder = parts.decoder;

    // Training-time embedding: backbone, then batch standardisation, then optional L2.
    const embed = (x: tf.Tensor2D): tf.Tensor2D => {
      let h = backbone.apply(x);
      if (c.standardize) h = standardise(h, c.standardizeEps).H;
      if (c.embedNorm === 'l2') h = l2Normalise(h);
      return h;
    };
    const gather = (idx: Int32Array): tf.Tensor2D =>
      tf.tidy(() => tf.gather(Xt, tf.tensor1d(idx, 'int32')) as tf.Tensor2D);

    // ---- Autoencoder pretraining ----
    const pretrainHistory: PretrainMetrics[] = [];
    if (c.pretrainEpochs > 0 && decoder) {
      const opt = tf.train.adam(c.lrPretrain);
      optimisers.push(opt);
      const vars = [...backbone.trainable(), ...decoder.trainable()];
      for (let e = 0; e < c.pretrainEpochs; e++) {
        const te = performance.now();
        const losses: tf.Scalar[] = [];
        for (const idx of batchesOf(rng.permutation(n), c.batchSize)) {
          const xb = gather(idx);
          const cost = opt.minimize(() => reconLoss(xb, decoder.apply(embed(xb))), true, vars);
          losses.push(cost!);
          xb.dispose();
        }
        const vals = Array.from(tf.tidy(() => tf.stack(losses).dataSync()));
        losses.forEach((l) => l.dispose());
        const recon = vals.reduce((a, b) => a + b, 0) / vals.length;
        if (!Number.isFinite(recon))
          throw new TrainingDivergedError(-(c.pretrainEpochs - e), 'pretrain recon', recon);
        pretrainHistory.push({ epoch: e, recon, seconds: (performance.now() - te) / 1000 });
      }
    }

    // ---- DCL initialisation on K distinct, spread-out rows (k-means++ on the embeddings) ----
    const noiseSeed = seed();
    if (c.resume) {
      parts.dcl = dclFromWeights(c.resume.dcl);
      if (parts.dcl.K !== c.K) throw new ShapeError('resume DCL K', c.K, parts.dcl.K);
      if (c.resume.dcl.variant !== c.variant)
        throw new ConfigError('variant', c.variant, `resume weights are ${c.resume.dcl.variant}`);
      if (c.resume.dcl.variant === 'dual-linear' && c.resume.dcl.n !== n)
        throw new ShapeError('resume dual-linear window n', n, c.resume.dcl.n);
    } else {
      const H0 = trainingEmbeddings(embed, Xt, n);
      if (c.dclInit === 'kmeans') {
        const km = kmeans(H0, n, m, c.K, { nInit: 4, seed: seed() });
        parts.dcl =
          c.variant === 'dual-linear'
            ? DualLinear.fromLabels(km.labels, c.K, c.dclInitNoise, noiseSeed)
            : DualAttention.fromDirections(
                km.centroids,
                m,
                c.K,
                c.attentionInitScale,
                c.attentionTau,
                c.dclInitNoise,
                noiseSeed,
              );
      } else {
        const rows = kmeansPlusPlus(H0, n, m, c.K, rng);
        parts.dcl =
          c.variant === 'dual-linear'
            ? DualLinear.init(n, rows, c.dclInitNoise, noiseSeed)
            : DualAttention.init(
                H0,
                m,
                rows,
                c.attentionInitScale,
                c.attentionTau,
                c.dclInitNoise,
                noiseSeed,
              );
      }
    }
    const dcl = parts.dcl;
    const fullWindow = c.variant === 'dual-linear';

    // ---- Refuse a collapsed start (all prototypes at one point: V = 0, q uniform) ----
    {
      const T0 = temperatureAt(0, c.epochs, c.temperature);
      const first = fullWindow ? Xt : gather(batchesOf(new Rng(c.seed).permutation(n), c.batchSize)[0]!);
      const [V, Lq, mq] = tf.tidy(() => {
        const t = ddclTerms(embed(first), (H) => dcl.prototypes(H), {
          T: T0,
          distNorm: c.distNorm,
          objective: 'lq',
        });
        return [t.V, t.Lq, tf.mean(tf.max(t.q, 1))].map((s) => s.dataSync()[0]!);
      }) as [number, number, number];
      if (first !== Xt) first.dispose();
      if (V <= 1e-6 * Math.max(Math.abs(Lq), 1e-30) && mq - 1 / c.K < 1e-4)
        throw new CollapsedStartError(V, Lq, mq, c.K);
    }

    // ---- Joint DDCL training ----
    const optB = tf.train.adam(c.lrBackbone);
    const optD = tf.train.adam(dclLearningRate(c));
    optimisers.push(optB, optD);
    const trainDecoder = decoder !== null && c.lambda > 0;
    const bVars = [...backbone.trainable(), ...(trainDecoder ? decoder.trainable() : [])];
    const dVars = dcl.trainable();
    const dNames = new Set(dVars.map((v) => v.name));

    const step = (xb: tf.Tensor2D, T: number): { metrics: tf.Tensor1D; nearest: tf.Tensor1D } => {
      let metrics: tf.Tensor1D | null = null;
      let nearest: tf.Tensor1D | null = null;
      const { grads, value } = tf.variableGrads(() => {
        const h = embed(xb);
        const t = ddclTerms(h, (H) => dcl.prototypes(H), { T, distNorm: c.distNorm, objective: c.objective });
        let total: tf.Scalar = t.objective;
        let recon: tf.Scalar = tf.scalar(NaN);
        if (trainDecoder) {
          recon = reconLoss(xb, decoder.apply(h));
          total = tf.add(total, tf.mul(recon, c.lambda));
        }
        const usage = usagePenalty(t.q);
        if (c.usageWeight > 0) total = tf.add(total, tf.mul(usage, c.usageWeight));
        const conf = assignmentEntropy(t.q);
        if (c.confidenceWeight > 0) total = tf.add(total, tf.mul(conf, c.confidenceWeight));
        const force = tf.div(tf.norm(tf.mul(matMul(sigmaBar(t.q), t.P), 2)), t.scale);
        metrics = tf.keep(
          tf.stack([
            total,
            t.Lq,
            t.Lols,
            t.V,
            tf.abs(tf.sub(tf.sub(t.Lq, t.Lols), t.V)),
            recon,
            usage,
            conf,
            prototypeSeparation(t.P),
            tf.mean(tf.max(t.q, 1)),
            force,
            tf.mean(tf.moments(h, 0).variance),
          ]) as tf.Tensor1D,
        );
        nearest = tf.keep(tf.argMin(t.D, 1) as tf.Tensor1D);
        return total;
      }, [...bVars, ...dVars]);
      const gB: { name: string; tensor: tf.Tensor }[] = [];
      const gD: { name: string; tensor: tf.Tensor }[] = [];
      for (const [name, tensor] of Object.entries(grads)) (dNames.has(name) ? gD : gB).push({ name, tensor });
      optB.applyGradients(gB);
      optD.applyGradients(gD);
      tf.dispose([value, ...Object.values(grads)]);
      return { metrics: metrics!, nearest: nearest! };
    };

    const history: EpochMetrics[] = [];
    let T = temperatureAt(Math.max(0, c.epochs - 1), c.epochs, c.temperature);
    for (let e = 0; e < c.epochs; e++) {
      const te = performance.now();
      T = temperatureAt(e, c.epochs, c.temperature);
      const outs: { metrics: tf.Tensor1D; nearest: tf.Tensor1D }[] = [];
      if (fullWindow) {
        for (let s = 0; s < c.stepsPerEpoch; s++) {
          if (outs.length) tf.dispose(outs.pop()!.nearest);
          outs.push(step(Xt, T));
        }
      } else {
        for (const idx of batchesOf(rng.permutation(n), c.batchSize)) {
          const xb = gather(idx);
          outs.push(step(xb, T));
          xb.dispose();
        }
      }
      const rowsM = outs.map((o) => o.metrics.dataSync());
      const used = new Set<number>();
      for (const o of outs) for (const k of o.nearest.dataSync()) used.add(k);
      tf.dispose(outs.flatMap((o) => [o.metrics, o.nearest]));
      const mean = (j: number): number => rowsM.reduce((a, r) => a + r[j]!, 0) / rowsM.length;
      const rec: Record<string, number> = {};
      METRICS.forEach((name, j) => (rec[name] = mean(j)));
      const metricsE: EpochMetrics = {
        epoch: e,
        T,
        loss: rec.loss!,
        Lq: rec.Lq!,
        Lols: rec.Lols!,
        V: rec.V!,
        identityGap: rec.identityGap!,
        minV: Math.min(...rowsM.map((r) => r[3]!)),
        recon: rec.recon!,
        usage: rec.usage!,
        confidence: rec.confidence!,
        separation: rec.separation!,
        meanMaxQ: rec.meanMaxQ!,
        forceNorm: rec.forceNorm!,
        embedVar: rec.embedVar!,
        usedPrototypes: used.size,
        seconds: (performance.now() - te) / 1000,
      };
      for (const term of ['loss', 'Lq', 'Lols', 'V', 'separation', 'forceNorm', 'embedVar'] as const) {
        if (!Number.isFinite(metricsE[term])) throw new TrainingDivergedError(e, term, metricsE[term]);
      }
      if (trainDecoder && !Number.isFinite(metricsE.recon))
        throw new TrainingDivergedError(e, 'recon', metricsE.recon);
      history.push(metricsE);
      if (onEpoch) await onEpoch(metricsE);
    }

    // ---- Freeze: fold the standardisation, snapshot P*, distance scale, assignments ----
    const weights: TrainWeights = {
      backbone: backbone.toWeights(),
      dcl: dcl.toWeights(),
      standardize: c.standardize,
      embedNorm: c.embedNorm,
    };
    if (decoder) weights.decoder = decoder.toWeights();
    const model = freeze(weights, X, n, d, T, c, trainDecoder);
    const assignments = new Int32Array(n);
    const D = new Float32Array(n * c.K);
    for (let s = 0; s < n; s += c.chunkSize) {
      const rows = Math.min(c.chunkSize, n - s);
      const sc = scoreTf(model, X.subarray(s * d, (s + rows) * d), rows);
      assignments.set(sc.nearest, s);
      D.set(sc.D, s * c.K);
    }
    model.prototypes.distScale = Math.max(lowerMedian(D), 1e-12);
    return {
      model,
      history,
      pretrainHistory,
      weights,
      assignments,
      seconds: (performance.now() - t0) / 1000,
      backend: engine.backend,
      config: c,
    };
  } finally {
    Xt.dispose();
    parts.backbone.dispose();
    parts.decoder?.dispose();
    parts.dcl?.dispose();
    optimisers.forEach((o) => o.dispose());
  }
}

/** Embeddings of all rows as training sees them, standardised over the whole set (one batch). */
function trainingEmbeddings(
  embed: (x: tf.Tensor2D) => tf.Tensor2D,
  Xt: tf.Tensor2D,
  n: number,
): Float32Array {
  const H = tf.tidy(() => embed(Xt).dataSync() as Float32Array);
  if (H.length % n !== 0) throw new ShapeError('embeddings', `multiple of ${n}`, H.length);
  return H;
}

/**
 * The ScoringModel of trained weights: the standardisation (whole-set mean and std of the last
 * layer, which for a full window equal the training batch statistics) folded into W, b, and P*
 * computed from the DCL over all rows with the folded backbone. distScale is set by the caller.
 */
export function freeze(
  w: TrainWeights,
  X: Float32Array,
  n: number,
  d: number,
  T: number,
  c: Pick<TrainConfig, 'standardizeEps' | 'chunkSize'>,
  withDecoder: boolean,
): ScoringModel {
  let backbone = w.backbone;
  const m = backbone.layers[backbone.layers.length - 1]!.out;
  const K = w.dcl.K;
  const chunks = (f: (x: tf.Tensor2D) => tf.Tensor2D): Float32Array => {
    const out = new Float32Array(n * m);
    for (let s = 0; s < n; s += c.chunkSize) {
      const rows = Math.min(c.chunkSize, n - s);
      out.set(
        tf.tidy(() => f(tf.tensor2d(X.subarray(s * d, (s + rows) * d), [rows, d])).dataSync()),
        s * m,
      );
    }
    return out;
  };
  const plain = (bw: typeof backbone): ScoringModel => ({
    inputDim: d,
    backbone: bw,
    embedNorm: 'none',
    prototypes: { K, m, P: new Float32Array(K * m), T, distScale: 1 },
  });
  if (w.standardize) {
    const Z = chunks((x) => embedTf(plain(backbone), x));
    const mean = new Float64Array(m);
    const sq = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const v = Z[i * m + j]!;
        mean[j]! += v;
        sq[j]! += v * v;
      }
    }
    const mu = new Float32Array(m);
    const sd = new Float32Array(m);
    for (let j = 0; j < m; j++) {
      mu[j] = mean[j]! / n;
      sd[j] = Math.sqrt(Math.max(sq[j]! / n - (mean[j]! / n) ** 2, 0) + c.standardizeEps);
    }
    backbone = foldStandardisation(backbone, mu, sd);
  }
  const model: ScoringModel = { ...plain(backbone), embedNorm: w.embedNorm };
  if (withDecoder && w.decoder) model.decoder = w.decoder;
  const H = chunks((x) => embedTf(model, x));
  const P = new Float64Array(K * m);
  if (w.dcl.variant === 'dual-linear') {
    if (w.dcl.n !== n) throw new ShapeError('dual-linear window n', w.dcl.n, n);
    const W = w.dcl.W;
    for (let i = 0; i < n; i++)
      for (let k = 0; k < K; k++) for (let j = 0; j < m; j++) P[k * m + j]! += W[i * K + k]! * H[i * m + j]!;
  } else {
    // A = softmax over all n rows of (H U) / tau, per prototype, in float64.
    const { U, tau } = w.dcl;
    const logits = new Float64Array(n * K);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let j = 0; j < m; j++) s += H[i * m + j]! * U[j * K + k]!;
        logits[i * K + k] = s / tau;
      }
    }
    for (let k = 0; k < K; k++) {
      let mx = -Infinity;
      for (let i = 0; i < n; i++) mx = Math.max(mx, logits[i * K + k]!);
      let z = 0;
      for (let i = 0; i < n; i++) z += Math.exp(logits[i * K + k]! - mx);
      for (let i = 0; i < n; i++) {
        const a = Math.exp(logits[i * K + k]! - mx) / z;
        for (let j = 0; j < m; j++) P[k * m + j]! += a * H[i * m + j]!;
      }
    }
  }
  model.prototypes.P = Float32Array.from(P);
  return model;
}
