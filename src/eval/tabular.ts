// Tabular detection quality (ADBench): unsupervised. The model is built on every row of the
// file without its labels (ADBench's unsupervised setting, the one IsolationForest is compared
// in), through buildModel exactly as `ddcl train` builds it (features robust-scaled on the
// training rows, DDCL, ONNX, calibration on the held-out fifth); every row is then scored through
// ONNX Runtime and normalised by the calibration fitted with the model. Labels are read only for
// ROC-AUC and PR-AUC. Default row score ('global'): robust z (against the held-out rows) of the
// prototype mixture 's_mix' (the DDCL distances to the prototypes, each prototype weighted by its
// share and spread), plus the z of the decoder's reconstruction error, plus the z of the input
// deviation from the nearest prototype's members. With `models` > 1 the z of several seeds are
// averaged (one configuration, an ensemble over initialisations).
import type { DataMatrix } from '../data/matrix.js';
import { numericSpecForColumns, type NumericOptions } from '../features/index.js';
import { Calibrator, gradeColumns, rawScore, type RawScoreKind } from '../serve/calibration.js';
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
   * Row score of one model: 'calibrated' = the daemon Calibrator's z (per-prototype robust z of
   * the raw score, max with the reconstruction z); 'global' = robust z of the raw score against
   * all held-out rows (one norm for every prototype) plus the reconstruction z (and the input
   * deviation's z with inputDeviation). Per-prototype
   * norms inflate the z of rows near tight prototypes; on ADBench 'global' ranks better.
   */
  score?: 'calibrated' | 'global';
  /**
   * Add the input deviation (distance, per feature, from the members of the row's nearest
   * prototype; serve/calibration inputDeviation) to the score: its z is summed ('global') or
   * maxed ('calibrated') with the others.
   */
  inputDeviation?: boolean;
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
  rawScore: 's_mix',
  models: 3,
  score: 'global',
  inputDeviation: true,
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
      calibration: { rawScore: cfg.rawScore },
      inputDeviation: cfg.inputDeviation ?? false,
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
      if ((cfg.score ?? 'calibrated') === 'global') {
        for (let i = 0; i < m.n; i++) {
          let z = (rawScore(st, cols, i) - st.global.loc) / st.global.scale;
          if (st.recon && cols.recon) z += (cols.recon[i]! - st.recon.loc) / st.recon.scale;
          if (st.deviation && cols.dev) z += (cols.dev[i]! - st.deviation.loc) / st.deviation.scale;
          score[i]! += z / cfg.models;
        }
      } else {
        const cal = new Calibrator(st);
        for (let i = 0; i < m.n; i++) score[i]! += cal.grade(cols, i).z / cfg.models;
      }
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
