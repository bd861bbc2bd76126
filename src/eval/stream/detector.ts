// The streaming evaluation protocol (DESIGN.md "Evaluation protocol"): one series is a stream,
// read once in order; every row is scored before anything learns from it. The first model is
// built (buildModel: features fitted on the window, DDCL, ONNX, calibration: the daemon's path) on
// the first `initialRows` rows; later models are rebuilt every `retrainEvery` events on the
// trailing `trainWindow` inliers (rows whose grade stayed below the alert threshold). A model
// scores only rows that come after the rows it was built from. Grades come from the daemon's
// Calibrator, whose anomaly-likelihood history carries over from one model to the next.
import { Featurizer, type FeatureSpec } from '../../features/index.js';
import {
  Calibrator,
  gradeColumns,
  type CalibrationOptions,
  type CalibrationState,
  type ScoreColumns,
} from '../../serve/calibration.js';
import { OnnxScorer } from '../../serve/scorer.js';
import { buildModel, type ScoreTermOptions } from '../../train/buildModel.js';
import type { TrainConfig } from '../../train/config.js';

export interface StreamConfig {
  /** Feature spec for the records (unfitted: every model fits it on its own window). */
  spec: FeatureSpec;
  train: Partial<TrainConfig>;
  calibration: CalibrationOptions;
  /** Score terms beside the raw score fitted into each model (buildModel options of the same names). */
  terms?: ScoreTermOptions;
  /** Rebuild the model after this many further events (0: never). */
  retrainEvery: number;
  /** Most (inlier) rows a retrained model is built from: the trailing window. */
  trainWindow: number;
  /** Grade at or above which a row is an alert (the daemon's label-free threshold). */
  alertGrade: number;
  /**
   * After an alert, the surprise of the next `cooldown` rows is scaled by `cooldownFactor`
   * (alert de-duplication: one incident, one alert). 0: off.
   */
  cooldown: number;
  cooldownFactor: number;
  /**
   * Range check (HTM's "spatial anomaly" in NAB): a row whose numeric `field` lies outside
   * [min - t, max + t] of the previous `window` rows, t = `tolerance` * (max - min), gets at least
   * the surprise of an alert. Its grade is left as the model gave it. Absent: off.
   */
  spatial?: { field: string; tolerance: number; window: number };
  /** Rows per ONNX scoring call. */
  scoreBatch: number;
  /**
   * Called once per model with the raw scores it gave rows [start, start + n) and its calibration
   * (for offline analysis of the grading; the stream itself does not depend on it).
   */
  onModel?: (start: number, cols: ScoreColumns, calibration: CalibrationState) => void;
}

export interface StreamResult {
  /**
   * Output score per row: the calibrator's surprise, -log10(1 - grade), after de-duplication
   * (0 for rows before the first model). Monotone in the grade, without its rounding near 1.
   */
  scores: Float64Array;
  /** The calibrator's grade per row, before de-duplication. */
  grades: Float64Array;
  /** Per-prototype robust z of the raw score per row. */
  z: Float64Array;
  /** Nearest prototype per row (-1 before the first model). */
  nearest: Int32Array;
  /** Models built and the seconds spent building them and scoring. */
  models: number;
  buildSeconds: number;
  scoreSeconds: number;
}

/**
 * Runs one stream. `records` are the events in order; only `records[0..i]` influence row i's
 * score (a test holds this: a prefix of the stream gets the same scores).
 */
export async function runStream(
  records: readonly object[],
  initialRows: number,
  cfg: StreamConfig,
): Promise<StreamResult> {
  const n = records.length;
  const scores = new Float64Array(n);
  const grades = new Float64Array(n);
  const zs = new Float64Array(n);
  const nearest = new Int32Array(n).fill(-1);
  const inlier = new Uint8Array(n);
  const window = shingleReach(cfg.spec);
  let models = 0;
  let buildSeconds = 0;
  let scoreSeconds = 0;
  let calibrator: Calibrator | undefined;
  let cooldownLeft = 0;
  const range = cfg.spatial ? new RangeCheck(records, cfg.spatial) : undefined;
  const alertSurprise = -Math.log10(1 - cfg.alertGrade);
  let start = Math.min(initialRows, n);
  // Rows before the first model: their scores are 0 (NAB ignores its probation rows anyway).
  if (start < n) {
    let trainRows: object[] = records.slice(0, start) as object[];
    for (;;) {
      const t0 = performance.now();
      const built = await buildModel(cfg.spec, trainRows, {
        train: cfg.train,
        calibration: cfg.calibration,
        scoreBatch: cfg.scoreBatch,
        ...cfg.terms,
      });
      models++;
      buildSeconds += (performance.now() - t0) / 1000;
      calibrator = calibrator ? calibrator.next(built.calibration) : new Calibrator(built.calibration);
      const end = cfg.retrainEvery > 0 ? Math.min(n, start + cfg.retrainEvery) : n;
      const t1 = performance.now();
      // A fresh featurizer with this model's statistics, warmed on the rows before `start` so that
      // shingles see the same history as they would in serving.
      const fz = new Featurizer(built.featurizer.spec);
      const from = Math.max(0, start - window);
      const X = fz.featurizeMany(records.slice(from, end) as unknown[]);
      if (X.errors.length > 0) throw X.errors[0]!.error;
      const d = fz.dim;
      const scorer = await OnnxScorer.create(built.parts.onnx, { intraOpThreads: 1 });
      const rec = cfg.onModel
        ? {
            n: end - start,
            sMin: new Float64Array(end - start),
            sQ: new Float64Array(end - start),
            nearest: new Int32Array(end - start),
            recon: new Float64Array(end - start),
          }
        : undefined;
      try {
        for (let s = start; s < end; s += cfg.scoreBatch) {
          const m = Math.min(cfg.scoreBatch, end - s);
          const off = (s - from) * d;
          const Xb = X.X.subarray(off, off + m * d);
          const b = gradeColumns(
            await scorer.score(Xb, m),
            built.calibration,
            built.parts.prototypes.stats,
            Xb,
            m,
            d,
          );
          for (let j = 0; j < m; j++) {
            const i = s + j;
            const { z, grade, surprise } = calibrator.grade(b, j);
            if (rec) {
              rec.sMin[i - start] = b.sMin[j]!;
              rec.sQ[i - start] = b.sQ[j]!;
              rec.nearest[i - start] = b.nearest[j]!;
              rec.recon[i - start] = b.recon?.[j] ?? 0;
            }
            zs[i] = z;
            grades[i] = grade;
            nearest[i] = b.nearest[j]!;
            let out = surprise;
            if (range?.outside(i)) out = Math.max(out, alertSurprise + 1);
            if (cooldownLeft > 0) {
              out *= cfg.cooldownFactor;
              cooldownLeft--;
            } else if (out >= alertSurprise && cfg.cooldown > 0) cooldownLeft = cfg.cooldown;
            scores[i] = out;
            inlier[i] = grade < cfg.alertGrade ? 1 : 0;
          }
        }
      } finally {
        await scorer.release();
      }
      scoreSeconds += (performance.now() - t1) / 1000;
      if (rec) cfg.onModel!(start, rec, built.calibration);
      if (end >= n) break;
      start = end;
      // Trailing window of inliers, oldest first.
      const picked: object[] = [];
      for (let i = start - 1; i >= 0 && picked.length < cfg.trainWindow; i--)
        if (i < initialRows || inlier[i]) picked.push(records[i]!);
      trainRows = picked.reverse();
    }
  }
  return { scores, grades, z: zs, nearest, models, buildSeconds, scoreSeconds };
}

/** Rows of history the spec's shingles look back over. */
function shingleReach(spec: FeatureSpec): number {
  let w = 0;
  for (const f of spec.fields) if (f.kind === 'shingle') w = Math.max(w, f.window - 1);
  return w;
}

/** Whether a row's value lies outside the (widened) range of the rows just before it. */
export class RangeCheck {
  constructor(
    private readonly records: readonly object[],
    private readonly opts: { field: string; tolerance: number; window: number },
  ) {}

  private value(i: number): number {
    const v = (this.records[i] as Record<string, unknown>)[this.opts.field];
    return typeof v === 'number' ? v : Number.NaN;
  }

  /** Uses rows max(0, i - window) .. i - 1 only. */
  outside(i: number): boolean {
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = Math.max(0, i - this.opts.window); k < i; k++) {
      const x = this.value(k);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (!(hi > lo)) return false;
    const t = this.opts.tolerance * (hi - lo);
    const x = this.value(i);
    return x > hi + t || x < lo - t;
  }
}
