// Typed, documented training configuration with its defaults in one place, and the shapes of
// what training reports.
import type { Activation, DclVariant, EmbedNorm, ScoringModel, TrainWeights } from '../model/types.js';
import type { DistNorm, Objective } from '../model/loss.js';
import type { EnginePreference } from '../model/engine.js';
import { ConfigError } from '../model/errors.js';

export interface TemperatureSchedule {
  /** Temperature of the first DDCL epoch (relative to the distance scale, see distNorm). */
  start: number;
  /** Temperature of the last DDCL epoch. */
  end: number;
  /** How T moves from start to end over the DDCL epochs. */
  schedule: 'geometric' | 'linear' | 'constant';
}

export interface TrainConfig {
  /** Seeds every initialisation, shuffle and k-means restart. Same seed, same weights. */
  seed: number;
  /** tfjs backend preference (initEngine). */
  engine: EnginePreference;
  /** Hidden widths of the backbone MLP; the backbone is d -> widths... -> m. */
  widths: number[];
  /** Embedding dimension m. */
  m: number;
  /** Number of prototypes K (fixed in advance). */
  K: number;
  /** Activation after every hidden layer (the embedding layer is linear). */
  activation: Activation;
  /** DCL variant: 'dual-linear' (full fixed window) or 'dual-attention' (mini-batches, any n). */
  variant: DclVariant;
  /** DDCL epochs (joint training of backbone and DCL). */
  epochs: number;
  /** Autoencoder pretraining epochs before DDCL (recon loss only). 0: none. */
  pretrainEpochs: number;
  /** Rows per mini-batch for dual-attention, pretraining and final embedding passes. */
  batchSize: number;
  /** dual-linear only: optimisation steps on the full window per epoch. */
  stepsPerEpoch: number;
  /** Adam learning rate of the backbone (and decoder) during DDCL. */
  lrBackbone: number;
  /**
   * Adam learning rate of the DCL. Unset: lrBackbone / 30 for dual-linear (the layer is prototype
   * descent preconditioned by H^T H, DDCL.md "Training"), 5 * lrBackbone for dual-attention.
   */
  lrDcl?: number;
  /** Adam learning rate during autoencoder pretraining. */
  lrPretrain: number;
  /** 'lq' (DDCL), 'ols' (L_OLS-only ablation), 'stopgrad' (q and P detached ablation). */
  objective: Objective;
  /** Weight of the decoder's reconstruction loss in DDCL (0: decoder not trained jointly). */
  lambda: number;
  /** Weight of the cluster-usage term log K - H(mean q) against one prototype taking all. */
  usageWeight: number;
  /** Weight of mean_i H(q_i) (IIC's confidence term): separates coincident prototypes. */
  confidenceWeight: number;
  /** Standardise embeddings over the batch (fixed per-dimension variance: no shrinking to a point). */
  standardize: boolean;
  /** Epsilon of the standardisation, variance + eps. */
  standardizeEps: number;
  /** 'l2': L2-normalise the (standardised) embedding before distances. */
  embedNorm: EmbedNorm;
  /** 'median': D is divided by its detached batch median before the temperature. */
  distNorm: DistNorm;
  temperature: TemperatureSchedule;
  /** dual-attention softmax temperature tau. */
  attentionTau: number;
  /** dual-attention init: length of each U column (pointing at a distinct data point). */
  attentionInitScale: number;
  /**
   * DCL start: 'points' = K distinct k-means++ seeds among the embeddings (one-hot W, or U pointed
   * at them); 'kmeans' = k-means on the embeddings (W = cluster indicators / size, so P starts at
   * the centroids; U pointed at the centroids), IDEC's start after pretraining.
   */
  dclInit: 'points' | 'kmeans';
  /** Std of the noise added to the one-hot (dual-linear) or pointed (dual-attention) DCL init. */
  dclInitNoise: number;
  /** Whether the embedding layer has a trainable bias (Deep SVDD: a free bias helps collapse). */
  lastBias: boolean;
  /** Rows per chunk when embedding the whole training set at the end. */
  chunkSize: number;
  /** Start from these weights instead of a fresh init (resume). */
  resume?: TrainWeights;
}

/** Small and fast: a few seconds on 2 cores for a few thousand rows. */
export const defaultTrainConfig: Readonly<TrainConfig> = Object.freeze({
  seed: 0,
  engine: 'auto',
  widths: [64, 32],
  m: 16,
  K: 8,
  activation: 'relu',
  variant: 'dual-attention',
  epochs: 20,
  pretrainEpochs: 0,
  batchSize: 256,
  stepsPerEpoch: 1,
  lrBackbone: 1e-3,
  lrPretrain: 1e-3,
  objective: 'lq',
  lambda: 0,
  usageWeight: 0.1,
  confidenceWeight: 0,
  standardize: true,
  standardizeEps: 1e-5,
  embedNorm: 'none',
  distNorm: 'median',
  // Relative to the median of D (a far distance once K > 2). The paper's 2 -> 0.5 made q so soft
  // here that L_q merged well-separated blobs (4 blobs in 10-D: agreement 0.79 vs 1.0 at 0.3 -> 0.05).
  temperature: { start: 0.3, end: 0.05, schedule: 'geometric' },
  attentionTau: 1,
  attentionInitScale: 2,
  dclInit: 'kmeans',
  dclInitNoise: 0.01,
  lastBias: false,
  chunkSize: 4096,
}) as TrainConfig;

export function resolveConfig(cfg: Partial<TrainConfig>): TrainConfig {
  const c: TrainConfig = {
    ...defaultTrainConfig,
    ...cfg,
    temperature: { ...defaultTrainConfig.temperature, ...cfg.temperature },
  };
  const posInt = (f: keyof TrainConfig, v: unknown, min = 1): void => {
    if (!Number.isInteger(v) || (v as number) < min)
      throw new ConfigError(f, v, `must be an integer >= ${min}`);
  };
  const pos = (f: string, v: unknown): void => {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
      throw new ConfigError(f, v, 'must be a finite number > 0');
  };
  const nonNeg = (f: string, v: unknown): void => {
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))
      throw new ConfigError(f, v, 'must be a finite number >= 0');
  };
  posInt('m', c.m);
  posInt('K', c.K, 2);
  posInt('epochs', c.epochs, 0);
  posInt('pretrainEpochs', c.pretrainEpochs, 0);
  posInt('batchSize', c.batchSize, 2);
  posInt('stepsPerEpoch', c.stepsPerEpoch);
  posInt('chunkSize', c.chunkSize);
  if (!Array.isArray(c.widths) || c.widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw new ConfigError('widths', c.widths, 'must be positive integers');
  }
  pos('lrBackbone', c.lrBackbone);
  pos('lrPretrain', c.lrPretrain);
  if (c.lrDcl !== undefined) pos('lrDcl', c.lrDcl);
  nonNeg('lambda', c.lambda);
  nonNeg('usageWeight', c.usageWeight);
  nonNeg('confidenceWeight', c.confidenceWeight);
  pos('standardizeEps', c.standardizeEps);
  pos('temperature.start', c.temperature.start);
  pos('temperature.end', c.temperature.end);
  pos('attentionTau', c.attentionTau);
  pos('attentionInitScale', c.attentionInitScale);
  nonNeg('dclInitNoise', c.dclInitNoise);
  if (!['points', 'kmeans'].includes(c.dclInit))
    throw new ConfigError('dclInit', c.dclInit, "must be 'points' or 'kmeans'");
  if (!['dual-linear', 'dual-attention'].includes(c.variant))
    throw new ConfigError('variant', c.variant, 'unknown DCL variant');
  if (!['lq', 'ols', 'stopgrad'].includes(c.objective))
    throw new ConfigError('objective', c.objective, 'unknown objective');
  return c;
}

export function dclLearningRate(c: TrainConfig): number {
  return c.lrDcl ?? (c.variant === 'dual-linear' ? c.lrBackbone / 30 : c.lrBackbone * 5);
}

/** One DDCL epoch's health signals (DDCL.md). Loss terms are in units of D / scale. */
export interface EpochMetrics {
  epoch: number;
  /** Temperature used this epoch. */
  T: number;
  /** The optimised total (objective + lambda recon + usageWeight usage), mean over batches. */
  loss: number;
  Lq: number;
  Lols: number;
  V: number;
  /** Mean over batches of |L_q - L_OLS - V| (float32 rounding only). */
  identityGap: number;
  /** Smallest V over the epoch's batches. */
  minV: number;
  /** mean_i H(q_i). */
  confidence: number;
  /** Reconstruction MSE of the decoder (NaN without one). */
  recon: number;
  /** log K - H(mean q): 0 when every prototype gets the same share. */
  usage: number;
  /** Mean pairwise Euclidean distance between prototypes (embedding units). */
  separation: number;
  /** Mean over rows of max_k q_ik (1/K uniform, 1 hard). */
  meanMaxQ: number;
  /** ||2 Sigmabar P|| (Frobenius), the force dV/dP with q fixed, in units of D / scale. */
  forceNorm: number;
  /** Mean per-dimension variance of the embeddings h over the batch. */
  embedVar: number;
  /** Prototypes nearest to at least one row in the epoch. */
  usedPrototypes: number;
  seconds: number;
}

export interface PretrainMetrics {
  epoch: number;
  recon: number;
  seconds: number;
}

export interface TrainResult {
  /** Ready for scoring: standardisation folded into the last layer, frozen prototypes P*. */
  model: ScoringModel;
  history: EpochMetrics[];
  pretrainHistory: PretrainMetrics[];
  /** Enough to resume training (cfg.resume). */
  weights: TrainWeights;
  /** Hard cluster (argmin D against P*) of each training row. */
  assignments: Int32Array;
  seconds: number;
  /** The tfjs backend the run used. */
  backend: string;
  config: TrainConfig;
}
