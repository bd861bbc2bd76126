// The validation gate: nothing is swapped in before it says yes. Two kinds of checks:
//  1. training health, from the last epoch's metrics (DDCL.md's signals): finite loss terms; no
//     prototype collapse (V ~ 0 while q stays soft: every prototype sits on the same point); not
//     too many dead prototypes (usedPrototypes / K); prototypes separated above a floor;
//  2. behaviour on a held-back slice of the window that neither model trained on, scored through
//     ONNX Runtime exactly as serving will: every grade finite; the challenger's alert rate not
//     beyond `maxAlertRateRatio` times the serving model's (or, the window holding inliers only,
//     times the rate a calibrated model raises on clean data, 1 - threshold, whichever is larger);
//     the two grade distributions within `maxGradeKs` (Kolmogorov-Smirnov distance).
// The decision is data: it goes into the manifest's `validation`, the log and the metrics.
import { Featurizer } from '../../features/index.js';
import type { JsonValue } from '../../registry/artifact.js';
import { Calibrator, gradeColumns, type CalibrationState } from '../../serve/calibration.js';
import { OnnxScorer } from '../../serve/scorer.js';

export interface GateConfig {
  /** Alerts at grade >= this. */
  alertThreshold: number;
  /** Challenger alert rate <= ratio * max(serving rate, 1 - alertThreshold). */
  maxAlertRateRatio: number;
  /** Largest KS distance between the grade distributions of the two models on the slice. */
  maxGradeKs: number;
  /** Mean pairwise prototype distance (embedding units) below this: rejected. */
  minSeparation: number;
  /** Fraction of prototypes nearest to no row above this: rejected. */
  maxDeadFraction: number;
  /** Collapse: V below this ... */
  collapseV: number;
  /** ... while meanMaxQ stays below this (soft assignments) ... */
  collapseMaxQ: number;
  /**
   * ... and the prototypes sit within this mean pairwise distance (embedding units; embeddings
   * are standardised to unit variance per dimension). V ~ 0 with soft q and separated prototypes
   * means groups of duplicated prototypes share the rows' mass: measured on the demo's payments
   * (K = 10, separation 4.8), such a model still detects well, so that alone is not a collapse.
   */
  collapseSeparation: number;
  /** Fewer slice rows than this: the comparison is skipped (and says so). */
  minSlice: number;
}

export const DEFAULT_GATE: Readonly<GateConfig> = Object.freeze({
  alertThreshold: 0.99,
  maxAlertRateRatio: 3,
  maxGradeKs: 0.3,
  minSeparation: 1e-3,
  maxDeadFraction: 0.5,
  collapseV: 1e-4,
  collapseMaxQ: 0.9,
  collapseSeparation: 0.1,
  minSlice: 50,
});

export type GateCode =
  | 'non-finite-loss'
  | 'non-finite-score'
  | 'collapsed'
  | 'dead-prototypes'
  | 'low-separation'
  | 'alert-rate'
  | 'grade-shift'
  | 'no-metrics';

export interface GateReason {
  code: GateCode;
  message: string;
  value: number | null;
  limit: number | null;
}

export interface GateMetrics {
  [key: string]: number | null;
}

export interface GateDecision {
  accepted: boolean;
  reasons: GateReason[];
  metrics: GateMetrics;
  /** The slice comparison ran (a serving model and a big enough slice). */
  compared: boolean;
}

/** What the gate needs of a model: both ArtifactParts (a challenger) and a ModelArtifact have it. */
export interface GateModel {
  onnx: Uint8Array;
  features: JsonValue;
  calibration: JsonValue;
  /** Per-prototype input statistics (the input deviation's reference, when the calibration uses it). */
  prototypes: { stats: readonly { mean: ArrayLike<number>; std: ArrayLike<number> }[] };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : v === null ? NaN : Number.NaN);

/** Training-health checks on the per-epoch metrics (ArtifactParts.trainingMetrics) of a model with K prototypes. */
export function checkTraining(
  trainingMetrics: JsonValue,
  K: number,
  cfg: GateConfig,
): { reasons: GateReason[]; metrics: GateMetrics } {
  const reasons: GateReason[] = [];
  const hist = Array.isArray(trainingMetrics) ? trainingMetrics : [];
  const last = hist[hist.length - 1];
  if (!last || typeof last !== 'object' || Array.isArray(last)) {
    reasons.push({ code: 'no-metrics', message: 'no training metrics to check', value: null, limit: null });
    return { reasons, metrics: {} };
  }
  const m = last as Record<string, JsonValue>;
  // JSON turns NaN into null: a null loss term is a NaN one.
  const Lq = num(m.L_q);
  const Lols = num(m.L_OLS);
  const V = num(m.V);
  const minV = num(m.minV);
  const sep = num(m.separation);
  const maxQ = num(m.meanMaxQ);
  const used = num(m.usedPrototypes);
  const metrics: GateMetrics = {
    L_q: fin(Lq),
    L_OLS: fin(Lols),
    V: fin(V),
    minV: fin(minV),
    separation: fin(sep),
    meanMaxQ: fin(maxQ),
    usedPrototypes: fin(used),
    K,
  };
  const bad = hist.flatMap((e, i) => {
    const o = e as Record<string, JsonValue>;
    return ['L_q', 'L_OLS', 'V'].filter((t) => !Number.isFinite(num(o?.[t]))).map((t) => `${t}@${i}`);
  });
  if (bad.length > 0) {
    reasons.push({
      code: 'non-finite-loss',
      message: `non-finite loss terms: ${bad.slice(0, 6).join(', ')}${bad.length > 6 ? ', ...' : ''}`,
      value: bad.length,
      limit: 0,
    });
    return { reasons, metrics };
  }
  if (V < cfg.collapseV && !(maxQ >= cfg.collapseMaxQ) && !(sep >= cfg.collapseSeparation))
    reasons.push({
      code: 'collapsed',
      message: `prototype collapse: V ${V.toExponential(2)} < ${cfg.collapseV} while mean max q ${fmt(maxQ)} < ${cfg.collapseMaxQ} and separation ${fmt(sep)} < ${cfg.collapseSeparation}`,
      value: V,
      limit: cfg.collapseV,
    });
  const dead = Number.isFinite(used) ? 1 - used / K : NaN;
  metrics.deadFraction = fin(dead);
  if (!(dead <= cfg.maxDeadFraction))
    reasons.push({
      code: 'dead-prototypes',
      message: `${K - used} of ${K} prototypes are nearest to no row (${fmt(dead)} > ${cfg.maxDeadFraction})`,
      value: fin(dead),
      limit: cfg.maxDeadFraction,
    });
  if (!(sep >= cfg.minSeparation))
    reasons.push({
      code: 'low-separation',
      message: `prototype separation ${fmt(sep)} < ${cfg.minSeparation}`,
      value: fin(sep),
      limit: cfg.minSeparation,
    });
  return { reasons, metrics };
}

/** Grades of records in order through a model's own (fresh) featurizer, ONNX graph and calibration. */
export async function gradeRecords(
  model: GateModel,
  records: readonly unknown[],
): Promise<{ grades: Float64Array; refused: number; nonFinite: number }> {
  // A fresh featurizer: the serving one holds live shingle state that must not move.
  const fz = Featurizer.fromJSON(model.features);
  const many = fz.featurizeMany(records as unknown[]);
  const scorer = await OnnxScorer.create(model.onnx, { intraOpThreads: 1 });
  try {
    const cal = new Calibrator(model.calibration as unknown as CalibrationState);
    const grades = new Float64Array(many.rows);
    let nonFinite = 0;
    const chunk = 2048;
    for (let s = 0; s < many.rows; s += chunk) {
      const n = Math.min(chunk, many.rows - s);
      const Xs = many.X.subarray(s * fz.dim, (s + n) * fz.dim);
      const b = gradeColumns(await scorer.score(Xs, n), cal.state, model.prototypes.stats, Xs, n, fz.dim);
      for (let i = 0; i < n; i++) {
        // A NaN raw score grades as 0 (no comparison holds for NaN): count it on z, not on the grade.
        const { z, grade } = cal.grade(b, i);
        grades[s + i] = grade;
        if (!Number.isFinite(z) || !Number.isFinite(grade)) nonFinite++;
      }
    }
    return { grades, refused: many.errors.length, nonFinite };
  } finally {
    await scorer.release();
  }
}

/** Two-sample Kolmogorov-Smirnov distance sup |F_a - F_b|. */
export function ksDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  if (x.length === 0 || y.length === 0) return NaN;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

const rate = (g: Float64Array, t: number): number => {
  let c = 0;
  for (const v of g) if (v >= t) c++;
  return g.length ? c / g.length : NaN;
};

/**
 * The whole gate: training health of the challenger (with K prototypes), then its behaviour
 * against the serving model on `slice` (held-back records, decoded). Without a serving model
 * (the first model) the challenger's slice alert rate is held to ratio * (1 - threshold).
 */
export async function validateChallenger(
  challenger: GateModel & { trainingMetrics: JsonValue },
  K: number,
  serving: GateModel | undefined,
  /** Decoded records (the codec's output), in window order. */
  slice: readonly unknown[],
  config: Partial<GateConfig> = {},
): Promise<GateDecision> {
  const cfg: GateConfig = { ...DEFAULT_GATE, ...config };
  const { reasons, metrics } = checkTraining(challenger.trainingMetrics, K, cfg);
  let compared = false;
  metrics.slice = slice.length;
  if (slice.length >= cfg.minSlice) {
    const c = await gradeRecords(challenger, slice);
    const nonFinite = c.nonFinite;
    metrics.challengerRefused = c.refused;
    if (nonFinite > 0) {
      reasons.push({
        code: 'non-finite-score',
        message: `${nonFinite} of ${c.grades.length} slice scores are not finite`,
        value: nonFinite,
        limit: 0,
      });
    } else {
      const cr = rate(c.grades, cfg.alertThreshold);
      metrics.challengerAlertRate = cr;
      let base = 1 - cfg.alertThreshold;
      if (serving) {
        const s = await gradeRecords(serving, slice);
        const sr = rate(s.grades, cfg.alertThreshold);
        const ks = ksDistance(c.grades, s.grades);
        metrics.servingAlertRate = fin(sr);
        metrics.gradeKs = fin(ks);
        if (Number.isFinite(sr)) base = Math.max(base, sr);
        if (!(ks <= cfg.maxGradeKs))
          reasons.push({
            code: 'grade-shift',
            message: `grade distributions differ: KS ${fmt(ks)} > ${cfg.maxGradeKs}`,
            value: fin(ks),
            limit: cfg.maxGradeKs,
          });
      }
      // The bound on the rate, plus an allowance for counting noise on a finite slice (three
      // Poisson standard deviations and one alert): on a slice of a few hundred rows a single
      // alert must not reject a model, while a clearly worse one still is.
      const n = c.grades.length;
      const expected = cfg.maxAlertRateRatio * base * n;
      const limit = n > 0 ? (expected + 3 * Math.sqrt(expected) + 1) / n : cfg.maxAlertRateRatio * base;
      metrics.alertRateLimit = limit;
      if (!(cr <= limit))
        reasons.push({
          code: 'alert-rate',
          message: `challenger alerts on ${fmt(100 * cr)}% of the held-back slice, limit ${fmt(100 * limit)}%${serving ? ` (serving: ${fmt(100 * (metrics.servingAlertRate ?? NaN))}%)` : ''}`,
          value: cr,
          limit,
        });
      compared = true;
    }
  }
  return { accepted: reasons.length === 0, reasons, metrics, compared };
}

/** The decision as the manifest's `validation` field. */
export function decisionJson(d: GateDecision, extra: Record<string, JsonValue> = {}): JsonValue {
  return {
    accepted: d.accepted,
    compared: d.compared,
    reasons: d.reasons.map((r) => ({ ...r })),
    metrics: { ...d.metrics },
    ...extra,
  };
}

function fin(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function fmt(x: number): string {
  return Number.isFinite(x)
    ? Math.abs(x) >= 0.01 || x === 0
      ? x.toFixed(3)
      : x.toExponential(2)
    : String(x);
}
