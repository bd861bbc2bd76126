// Calibration: raw scores -> a grade in [0, 1], the same code in the daemon and in evaluation.
//  1. per-prototype normalisation: each cluster has its own spread, so a raw score is turned into
//     a robust z-score against the scores of the training rows that prototype represents;
//     with a decoder the reconstruction error gets its own z and the larger of the two counts;
//  2. quantile grade: the fraction of a clean calibration sample below z, with an exponential
//     tail fitted to the top of that sample so that grades keep ordering beyond its maximum;
//  3. (optional) anomaly likelihood: how unusual the short-term average of recent z is against
//     their long-term distribution (Numenta's idea; worth about 16 NAB points to HTM).
// All state is plain JSON (calibration.json) and every update uses only past events.

export type RawScoreKind = 's_min' | 's_q';

export interface PrototypeNorm {
  /** Robust location (median) and scale (IQR/1.349, floored) of the raw score per prototype. */
  loc: number[];
  scale: number[];
  count: number[];
}

export interface CalibrationState {
  version: 1;
  rawScore: RawScoreKind;
  perPrototype: PrototypeNorm;
  /** Global fallback for prototypes with few members, and the reconstruction error's norm. */
  global: { loc: number; scale: number };
  recon?: { loc: number; scale: number };
  /** Sorted clean calibration z-scores (subsampled to at most `maxReference`). */
  reference: number[];
  /** Exponential tail above the reference's `tailQuantile`: P(z > zq + t) = tailMass * exp(-t / beta). */
  tail: { zq: number; mass: number; beta: number };
  likelihood?: { shortWindow: number; longWindow: number };
}

export interface CalibrationOptions {
  rawScore?: RawScoreKind;
  /** Prototypes with fewer training members than this use the global norm. */
  minMembers?: number;
  maxReference?: number;
  tailQuantile?: number;
  /** Enable the streaming anomaly likelihood with these windows (events). */
  likelihood?: { shortWindow: number; longWindow: number };
}

export interface ScoreColumns {
  n: number;
  sMin: Float32Array | Float64Array | number[];
  sQ: Float32Array | Float64Array | number[];
  nearest: Int32Array | number[];
  recon?: Float32Array | Float64Array | number[];
}

function quantileSorted(s: ArrayLike<number>, p: number): number {
  if (s.length === 0) return 0;
  const x = p * (s.length - 1);
  const lo = Math.floor(x);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (x - lo);
}

function robust(values: number[]): { loc: number; scale: number } {
  const s = Float64Array.from(values).sort();
  const loc = quantileSorted(s, 0.5);
  const iqr = quantileSorted(s, 0.75) - quantileSorted(s, 0.25);
  const mad = quantileSorted(Float64Array.from(values, (v) => Math.abs(v - loc)).sort(), 0.5);
  // IQR/1.349 and 1.4826*MAD estimate sigma for a normal; take the larger, floored, so that a
  // cluster of identical scores does not make every new value infinitely unusual.
  const scale = Math.max(iqr / 1.349, 1.4826 * mad, 1e-6 * Math.max(1, Math.abs(loc)), 1e-9);
  return { loc, scale };
}

const raw = (c: ScoreColumns, kind: RawScoreKind, i: number): number => (kind === 's_min' ? c.sMin[i]! : c.sQ[i]!);

/** Fits the normalisation on training scores and the grade on a (disjoint, clean) calibration slice. */
export function fitCalibration(
  train: ScoreColumns,
  K: number,
  calib: ScoreColumns,
  opts: CalibrationOptions = {},
): CalibrationState {
  const kind = opts.rawScore ?? 's_q';
  const minMembers = opts.minMembers ?? 10;
  const all: number[] = [];
  const per: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < train.n; i++) {
    const v = raw(train, kind, i);
    all.push(v);
    per[train.nearest[i]!]?.push(v);
  }
  const global = robust(all);
  const perPrototype: PrototypeNorm = { loc: [], scale: [], count: [] };
  for (let k = 0; k < K; k++) {
    const r = per[k]!.length >= minMembers ? robust(per[k]!) : global;
    perPrototype.loc.push(r.loc);
    perPrototype.scale.push(r.scale);
    perPrototype.count.push(per[k]!.length);
  }
  const state: CalibrationState = {
    version: 1,
    rawScore: kind,
    perPrototype,
    global,
    reference: [],
    tail: { zq: 0, mass: 0, beta: 1 },
    ...(opts.likelihood ? { likelihood: opts.likelihood } : {}),
  };
  if (train.recon) state.recon = robust(Array.from(train.recon as ArrayLike<number>));
  const zs = new Float64Array(calib.n);
  for (let i = 0; i < calib.n; i++) zs[i] = normalise(state, calib, i);
  zs.sort();
  // Evenly spaced order statistics keep the CDF's shape with a bounded state.
  const maxRef = Math.min(opts.maxReference ?? 4096, zs.length);
  for (let j = 0; j < maxRef; j++) state.reference.push(zs[maxRef === 1 ? 0 : Math.round((j * (zs.length - 1)) / (maxRef - 1))]!);
  const tq = opts.tailQuantile ?? 0.95;
  const zq = quantileSorted(zs, tq);
  let excess = 0;
  let m = 0;
  for (const z of zs)
    if (z > zq) {
      excess += z - zq;
      m++;
    }
  state.tail = { zq, mass: 1 - tq, beta: m > 0 && excess > 0 ? excess / m : 1 };
  return state;
}

/** Per-prototype robust z of event i (max with the reconstruction z when present). */
export function normalise(state: CalibrationState, c: ScoreColumns, i: number): number {
  const k = c.nearest[i]!;
  const loc = state.perPrototype.loc[k] ?? state.global.loc;
  const scale = state.perPrototype.scale[k] ?? state.global.scale;
  let z = (raw(c, state.rawScore, i) - loc) / scale;
  if (state.recon && c.recon) z = Math.max(z, (c.recon[i]! - state.recon.loc) / state.recon.scale);
  return z;
}

/** Grade in [0, 1]: empirical CDF of the calibration sample, exponential tail beyond its top. */
export function quantileGrade(state: CalibrationState, z: number): number {
  const ref = state.reference;
  if (ref.length === 0) return 0.5;
  if (z > state.tail.zq) return 1 - state.tail.mass * Math.exp(-(z - state.tail.zq) / state.tail.beta);
  // Binary search: fraction of reference values <= z.
  let lo = 0;
  let hi = ref.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ref[mid]! <= z) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo / ref.length, 1 - state.tail.mass);
}

/** Complementary normal CDF, Q(x) = P(N(0,1) > x) (Abramowitz-Stegun 7.1.26 through erfc). */
export function normalTail(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x / Math.SQRT2));
  const y =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-(x * x) / 2);
  return x >= 0 ? y / 2 : 1 - y / 2;
}

/**
 * Streaming calibrator: one per model (and, in evaluation, one per series). `grade()` takes the
 * next event's raw scores and returns its grade; state only ever depends on earlier events.
 */
export class Calibrator {
  private readonly short: Float64Array;
  private readonly long: Float64Array;
  private shortN = 0;
  private shortSum = 0;
  private longN = 0;
  private longSum = 0;
  private longSq = 0;
  private sIdx = 0;
  private lIdx = 0;

  constructor(readonly state: CalibrationState) {
    this.short = new Float64Array(state.likelihood?.shortWindow ?? 1);
    this.long = new Float64Array(state.likelihood?.longWindow ?? 1);
  }

  /** Grade of event i of a batch. Updates the likelihood windows (if enabled) afterwards. */
  grade(c: ScoreColumns, i: number): { z: number; grade: number } {
    const z = normalise(this.state, c, i);
    const q = quantileGrade(this.state, z);
    if (!this.state.likelihood) return { z, grade: q };
    const lik = this.likelihood(z);
    return { z, grade: lik };
  }

  /** Anomaly likelihood of z given the recent history; then z joins the history. */
  likelihood(z: number): number {
    // Squash z so that single huge outliers do not dominate the long-term statistics.
    const v = Math.log1p(Math.max(0, z));
    if (this.shortN === this.short.length) this.shortSum -= this.short[this.sIdx]!;
    else this.shortN++;
    this.short[this.sIdx] = v;
    this.shortSum += v;
    this.sIdx = (this.sIdx + 1) % this.short.length;
    const shortMean = this.shortSum / this.shortN;
    let p = 0.5;
    if (this.longN >= Math.min(50, this.long.length)) {
      const mean = this.longSum / this.longN;
      const variance = Math.max(this.longSq / this.longN - mean * mean, 1e-6);
      p = 1 - normalTail((shortMean - mean) / Math.sqrt(variance));
    }
    if (this.longN === this.long.length) {
      const old = this.long[this.lIdx]!;
      this.longSum -= old;
      this.longSq -= old * old;
    } else this.longN++;
    this.long[this.lIdx] = v;
    this.longSum += v;
    this.longSq += v * v;
    this.lIdx = (this.lIdx + 1) % this.long.length;
    return p;
  }
}
