// Tabular detection quality (ADBench): unsupervised. The model is built on every row of the
// file without its labels (ADBench's unsupervised setting, the one IsolationForest is compared
// in), through buildModel exactly as `ddcl train` builds it (features robust-scaled on the
// training rows, DDCL, ONNX, calibration on the held-out fifth); every row is then scored through
// ONNX Runtime and normalised by the calibration fitted with the model. Labels are read only for
// ROC-AUC and PR-AUC. Default row score: the daemon's default scoring (config `scoring`;
// calibration combine 'sum', serve/calibration normalise), the sum of robust z (against the
// held-out rows) of the prototype mixture 's_mix' over the DDCL distances (each prototype weighted
// by its share and spread), the decoder's reconstruction error, the mixture over the same
// prototypes in input space (each an isotropic Gaussian over its training members' features,
// weighted by its share), and the squared standardised distance from the training rows' mean;
// every weight 1. With `models` > 1 the z of several seeds are averaged (one configuration, an
// ensemble over initialisations).
import { DEFAULT_CONFIG } from '../config/config.js';
import type { DataMatrix } from '../data/matrix.js';
import { numericSpecForColumns, type NumericOptions } from '../features/index.js';
import { gradeColumns, normalise, type RawScoreKind, type ScoreCombine } from '../serve/calibration.js';
import { OnnxScorer } from '../serve/scorer.js';
import { buildModel, scoreAll } from '../train/buildModel.js';
import type { TrainConfig } from '../train/config.js';
import { averagePrecision, rocAuc } from './metrics.js';

export class TabularEvalError extends Error {
  override readonly name = 'TabularEvalError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export interface TabularConfig {
  train: Partial<TrainConfig>;
  rawScore: RawScoreKind;
  /** Models (seeds seed, seed+1, ...) whose z are averaged. */
  models: number;
  /**
   * How one model's terms make its row score: the calibration's combine (serve/calibration
   * normalise, the daemon's code). 'max' is the daemon's default (per-prototype z of the raw
   * score, max with the other terms); 'sum' adds the weighted z, the raw score normalised against
   * all held-out rows at once.
   */
  combine: ScoreCombine;
  /** Fit the input deviation from the nearest prototype's members (serve/calibration inputDeviation). */
  inputDeviation?: boolean;
  /** Fit the input-space prototype mixture (serve/calibration fitInputMixture). */
  inputMixture?: boolean;
  /** Fit the global deviation (serve/calibration fitGlobalDeviation). */
  globalDeviation?: boolean;
  /** Options of every numeric column's feature (src/features NumericOptions: clip, squash, log1p). */
  features?: NumericOptions;
}

export const defaultTabularConfig: Readonly<TabularConfig> = Object.freeze({
  train: {
    widths: [64, 32],
    m: 4,
    K: 32,
    epochs: 20,
    pretrainEpochs: 5,
    lambda: 0.1,
    batchSize: 256,
    seed: 0,
  },
  // The daemon's default scoring (config `scoring`), so that what is measured is what runs.
  rawScore: DEFAULT_CONFIG.scoring.rawScore,
  models: 3,
  combine: { mode: DEFAULT_CONFIG.scoring.combine, weights: { ...DEFAULT_CONFIG.scoring.weights } },
  inputDeviation: DEFAULT_CONFIG.scoring.inputDeviation,
  inputMixture: DEFAULT_CONFIG.scoring.inputMixture,
  globalDeviation: DEFAULT_CONFIG.scoring.globalDeviation,
});

export interface TabularResult {
  dataset: string;
  n: number;
  d: number;
  anomalies: number;
  auc_roc: number;
  auc_pr: number;
  seconds: number;
  /** Per-row score (mean calibrated z): what the AUCs rank. */
  scores: Float64Array;
}

export async function evalTabular(
  dataset: string,
  m: DataMatrix,
  cfg: TabularConfig = defaultTabularConfig,
): Promise<TabularResult> {
  if (!m.y) throw new TabularEvalError(dataset, 'has no labels (an npz needs y next to X)');
  const t0 = performance.now();
  const rows: Float32Array[] = [];
  for (let i = 0; i < m.n; i++) rows.push(m.X.subarray(i * m.d, (i + 1) * m.d));
  const spec = numericSpecForColumns(m.columns, cfg.features ?? {});
  const score = new Float64Array(m.n);
  const seed0 = cfg.train.seed ?? 0;
  for (let s = 0; s < cfg.models; s++) {
    const built = await buildModel(spec, rows, {
      train: { ...cfg.train, seed: seed0 + s },
      calibration: { rawScore: cfg.rawScore, combine: cfg.combine },
      inputDeviation: cfg.inputDeviation ?? false,
      inputMixture: cfg.inputMixture ?? false,
      globalDeviation: cfg.globalDeviation ?? false,
    });
    const fz = built.featurizer;
    const X = fz.featurizeMany(rows);
    if (X.errors.length > 0)
      throw new TabularEvalError(dataset, `row ${X.errors[0]!.index}: ${X.errors[0]!.error.message}`);
    const scorer = await OnnxScorer.create(built.parts.onnx, { intraOpThreads: 1 });
    try {
      const st = built.calibration;
      const cols = gradeColumns(
        await scoreAll(scorer, X.X, X.rows, fz.dim),
        st,
        built.parts.prototypes.stats,
        X.X,
        X.rows,
        fz.dim,
      );
      for (let i = 0; i < m.n; i++) score[i]! += normalise(st, cols, i) / cfg.models;
    } finally {
      await scorer.release();
    }
  }
  const y = Array.from(m.y, (v) => (v ? 1 : 0));
  return {
    dataset,
    n: m.n,
    d: m.d,
    anomalies: y.reduce<number>((a, v) => a + v, 0),
    auc_roc: rocAuc(y, score),
    auc_pr: averagePrecision(y, score),
    seconds: (performance.now() - t0) / 1000,
    scores: score,
  };
}
