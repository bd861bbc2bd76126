// Calibration: raw scores -> a grade in [0, 1], the same code in the daemon and in evaluation.
//  1. per-prototype normalisation: each cluster has its own spread, so a raw score is turned into
//     a robust z-score against the scores of the training rows that prototype represents;
//     with a decoder the reconstruction error gets its own z and the larger of the two counts;
//  2. quantile grade: the fraction of a clean calibration sample below z, with an exponential
//     tail fitted to the top of that sample so that grades keep ordering beyond its maximum;
//  3. (optional) anomaly likelihood: how unusual the short-term average of recent z is against
//     their long-term distribution (Numenta's idea; worth about 16 NAB points to HTM).
// All state is plain JSON (calibration.json) and every update uses only past events.

/**
 * 's_min': distance to the nearest prototype; 's_q': sum_k q_k d_k; 's_mix': prototype mixture,
 * -log sum_k w_k N(h; p*_k, s_k^2 I) with each prototype's share w_k of the training rows and the
 * spread s_k^2 of its members (mean d_k / m): a row far from every prototype, or near only a
 * small or tight one, scores high. 's_mix' needs the n x K distances D in the score columns.
 */
export type RawScoreKind = 's_min' | 's_q' | 's_mix';

/** The prototype mixture of 's_mix': raw = -log sum_k exp(bias_k - d_k * inv_k). */
export interface MixtureState {
  /** log w_k - (m/2) log s_k^2 */
  bias: number[];
  /** 1 / (2 s_k^2) */
  inv: number[];
}

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
  /** Present when rawScore is 's_mix'. */
  mixture?: MixtureState;
  /**
   * Input deviation (CalibrationOptions.inputDeviation): per-feature spread floor (the feature's
   * std over the training rows) and the robust norm of the deviation column.
   */
  deviation?: { spread: number[]; loc: number; scale: number };
  /**
   * Prototype mixture in input space (CalibrationOptions.inputMixture): the score columns' `imix`
   * and its robust norm. Each used prototype is an isotropic Gaussian over its training members'
   * features (their mean, from the artifact's prototype statistics, and their mean per-feature
   * variance), weighted by its share of the rows.
   */
  inputMixture?: InputMixtureState & { loc: number; scale: number };
  /**
   * Global deviation (CalibrationOptions.globalDeviation): each row's squared standardised
   * distance from the training rows' mean (per feature), the score columns' `gdev`, and its norm.
   */
  globalDeviation?: GlobalDeviation & { loc: number; scale: number };
  /**
   * How the terms' robust z make one z (normalise). Absent: 'max', the per-prototype z of the
   * raw score and the larger of it and the other terms' z. 'sum': the weighted sum of the z of
   * every fitted term, the raw score normalised against all rows at once (one norm for every
   * prototype). A weight left out counts 1.
   */
  combine?: ScoreCombine;
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
  /** Embedding dimension m ('s_mix' only: the mixture's normalising constant). Default 1. */
  embedDim?: number;
  /**
   * Per-feature spread floor of the input deviation (score columns' `dev`, see inputDeviation).
   * When set and the columns carry `dev`, its robust z is fitted and combines with the others
   * (CalibrationState.combine). Unset: not used.
   */
  inputDeviation?: { spread: number[] };
  /** Fit the input-space prototype mixture's norm (the columns must carry `imix`). */
  inputMixture?: InputMixtureState;
  /** Fit the global deviation's norm (the columns must carry `gdev`). */
  globalDeviation?: GlobalDeviation;
  /** How the terms combine into one z (CalibrationState.combine). Default: 'max'. */
  combine?: ScoreCombine;
  /**
   * Rows the per-prototype norms are fitted on: 'train' (in-sample: scores are smaller than on
   * unseen rows, so new normal rows look unusual) or 'calibration' (the held-out rows; default).
   */
  normaliseOn?: 'train' | 'calibration';
}

/** The terms a calibration can combine (CalibrationState.combine). */
export const scoreTerms = ['raw', 'recon', 'deviation', 'inputMixture', 'globalDeviation'] as const;
export type ScoreTerm = (typeof scoreTerms)[number];

export interface ScoreCombine {
  mode: 'max' | 'sum';
  weights?: Partial<Record<ScoreTerm, number>>;
}

/** An isotropic Gaussian mixture over the used prototypes (those with training members). */
export interface InputMixtureState {
  /** Prototype index of each component. */
  proto: number[];
  /** log w_c - (d/2) log s_c^2 */
  bias: number[];
  /** 1 / (2 s_c^2) */
  inv: number[];
}

export interface GlobalDeviation {
  mean: number[];
  /** Floored per-feature standard deviation of the training rows. */
  std: number[];
}

export interface ScoreColumns {
  n: number;
  sMin: Float32Array | Float64Array | number[];
  sQ: Float32Array | Float64Array | number[];
  nearest: Int32Array | number[];
  recon?: Float32Array | Float64Array | number[];
  /** n x K squared distances to the prototypes, row-major (needed by 's_mix'). */
  D?: Float32Array | Float64Array | number[];
  /** Input deviation from the nearest prototype's members (inputDeviation), when used. */
  dev?: Float32Array | Float64Array | number[];
  /** Input-space prototype mixture score (inputMixtureScores), when used. */
  imix?: Float32Array | Float64Array | number[];
  /** Global deviation (globalDeviationScores), when used. */
  gdev?: Float32Array | Float64Array | number[];
}

/** Mean and standard deviation (floored at 1e-6) of each feature over n rows (X row-major n x d). */
function featureMoments(X: ArrayLike<number>, n: number, d: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = X[i * d + j]!;
      sum[j]! += v;
      sq[j]! += v * v;
    }
  const mean = Array.from(sum, (s) => (n > 0 ? s / n : 0));
  const std = mean.map((m, j) => Math.max(Math.sqrt(Math.max(n > 0 ? sq[j]! / n - m * m : 0, 0)), 1e-6));
  return { mean, std };
}

/** Standard deviation of each feature over n rows (X row-major n x d): the deviation's spread floor. */
export function featureSpread(X: ArrayLike<number>, n: number, d: number): number[] {
  return featureMoments(X, n, d).std;
}

/**
 * Input deviation of each row from the members of its nearest prototype, in input (feature)
 * space: sum_j ((x_j - mean_kj) / max(std_kj, spread_j))^2, the squared length of the
 * explanation's per-feature deviations with the feature's overall spread as the floor.
 */
export function inputDeviation(
  stats: readonly { mean: ArrayLike<number>; std: ArrayLike<number> }[],
  spread: ArrayLike<number>,
  X: ArrayLike<number>,
  n: number,
  d: number,
  nearest: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = stats[nearest[i]!];
    if (!p) continue;
    let q = 0;
    for (let j = 0; j < d; j++) q += ((X[i * d + j]! - p.mean[j]!) / Math.max(p.std[j]!, spread[j]!)) ** 2;
    out[i] = q;
  }
  return out;
}

/**
 * Per-feature mean and standard deviation of n rows: the global deviation's reference. The std is
 * floored at `floor` (default 0.5: half an interquartile range of a robust-scaled feature, half the
 * swing of a 0/1 indicator), so that a column (nearly) constant in the window, such as a rare
 * category's indicator, does not make its first different value dominate every other term.
 */
export function fitGlobalDeviation(X: ArrayLike<number>, n: number, d: number, floor = 0.5): GlobalDeviation {
  const { mean, std } = featureMoments(X, n, d);
  return { mean, std: std.map((s) => Math.max(s, floor)) };
}

/** The non-zero features of n rows (compressed rows): rows of one-hot and hashed categories are mostly zeros. */
export interface SparseRows {
  start: Int32Array;
  index: Int32Array;
  value: Float64Array;
}

/** Scratch buffers of sparseRows(..., scratch = true), grown as needed and kept between calls. */
let scratchIndex = new Int32Array(0);
let scratchValue = new Float64Array(0);
let scratchStart = new Int32Array(0);

/**
 * The non-zero features of n rows. With `scratch` the result is a view of buffers that the next
 * call overwrites (for use within one synchronous computation: gradeColumns), so that a batch
 * allocates nothing here; otherwise it is a copy.
 */
export function sparseRows(X: ArrayLike<number>, n: number, d: number, scratch = false): SparseRows {
  if (scratchIndex.length < n * d) {
    scratchIndex = new Int32Array(n * d);
    scratchValue = new Float64Array(n * d);
  }
  if (scratchStart.length < n + 1) scratchStart = new Int32Array(n + 1);
  const si = scratchIndex;
  const sv = scratchValue;
  const start = scratchStart;
  let t = 0;
  for (let i = 0, o = 0; i < n; i++, o += d) {
    start[i] = t;
    for (let j = 0; j < d; j++) {
      const x = X[o + j]!;
      si[t] = j;
      sv[t] = x;
      t += x !== 0 ? 1 : 0;
    }
  }
  start[n] = t;
  if (scratch) return { start: start.subarray(0, n + 1), index: si.subarray(0, t), value: sv.subarray(0, t) };
  return { start: start.slice(0, n + 1), index: si.slice(0, t), value: sv.slice(0, t) };
}

const gdevCache = new WeakMap<GlobalDeviation, { w: Float64Array; wm: Float64Array; c: number }>();

/**
 * sum_j ((x_j - mean_j) / std_j)^2 of each of n rows. Computed as c + sum over the row's non-zero
 * features of (x_j^2 - 2 x_j mean_j) / std_j^2 (c = sum_j mean_j^2 / std_j^2): rows of one-hot and
 * hashed categories are mostly zeros.
 */
export function globalDeviationScores(
  g: GlobalDeviation,
  X: ArrayLike<number>,
  n: number,
  d: number,
  sp: SparseRows = sparseRows(X, n, d),
): Float64Array {
  let k = gdevCache.get(g);
  if (!k) {
    const w = Float64Array.from(g.std, (s) => 1 / (s * s));
    const wm = Float64Array.from(g.mean, (m, j) => 2 * m * w[j]!);
    let c = 0;
    for (let j = 0; j < d; j++) c += g.mean[j]! * g.mean[j]! * w[j]!;
    k = { w, wm, c };
    gdevCache.set(g, k);
  }
  const { w, wm, c } = k;
  const { start, index, value } = sp;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let q = c;
    for (let t = start[i]!; t < start[i + 1]!; t++) {
      const j = index[t]!;
      const x = value[t]!;
      q += x * (x * w[j]! - wm[j]!);
    }
    out[i] = Math.max(q, 0);
  }
  return out;
}

/**
 * The input-space prototype mixture from the prototypes' member statistics (count, per-feature
 * mean and std over the training rows): prototype k is N(mean_k, s_k^2 I) with s_k^2 the mean of
 * its members' per-feature variances (floored at 1e-3 of the rows' average), weighted by its
 * share (count_k + 1) / (n + K). Prototypes without members are left out.
 */
export function fitInputMixture(
  stats: readonly { count: number; std: ArrayLike<number> }[],
  d: number,
): InputMixtureState {
  const K = stats.length;
  let n = 0;
  let total = 0;
  const s2 = stats.map((p) => {
    let v = 0;
    for (let j = 0; j < d; j++) v += p.std[j]! ** 2;
    v /= Math.max(d, 1);
    n += p.count;
    total += p.count * v;
    return v;
  });
  const shared = Math.max(n > 0 ? total / n : 1, 1e-12);
  const out: InputMixtureState = { proto: [], bias: [], inv: [] };
  stats.forEach((p, k) => {
    if (p.count < 1) return;
    const v = Math.max(p.count > 1 ? s2[k]! : shared, 1e-3 * shared);
    out.proto.push(k);
    out.bias.push(Math.log((p.count + 1) / (n + K)) - 0.5 * d * Math.log(v));
    out.inv.push(1 / (2 * v));
  });
  return out;
}

const mixCache = new WeakMap<InputMixtureState, { M: Float64Array; mm: Float64Array }>();

/**
 * -log sum_c exp(bias_c - |x - mean_c|^2 inv_c) of each of n rows, computed stably. The squared
 * distance is |x|^2 - 2 x.mean_c + |mean_c|^2 over the row's non-zero features only (rows of
 * one-hot and hashed categories are mostly zeros), the means packed once per mixture.
 */
export function inputMixtureScores(
  mix: InputMixtureState,
  stats: readonly { mean: ArrayLike<number> }[],
  X: ArrayLike<number>,
  n: number,
  d: number,
  sp: SparseRows = sparseRows(X, n, d),
): Float64Array {
  const C = mix.proto.length;
  let k = mixCache.get(mix);
  if (!k || k.M.length !== C * d) {
    const M = new Float64Array(C * d);
    const mm = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const mu = stats[mix.proto[c]!]!.mean;
      let q = 0;
      for (let j = 0; j < d; j++) {
        M[c * d + j] = mu[j]!;
        q += mu[j]! * mu[j]!;
      }
      mm[c] = q;
    }
    k = { M, mm };
    mixCache.set(mix, k);
  }
  const { M, mm } = k;
  const { start, index, value } = sp;
  const out = new Float64Array(n);
  const L = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    const t0 = start[i]!;
    const t1 = start[i + 1]!;
    let xx = 0;
    for (let t = t0; t < t1; t++) xx += value[t]! * value[t]!;
    for (let c = 0; c < C; c++) {
      const base = c * d;
      let dot = 0;
      for (let t = t0; t < t1; t++) dot += value[t]! * M[base + index[t]!]!;
      L[c] = mix.bias[c]! - Math.max(xx - 2 * dot + mm[c]!, 0) * mix.inv[c]!;
    }
    out[i] = negLogSumExp(L, C);
  }
  return out;
}

/** What gradeColumns needs of the fitted input-space terms (a CalibrationState has them all). */
export interface ColumnTerms {
  deviation?: { spread: ArrayLike<number> };
  inputMixture?: InputMixtureState;
  globalDeviation?: GlobalDeviation;
}

/**
 * The score columns a calibration grades, for one scored batch: the batch itself, with the input
 * deviation, input mixture and global deviation added when the calibration was fitted with them
 * (X: the batch's n x d feature rows; stats: the artifact's per-prototype statistics). Without
 * them in the state it is a no-op.
 */
export function gradeColumns<T extends ScoreColumns>(
  cols: T,
  state: ColumnTerms,
  stats: readonly { mean: ArrayLike<number>; std: ArrayLike<number> }[],
  X: ArrayLike<number>,
  n: number,
  d: number,
): T {
  if (state.deviation && !cols.dev)
    cols.dev = inputDeviation(stats, state.deviation.spread, X, n, d, cols.nearest);
  const im = state.inputMixture && !cols.imix;
  const gd = state.globalDeviation && !cols.gdev;
  // Scratch views: both terms are computed before anything else can call sparseRows.
  const sp = im || gd ? sparseRows(X, n, d, true) : undefined;
  if (im) cols.imix = inputMixtureScores(state.inputMixture!, stats, X, n, d, sp);
  if (gd) cols.gdev = globalDeviationScores(state.globalDeviation!, X, n, d, sp);
  return cols;
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

/** Fits the 's_mix' mixture on the training rows' nearest prototypes and distances. */
export function fitMixture(train: ScoreColumns, K: number, embedDim = 1): MixtureState {
  const count = new Float64Array(K);
  const dsum = new Float64Array(K);
  let total = 0;
  for (let i = 0; i < train.n; i++) {
    const k = train.nearest[i]!;
    if (!(k >= 0 && k < K)) continue;
    count[k]!++;
    dsum[k]! += train.sMin[i]!;
    total += train.sMin[i]!;
  }
  const n = count.reduce((a, b) => a + b, 0);
  const m = Math.max(1, embedDim);
  // Shared spread for prototypes with fewer than two members; every spread floored relative to it.
  const shared = Math.max(n > 0 ? total / (n * m) : 1, 1e-12);
  const bias: number[] = [];
  const inv: number[] = [];
  for (let k = 0; k < K; k++) {
    const s2 = Math.max(count[k]! > 1 ? dsum[k]! / (count[k]! * m) : shared, 1e-3 * shared);
    bias.push(Math.log((count[k]! + 1) / (n + K)) - 0.5 * m * Math.log(s2));
    inv.push(1 / (2 * s2));
  }
  return { bias, inv };
}

/** -log sum_k exp(L_k) over the first n entries of L, computed stably. */
function negLogSumExp(L: Float64Array, n: number): number {
  let mx = -Infinity;
  for (let k = 0; k < n; k++) if (L[k]! > mx) mx = L[k]!;
  let s = 0;
  for (let k = 0; k < n; k++) s += Math.exp(L[k]! - mx);
  return -(mx + Math.log(s));
}

/** Per-event scratch of mixtureScore (grown to K as needed). */
let mixtureTerms = new Float64Array(0);

/** -log sum_k exp(bias_k - D_ik inv_k), computed stably. */
export function mixtureScore(mix: MixtureState, c: ScoreColumns, i: number): number {
  if (!c.D) throw new Error("rawScore 's_mix' needs the distance matrix D in the score columns");
  const K = mix.bias.length;
  if (mixtureTerms.length < K) mixtureTerms = new Float64Array(K);
  const L = mixtureTerms;
  for (let k = 0; k < K; k++) L[k] = mix.bias[k]! - c.D[i * K + k]! * mix.inv[k]!;
  return negLogSumExp(L, K);
}

/** The raw score of event i that the state normalises (s_min, s_q or the prototype mixture). */
export function rawScore(
  state: Pick<CalibrationState, 'rawScore' | 'mixture'>,
  c: ScoreColumns,
  i: number,
): number {
  if (state.rawScore === 's_mix') {
    if (!state.mixture) throw new Error("rawScore 's_mix' without a fitted mixture");
    return mixtureScore(state.mixture, c, i);
  }
  return state.rawScore === 's_min' ? c.sMin[i]! : c.sQ[i]!;
}

/** Fits the normalisation on training scores and the grade on a (disjoint, clean) calibration slice. */
export function fitCalibration(
  train: ScoreColumns,
  K: number,
  calib: ScoreColumns,
  opts: CalibrationOptions = {},
): CalibrationState {
  const kind = opts.rawScore ?? 's_q';
  const minMembers = opts.minMembers ?? 10;
  const normRows = (opts.normaliseOn ?? 'calibration') === 'calibration' ? calib : train;
  const mixture = kind === 's_mix' ? fitMixture(train, K, opts.embedDim) : undefined;
  const head = { rawScore: kind, ...(mixture ? { mixture } : {}) };
  const all: number[] = [];
  const per: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < normRows.n; i++) {
    const v = rawScore(head, normRows, i);
    all.push(v);
    per[normRows.nearest[i]!]?.push(v);
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
    ...(mixture ? { mixture } : {}),
    perPrototype,
    global,
    reference: [],
    tail: { zq: 0, mass: 0, beta: 1 },
    ...(opts.likelihood ? { likelihood: opts.likelihood } : {}),
  };
  if (normRows.recon) state.recon = robust(Array.from(normRows.recon as ArrayLike<number>));
  if (opts.inputDeviation && normRows.dev)
    state.deviation = {
      spread: [...opts.inputDeviation.spread],
      ...robust(Array.from(normRows.dev as ArrayLike<number>)),
    };
  if (opts.inputMixture && normRows.imix)
    state.inputMixture = { ...opts.inputMixture, ...robust(Array.from(normRows.imix as ArrayLike<number>)) };
  if (opts.globalDeviation && normRows.gdev)
    state.globalDeviation = {
      mean: [...opts.globalDeviation.mean],
      std: [...opts.globalDeviation.std],
      ...robust(Array.from(normRows.gdev as ArrayLike<number>)),
    };
  if (opts.combine?.mode === 'sum')
    state.combine = {
      mode: 'sum',
      ...(opts.combine.weights ? { weights: { ...opts.combine.weights } } : {}),
    };
  const zs = new Float64Array(calib.n);
  for (let i = 0; i < calib.n; i++) zs[i] = normalise(state, calib, i);
  zs.sort();
  // Evenly spaced order statistics keep the CDF's shape with a bounded state.
  const maxRef = Math.min(opts.maxReference ?? 4096, zs.length);
  for (let j = 0; j < maxRef; j++)
    state.reference.push(zs[maxRef === 1 ? 0 : Math.round((j * (zs.length - 1)) / (maxRef - 1))]!);
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

/**
 * The z of event i: by default (combine 'max') the per-prototype robust z of the raw score, or the
 * reconstruction, deviation, input-mixture or global-deviation z when one of those is larger;
 * with combine 'sum', the weighted sum of all of them, the raw score normalised globally.
 */
export function normalise(state: CalibrationState, c: ScoreColumns, i: number): number {
  const sum = state.combine?.mode === 'sum';
  const w = state.combine?.weights;
  let z: number;
  if (sum) z = ((w?.raw ?? 1) * (rawScore(state, c, i) - state.global.loc)) / state.global.scale;
  else {
    const k = c.nearest[i]!;
    const loc = state.perPrototype.loc[k] ?? state.global.loc;
    const scale = state.perPrototype.scale[k] ?? state.global.scale;
    z = (rawScore(state, c, i) - loc) / scale;
  }
  if (state.recon && c.recon)
    z = addTerm(z, sum, w?.recon, (c.recon[i]! - state.recon.loc) / state.recon.scale);
  if (state.deviation && c.dev)
    z = addTerm(z, sum, w?.deviation, (c.dev[i]! - state.deviation.loc) / state.deviation.scale);
  if (state.inputMixture && c.imix)
    z = addTerm(z, sum, w?.inputMixture, (c.imix[i]! - state.inputMixture.loc) / state.inputMixture.scale);
  if (state.globalDeviation && c.gdev)
    z = addTerm(
      z,
      sum,
      w?.globalDeviation,
      (c.gdev[i]! - state.globalDeviation.loc) / state.globalDeviation.scale,
    );
  return z;
}

function addTerm(z: number, sum: boolean, weight: number | undefined, t: number): number {
  return sum ? z + (weight ?? 1) * t : Math.max(z, t);
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
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-(x * x) / 2);
  return x >= 0 ? y / 2 : 1 - y / 2;
}

/** -log10 Q(x), accurate far into the tail (no underflow to 0 where Q itself would). */
export function normalSurprise(x: number): number {
  if (x < 0) return -Math.log10(1 - normalTail(-x));
  const t = 1 / (1 + 0.3275911 * (x / Math.SQRT2));
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return -(Math.log(poly / 2) - (x * x) / 2) / Math.LN10;
}

/** The result of grading one event. */
export interface Graded {
  /** Per-prototype robust z of the raw score. */
  z: number;
  /** In [0, 1]: alerts are grade >= the alert threshold. */
  grade: number;
  /** -log10(1 - grade), computed without rounding 1 - grade to 0: ranks events beyond 1 - 1e-16. */
  surprise: number;
}

/**
 * Streaming calibrator: one per model (and, in evaluation, one per series). `grade()` takes the
 * next event's raw scores and returns its grade; state only ever depends on earlier events.
 *
 * The anomaly likelihood follows Numenta's: the short-term average of the (squashed) z is compared
 * with the distribution of that same average over the long window (mean and variance of the
 * averages, not of single values: an average of w values varies sqrt(w) less).
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
  /** Squashed z in arrival order, for handing the history to the next model's calibrator. */
  private readonly raw: Float64Array;
  private rawN = 0;
  private rIdx = 0;

  constructor(readonly state: CalibrationState) {
    this.short = new Float64Array(state.likelihood?.shortWindow ?? 1);
    this.long = new Float64Array(state.likelihood?.longWindow ?? 1);
    this.raw = new Float64Array(
      state.likelihood ? state.likelihood.longWindow + state.likelihood.shortWindow : 1,
    );
  }

  /**
   * A calibrator for a new model (after a retrain or hot swap) that keeps this one's recent
   * history, so the likelihood does not restart cold at every model version.
   */
  next(state: CalibrationState): Calibrator {
    const c = new Calibrator(state);
    if (!state.likelihood || !this.state.likelihood) return c;
    const R = this.raw.length;
    for (let j = 0; j < this.rawN; j++) c.observe(this.raw[(this.rIdx - this.rawN + j + 2 * R) % R]!);
    return c;
  }

  /** Grade of event i of a batch. Updates the likelihood windows (if enabled) afterwards. */
  grade(c: ScoreColumns, i: number): Graded {
    const z = normalise(this.state, c, i);
    if (!this.state.likelihood) {
      const q = quantileGrade(this.state, z);
      const t = this.state.tail;
      const surprise =
        z > t.zq
          ? -Math.log10(t.mass) + (z - t.zq) / (t.beta * Math.LN10)
          : -Math.log10(Math.max(1 - q, 1e-300));
      return { z, grade: q, surprise };
    }
    const x = this.observe(squash(z));
    return { z, grade: 1 - normalTail(x), surprise: normalSurprise(x) };
  }

  /** Anomaly likelihood of z given the recent history; then z joins the history. */
  likelihood(z: number): number {
    return 1 - normalTail(this.observe(squash(z)));
  }

  /** Adds v to the windows; returns the standardised short-term average (0 until warm). */
  private observe(v: number): number {
    if (this.rawN < this.raw.length) this.rawN++;
    this.raw[this.rIdx] = v;
    this.rIdx = (this.rIdx + 1) % this.raw.length;
    if (this.shortN === this.short.length) this.shortSum -= this.short[this.sIdx]!;
    else this.shortN++;
    this.short[this.sIdx] = v;
    this.shortSum += v;
    this.sIdx = (this.sIdx + 1) % this.short.length;
    const a = this.shortSum / this.shortN;
    let x = 0;
    if (this.longN >= Math.min(50, this.long.length)) {
      const mean = this.longSum / this.longN;
      const variance = Math.max(this.longSq / this.longN - mean * mean, 1e-4);
      x = (a - mean) / Math.sqrt(variance);
    }
    if (this.longN === this.long.length) {
      const old = this.long[this.lIdx]!;
      this.longSum -= old;
      this.longSq -= old * old;
    } else this.longN++;
    this.long[this.lIdx] = a;
    this.longSum += a;
    this.longSq += a * a;
    this.lIdx = (this.lIdx + 1) % this.long.length;
    return x;
  }
}

/** Squash z so that single huge outliers do not dominate the long-term statistics. */
function squash(z: number): number {
  return Math.log1p(Math.max(0, z));
}
