// From records to a complete model artifact: fit the feature spec on the window, featurize,
// train DDCL, export the scoring graph to ONNX, score the window through ONNX Runtime exactly as
// serving will, fit the calibration on a held-out slice, and gather the per-prototype input
// statistics for explanations. The daemon's trainer, `ddcl train` and the evaluations all build
// models here, so what is evaluated is what is served.
import { Featurizer, fitFeatureSpec, type FeatureSpec } from '../features/index.js';
import type { BackboneWeights, DclWeights, ScoreBatch, TrainWeights } from '../model/types.js';
import type { ArtifactParts, JsonValue, NamedTensor, WeightsPart } from '../registry/artifact.js';
import {
  featureSpread,
  fitCalibration,
  fitGlobalDeviation,
  fitInputMixture,
  gradeColumns,
  type CalibrationOptions,
  type ColumnTerms,
  type CalibrationState,
  type ScoreColumns,
} from '../serve/calibration.js';
import { prototypeStats } from '../serve/explain.js';
import { exportScoringModel } from '../serve/onnx/export.js';
import { OnnxScorer } from '../serve/scorer.js';
import type { EpochMetrics, TrainConfig, TrainResult } from './config.js';
import { trainDDCL, type OnEpoch } from './trainer.js';

export class BuildError extends Error {
  override readonly name = 'BuildError';
}

export interface BuildOptions {
  train?: Partial<TrainConfig>;
  /** Fraction of the window held back for calibration (every k-th row). Default 0.2. */
  holdoutFraction?: number;
  calibration?: CalibrationOptions;
  /** Lineage and provenance for the manifest. */
  parentVersion?: string | null;
  inputSchemaFingerprint?: string;
  trainingWindow?: JsonValue;
  /** Fitted featurizer to reuse instead of refitting (fine-tuning with the same features). */
  featurizer?: Featurizer;
  onEpoch?: OnEpoch;
  /** Rows per ONNX scoring call while calibrating. */
  scoreBatch?: number;
  /**
   * Train the network on at most this many of the window's training rows (evenly spaced, so the
   * whole window is represented); features are still fitted, and the calibration still held back,
   * on the whole window. Bounds the retraining time of large windows.
   */
  maxTrainRows?: number;
  /**
   * Fit the input deviation (each row's distance, per feature, from the members of its nearest
   * prototype; serve/calibration inputDeviation) into the calibration, beside the raw score and
   * the reconstruction error. Default false.
   */
  inputDeviation?: boolean;
  /**
   * Fit the input-space prototype mixture (serve/calibration fitInputMixture: each prototype an
   * isotropic Gaussian over its members' features, weighted by its share). Default false.
   */
  inputMixture?: boolean;
  /** Fit the global deviation (squared standardised distance from the rows' mean). Default false. */
  globalDeviation?: boolean;
}

/** The input-space score terms a build fits (BuildOptions of the same names). */
export type ScoreTermOptions = Pick<BuildOptions, 'inputDeviation' | 'inputMixture' | 'globalDeviation'>;

/** The terms of `o` that are on (for a job or an option object that carries only those). */
export function pickScoreTerms(o: ScoreTermOptions): ScoreTermOptions {
  return {
    ...(o.inputDeviation ? { inputDeviation: true } : {}),
    ...(o.inputMixture ? { inputMixture: true } : {}),
    ...(o.globalDeviation ? { globalDeviation: true } : {}),
  };
}

export interface BuiltModel {
  parts: ArtifactParts;
  featurizer: Featurizer;
  result: TrainResult;
  calibration: CalibrationState;
  /** Rows featurized, refused, used for training and for calibration. */
  rows: { total: number; refused: number; train: number; calibration: number };
}

/** Records in window order; spec unfitted (fitted on the training rows) unless opts.featurizer. */
export async function buildModel(
  spec: FeatureSpec,
  records: readonly unknown[],
  opts: BuildOptions = {},
): Promise<BuiltModel> {
  const holdout = opts.holdoutFraction ?? 0.2;
  if (!(holdout > 0 && holdout < 1))
    throw new BuildError(`holdoutFraction must be in (0, 1), got ${holdout}`);
  const every = Math.max(2, Math.round(1 / holdout));
  // Statistics come from the training rows only; calibration rows are never seen by the fit.
  const fitRecords = records.filter((_, i) => i % every !== every - 1);
  const featurizer = opts.featurizer ?? new Featurizer(fitFeatureSpec(spec, fitRecords));
  // A fresh featurizer for the whole window in order, so that shingle histories are as in serving.
  const fz = new Featurizer(featurizer.spec);
  const many = fz.featurizeMany(records as unknown[]);
  const d = fz.dim;
  const trainIdx: number[] = [];
  const calIdx: number[] = [];
  for (let r = 0; r < many.rows; r++) (many.index[r]! % every === every - 1 ? calIdx : trainIdx).push(r);
  if (opts.maxTrainRows !== undefined && trainIdx.length > opts.maxTrainRows) {
    const step = trainIdx.length / opts.maxTrainRows;
    const kept = Array.from({ length: opts.maxTrainRows }, (_, i) => trainIdx[Math.floor(i * step)]!);
    trainIdx.length = 0;
    trainIdx.push(...kept);
  }
  const K = opts.train?.K ?? 8;
  if (trainIdx.length < Math.max(2 * K, 16) || calIdx.length < 8)
    throw new BuildError(
      `too few usable records to train: ${many.rows} of ${records.length} featurized (${many.errors.length} refused)`,
    );
  const take = (idx: number[]): Float32Array => {
    const out = new Float32Array(idx.length * d);
    for (let i = 0; i < idx.length; i++) out.set(many.X.subarray(idx[i]! * d, (idx[i]! + 1) * d), i * d);
    return out;
  };
  const Xtrain = take(trainIdx);
  const Xcal = take(calIdx);
  const result = await trainDDCL(Xtrain, trainIdx.length, d, opts.train ?? {}, opts.onEpoch);
  const onnx = exportScoringModel(result.model);
  const scorer = await OnnxScorer.create(onnx, { intraOpThreads: 1 });
  try {
    const trainScores = await scoreAll(scorer, Xtrain, trainIdx.length, d, opts.scoreBatch ?? 4096);
    const calScores = await scoreAll(scorer, Xcal, calIdx.length, d, opts.scoreBatch ?? 4096);
    const stats = prototypeStats(Xtrain, trainIdx.length, d, trainScores.nearest, result.model.prototypes.K);
    // The input-space terms, fitted on the training rows. Their columns are added by the same
    // gradeColumns as in serving: to the calibration rows (the grade's reference), and to the
    // training rows only when the norms are fitted on those.
    const spread = opts.inputDeviation ? featureSpread(Xtrain, trainIdx.length, d) : undefined;
    const terms: ColumnTerms = {
      ...(spread ? { deviation: { spread } } : {}),
      ...(opts.inputMixture ? { inputMixture: fitInputMixture(stats, d) } : {}),
      ...(opts.globalDeviation ? { globalDeviation: fitGlobalDeviation(Xtrain, trainIdx.length, d) } : {}),
    };
    const calOpts: CalibrationOptions = {
      embedDim: result.model.prototypes.m,
      ...opts.calibration,
      ...(spread ? { inputDeviation: { spread } } : {}),
      ...(terms.inputMixture ? { inputMixture: terms.inputMixture } : {}),
      ...(terms.globalDeviation ? { globalDeviation: terms.globalDeviation } : {}),
    };
    gradeColumns(calScores, terms, stats, Xcal, calIdx.length, d);
    if (calOpts.normaliseOn === 'train') gradeColumns(trainScores, terms, stats, Xtrain, trainIdx.length, d);
    const calibration = fitCalibration(trainScores, result.model.prototypes.K, calScores, calOpts);
    const parts: ArtifactParts = {
      inputDim: d,
      inputSchemaFingerprint: opts.inputSchemaFingerprint ?? '',
      parentVersion: opts.parentVersion ?? null,
      trainingWindow: opts.trainingWindow ?? { rows: records.length },
      hyperparameters: toJson(result.config),
      trainingMetrics: result.history.map(epochJson),
      validation: {},
      onnx,
      weights: trainWeightsToPart(result.weights),
      features: toJson(featurizer.toJSON()),
      prototypes: { snapshot: result.model.prototypes, stats },
      calibration: toJson(calibration),
    };
    return {
      parts,
      featurizer,
      result,
      calibration,
      rows: {
        total: records.length,
        refused: many.errors.length,
        train: trainIdx.length,
        calibration: calIdx.length,
      },
    };
  } finally {
    await scorer.release();
  }
}

/** Scores n rows in chunks and concatenates the columns calibration needs. */
export async function scoreAll(
  scorer: OnnxScorer,
  X: Float32Array,
  n: number,
  d: number,
  chunk = 4096,
): Promise<ScoreColumns & { nearest: Int32Array; batches: ScoreBatch[] }> {
  const sMin = new Float32Array(n);
  const sQ = new Float32Array(n);
  const nearest = new Int32Array(n);
  let recon: Float32Array | undefined;
  let D: Float32Array | undefined;
  const batches: ScoreBatch[] = [];
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const b = await scorer.score(X.subarray(s * d, (s + m) * d), m);
    (D ??= new Float32Array(n * b.K)).set(b.D, s * b.K);
    sMin.set(b.sMin, s);
    sQ.set(b.sQ, s);
    nearest.set(b.nearest, s);
    if (b.recon) (recon ??= new Float32Array(n)).set(b.recon, s);
    batches.push(b);
  }
  return { n, sMin, sQ, nearest, ...(recon ? { recon } : {}), ...(D ? { D } : {}), batches };
}

function epochJson(m: EpochMetrics): JsonValue {
  return {
    epoch: m.epoch,
    T: m.T,
    L_q: m.Lq,
    L_OLS: m.Lols,
    V: m.V,
    gap: m.identityGap,
    minV: m.minV,
    separation: m.separation,
    meanMaxQ: m.meanMaxQ,
    forceNorm: m.forceNorm,
    usedPrototypes: m.usedPrototypes,
    recon: Number.isFinite(m.recon) ? m.recon : null,
  };
}

/** JSON-safe copy (drops undefined and typed-array views become arrays). */
export function toJson(x: unknown): JsonValue {
  return JSON.parse(
    JSON.stringify(x, (_k, v: unknown) =>
      ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v,
    ),
  ) as JsonValue;
}

// ---- resumable training weights <-> artifact tensors ----

function mlpTensors(prefix: string, w: BackboneWeights, out: Record<string, NamedTensor>): JsonValue {
  w.layers.forEach((l, i) => {
    out[`${prefix}.${i}.W`] = { shape: [l.in, l.out], data: l.W };
    out[`${prefix}.${i}.b`] = { shape: [l.out], data: l.b };
  });
  return { activation: w.activation, layers: w.layers.length };
}

export function trainWeightsToPart(w: TrainWeights): WeightsPart {
  const tensors: Record<string, NamedTensor> = {};
  const meta: Record<string, JsonValue> = {
    format: 'ddcl.train-weights.v1',
    standardize: w.standardize,
    embedNorm: w.embedNorm,
    backbone: mlpTensors('backbone', w.backbone, tensors),
  };
  if (w.decoder) meta.decoder = mlpTensors('decoder', w.decoder, tensors);
  if (w.dcl.variant === 'dual-linear') {
    tensors['dcl.W'] = { shape: [w.dcl.n, w.dcl.K], data: w.dcl.W };
    meta.dcl = { variant: 'dual-linear', n: w.dcl.n, K: w.dcl.K };
  } else {
    tensors['dcl.U'] = { shape: [w.dcl.m, w.dcl.K], data: w.dcl.U };
    meta.dcl = { variant: 'dual-attention', m: w.dcl.m, K: w.dcl.K, tau: w.dcl.tau };
  }
  return { tensors, meta };
}

export function partToTrainWeights(p: WeightsPart): TrainWeights {
  const meta = p.meta as Record<string, unknown>;
  if (meta?.format !== 'ddcl.train-weights.v1')
    throw new BuildError(`weights: unknown format ${JSON.stringify(meta?.format)}`);
  const tensor = (name: string): NamedTensor => {
    const t = p.tensors[name];
    if (!t) throw new BuildError(`weights: tensor ${name} is missing`);
    return t;
  };
  const mlp = (
    prefix: string,
    m: { activation: BackboneWeights['activation']; layers: number },
  ): BackboneWeights => ({
    activation: m.activation,
    layers: Array.from({ length: m.layers }, (_, i) => {
      const W = tensor(`${prefix}.${i}.W`);
      return { in: W.shape[0]!, out: W.shape[1]!, W: W.data, b: tensor(`${prefix}.${i}.b`).data };
    }),
  });
  const dm = meta.dcl as { variant: string; n?: number; m?: number; K: number; tau?: number };
  const dcl: DclWeights =
    dm.variant === 'dual-linear'
      ? { variant: 'dual-linear', n: dm.n!, K: dm.K, W: tensor('dcl.W').data }
      : { variant: 'dual-attention', m: dm.m!, K: dm.K, U: tensor('dcl.U').data, tau: dm.tau! };
  return {
    backbone: mlp('backbone', meta.backbone as never),
    ...(meta.decoder ? { decoder: mlp('decoder', meta.decoder as never) } : {}),
    dcl,
    standardize: meta.standardize as boolean,
    embedNorm: meta.embedNorm as TrainWeights['embedNorm'],
  };
}
