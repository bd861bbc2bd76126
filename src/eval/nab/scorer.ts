// The NAB scorer (numenta/NAB v1.1: nab/sweeper.py, scorer.py, optimizer.py, runner.normalize),
// ported to run on row-index windows. Float operations follow the Python code's order so the
// per-row values are the same doubles; see each function for what it mirrors.

import { NabInputError } from './errors.js';
import type { CostMatrix } from './corpus.js';

/** NAB's probationary fraction (runner.py `probationaryPercent`). */
export const PROBATION_PERCENT = 0.15;

/** A window as inclusive row indices (NabWindow satisfies this). */
export interface WindowRange {
  readonly startRow: number;
  readonly endRow: number;
}

/**
 * Rows not scored at the start of a file: sweeper._getProbationaryLength,
 * `min(floor(p * n), p * 5000)` (750 for p = 0.15). Rows with index `i >= this` are scored.
 */
export function probationaryLength(n: number, probationPercent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(probationPercent * n), probationPercent * 5000);
}

/** sweeper.scaledSigmoid: `-1` past 3, else `2*sigmoid(-5x) - 1` with `sigmoid(x) = 1/(1+exp(-x))`. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition > 3.0) return -1.0;
  return 2 * (1 / (1 + Math.exp(-(-5 * relativePosition)))) - 1.0;
}

/** What the sweeper knows of one file before a threshold is chosen. */
export interface PreparedFile {
  readonly name: string;
  readonly n: number;
  readonly probation: number;
  /** sweeper.calcSweepScore's weighted score of every row (as if it were a detection). */
  readonly sweepScore: Float64Array;
  /** Index into `windows` of the window holding each row, or -1. */
  readonly windowOf: Int32Array;
  readonly windows: readonly WindowRange[];
}

/**
 * sweeper.calcSweepScore for one file: every row's weighted score if it were a detection. Inside
 * a window: `scaledSigmoid(-(right - i + 1)/width) * tpWeight / scaledSigmoid(-1)`. Outside:
 * `-fpWeight` before the first window, else `scaledSigmoid(|prevRight - i| / (prevWidth - 1)) *
 * fpWeight`. (A previous window one row wide divides by zero in NAB; here the position is
 * +Infinity, so the value is -fpWeight.)
 */
export function prepareFile(
  name: string,
  n: number,
  windows: readonly WindowRange[],
  cost: CostMatrix,
  probationPercent = PROBATION_PERCENT,
): PreparedFile {
  checkWindows(name, n, windows);
  const sweepScore = new Float64Array(n);
  const windowOf = new Int32Array(n).fill(-1);
  const maxTP = scaledSigmoid(-1.0);
  let prevRight = -1;
  let prevWidth = 0;
  let w = 0;
  for (let i = 0; i < n; i++) {
    const win = windows[w];
    if (win !== undefined && i >= win.startRow && i <= win.endRow) {
      const width = win.endRow - win.startRow + 1;
      const pos = -(win.endRow - i + 1) / width;
      sweepScore[i] = (scaledSigmoid(pos) * cost.tpWeight) / maxTP;
      windowOf[i] = w;
      if (i === win.endRow) {
        prevRight = i;
        prevWidth = width;
        w++;
      }
    } else {
      let unweighted: number;
      if (prevRight < 0) unweighted = -1.0;
      else unweighted = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
      sweepScore[i] = unweighted * cost.fpWeight;
    }
  }
  return { name, n, probation: probationaryLength(n, probationPercent), sweepScore, windowOf, windows };
}

function checkWindows(name: string, n: number, windows: readonly WindowRange[]): void {
  let prevEnd = -1;
  for (const w of windows) {
    if (
      !Number.isInteger(w.startRow) ||
      !Number.isInteger(w.endRow) ||
      w.startRow < 0 ||
      w.endRow >= n ||
      w.endRow < w.startRow
    ) {
      throw new NabInputError(
        name,
        'bad-window',
        `window rows [${w.startRow}, ${w.endRow}] do not fit ${n} rows`,
      );
    }
    if (w.startRow <= prevEnd) {
      throw new NabInputError(
        name,
        'bad-window',
        `window rows [${w.startRow}, ${w.endRow}] overlap or are out of order`,
      );
    }
    prevEnd = w.endRow;
  }
}

function checkScores(name: string, n: number, scores: ArrayLike<number>): void {
  if (scores.length !== n) {
    throw new NabInputError(name, 'length-mismatch', `${scores.length} anomaly scores for ${n} rows`);
  }
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i]!))
      throw new NabInputError(name, 'bad-argument', `anomaly score of row ${i} is NaN`);
  }
}

/** Counts and raw score of one file (or a corpus) at one threshold. */
export interface Counts {
  readonly rawScore: number;
  readonly tp: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
}

export interface FileScore extends Counts {
  /** All rows of the file (the `Total_Count` of NAB's published per-file results). */
  readonly totalCount: number;
  /** Scored rows, tp + tn + fp + fn (what sweeper.ThresholdScore.total holds). */
  readonly scoredCount: number;
  /**
   * The `S(t)_<profile>` column of NAB's published per-row results: each window's value (its
   * earliest detection's weighted score, or -fnWeight if it has none) on the window's first row,
   * each false positive's weighted score on its row, 0 elsewhere. Sums to rawScore. (A window with
   * no scored row, i.e. wholly in probation, counts nothing, as in the sweeper.)
   */
  readonly perRowS: Float64Array;
  /** sweeper.calcSweepScore's per-row weighted score (what NAB's newest scorer writes as S(t)). */
  readonly sweepScore: Float64Array;
  /** Row of the counted (earliest) detection of each window, or -1. */
  readonly windowDetections: Int32Array;
  readonly threshold: number;
}

export interface ScoreOptions {
  readonly probationPercent?: number;
  /** Names the file in errors. */
  readonly name?: string;
}

/**
 * Scores one file at a threshold, as sweeper.scoreDataSet does: rows from the probationary length
 * on are scored; a row is a detection when `score >= threshold`; each window is worth its earliest
 * detection's weighted score or -fnWeight; each detection outside windows adds its weighted score.
 * `rows` is the row count or the file's rows (e.g. its timestamps).
 */
export function scoreFile(
  rows: number | ArrayLike<unknown>,
  windows: readonly WindowRange[],
  scores: ArrayLike<number>,
  cost: CostMatrix,
  threshold: number,
  opts: ScoreOptions = {},
): FileScore {
  const name = opts.name ?? '<file>';
  const n = typeof rows === 'number' ? rows : rows.length;
  checkScores(name, n, scores);
  const p = prepareFile(name, n, windows, cost, opts.probationPercent);
  return scorePrepared(p, scores, cost, threshold);
}

/** scoreFile on a file already passed through prepareFile (same cost matrix). */
export function scorePrepared(
  p: PreparedFile,
  scores: ArrayLike<number>,
  cost: CostMatrix,
  threshold: number,
): FileScore {
  const { n, probation, sweepScore, windowOf, windows } = p;
  checkScores(p.name, n, scores);
  const perRowS = new Float64Array(n);
  const windowDetections = new Int32Array(windows.length).fill(-1);
  const hasScoredRow = new Uint8Array(windows.length);
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  let fpSum = 0;
  for (let i = 0; i < n; i++) {
    if (i < probation) continue;
    const w = windowOf[i]!;
    const det = scores[i]! >= threshold;
    if (w >= 0) {
      hasScoredRow[w] = 1;
      if (det) {
        tp++;
        if (windowDetections[w] === -1) windowDetections[w] = i;
      } else fn++;
    } else if (det) {
      fp++;
      fpSum += sweepScore[i]!;
      perRowS[i] = sweepScore[i]!;
    } else tn++;
  }
  let rawScore = fpSum;
  for (let w = 0; w < windows.length; w++) {
    if (!hasScoredRow[w]) continue;
    const d = windowDetections[w]!;
    // The sweeper keeps max(-fnWeight, sweepScore) per window; weighted TP scores decrease along
    // the window, so the max is the earliest detection's (and > 0 > -fnWeight for positive weights).
    const v = d >= 0 ? Math.max(-cost.fnWeight, sweepScore[d]!) : -cost.fnWeight;
    perRowS[windows[w]!.startRow] = v;
    rawScore += v;
  }
  return {
    rawScore,
    tp,
    tn,
    fp,
    fn,
    totalCount: n,
    scoredCount: tp + tn + fp + fn,
    perRowS,
    sweepScore,
    windowDetections,
    threshold,
  };
}

/** One input file of a sweep: rows, windows and the detector's anomaly scores. */
export interface SweepFile {
  readonly name: string;
  /** Row count, or the rows themselves. */
  readonly rows: number | ArrayLike<unknown>;
  readonly windows: readonly WindowRange[];
  readonly scores: ArrayLike<number>;
}

/** sweeper.calcScoreByThreshold's list, as columns, thresholds in decreasing order. */
export interface ThresholdCurve {
  /** The first threshold is 1.1 (nothing detected), then every distinct score, decreasing. */
  readonly thresholds: Float64Array;
  readonly scores: Float64Array;
  readonly tp: Int32Array;
  readonly tn: Int32Array;
  readonly fp: Int32Array;
  readonly fn: Int32Array;
}

export interface SweepOptions {
  readonly probationPercent?: number;
  /**
   * NAB re-sums `fp + each window's value` in dict order at every threshold; that is O(windows)
   * per threshold. Above this many (thresholds x windows) the sum is kept incrementally instead
   * (same value up to rounding). Default 5e7.
   */
  readonly exactSumBudget?: number;
}

/**
 * sweeper.calcScoreByThreshold over the concatenated files: sorts all scored rows by anomaly
 * score (decreasing, stable), then walks down, recording the corpus score before each new
 * distinct score is taken in. The entry with threshold t counts rows with `score >= t` as
 * detections; the first entry (1.1) none. O(R log R) for R scored rows.
 */
export function sweepThresholds(
  files: readonly SweepFile[],
  cost: CostMatrix,
  opts: SweepOptions = {},
): ThresholdCurve {
  // Concatenate scored rows in file order (NAB extends one list file after file).
  const prepared: PreparedFile[] = [];
  let total = 0;
  for (const f of files) {
    const n = typeof f.rows === 'number' ? f.rows : f.rows.length;
    checkScores(f.name, n, f.scores);
    const p = prepareFile(f.name, n, f.windows, cost, opts.probationPercent);
    prepared.push(p);
    total += Math.max(0, n - Math.ceil(p.probation));
  }
  const score = new Float64Array(total);
  const sweep = new Float64Array(total);
  const win = new Int32Array(total);
  let k = 0;
  let windowBase = 0;
  for (let fi = 0; fi < files.length; fi++) {
    const p = prepared[fi]!;
    const s = files[fi]!.scores;
    for (let i = 0; i < p.n; i++) {
      if (i < p.probation) continue;
      score[k] = s[i]!;
      sweep[k] = p.sweepScore[i]!;
      const w = p.windowOf[i]!;
      win[k] = w >= 0 ? windowBase + w : -1;
      k++;
    }
    windowBase += p.windows.length;
  }
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((a, b) => score[b]! - score[a]! || a - b);

  // Window parts in the dict's insertion order: first appearance in the sorted list.
  const slot = new Int32Array(windowBase).fill(-1);
  let nParts = 1; // slot 0 is "fp"
  for (let j = 0; j < total; j++) {
    const w = win[order[j]!]!;
    if (w >= 0 && slot[w] === -1) slot[w] = nParts++;
  }
  const parts = new Float64Array(nParts);
  for (let s = 1; s < nParts; s++) parts[s] = -cost.fnWeight;

  let tn = 0;
  let fn = 0;
  for (let j = 0; j < total; j++) {
    if (win[j] === -1) tn++;
    else fn++;
  }
  let tp = 0;
  let fp = 0;

  let distinct = 1;
  for (let j = 1; j < total; j++) if (score[order[j]!] !== score[order[j - 1]!]) distinct++;
  const exact = (distinct + 1) * nParts <= (opts.exactSumBudget ?? 5e7);
  let running = 0;
  for (let s = 0; s < nParts; s++) running += parts[s]!;
  const sumParts = (): number => {
    if (!exact) return running;
    let acc = 0;
    for (let s = 0; s < nParts; s++) acc += parts[s]!;
    return acc;
  };

  const cap = total + 1;
  const th = new Float64Array(cap);
  const sc = new Float64Array(cap);
  const aTp = new Int32Array(cap);
  const aTn = new Int32Array(cap);
  const aFp = new Int32Array(cap);
  const aFn = new Int32Array(cap);
  let m = 0;
  const push = (t: number): void => {
    th[m] = t;
    sc[m] = sumParts();
    aTp[m] = tp;
    aTn[m] = tn;
    aFp[m] = fp;
    aFn[m] = fn;
    m++;
  };

  let cur = 1.1;
  for (let j = 0; j < total; j++) {
    const r = order[j]!;
    const a = score[r]!;
    if (a !== cur) {
      push(cur);
      cur = a;
    }
    const w = win[r]!;
    if (w >= 0) {
      tp++;
      fn--;
      const s = slot[w]!;
      const v = Math.max(parts[s]!, sweep[r]!);
      if (!exact) running += v - parts[s]!;
      parts[s] = v;
    } else {
      fp++;
      tn--;
      parts[0] += sweep[r]!;
      if (!exact) running += sweep[r]!;
    }
  }
  push(cur);
  return {
    thresholds: th.slice(0, m),
    scores: sc.slice(0, m),
    tp: aTp.slice(0, m),
    tn: aTn.slice(0, m),
    fp: aFp.slice(0, m),
    fn: aFn.slice(0, m),
  };
}

export interface OptimizedThreshold extends Counts {
  readonly threshold: number;
  /** Same as rawScore: optimizer.py's `score`. */
  readonly score: number;
}

/**
 * optimizer.optimizeThreshold: the threshold of the sweep entry with the largest summed raw score
 * over all files (the first, i.e. highest threshold, among equal scores, as Python's stable sort
 * by score does).
 */
export function optimizeThreshold(
  files: readonly SweepFile[],
  cost: CostMatrix,
  opts: SweepOptions = {},
): OptimizedThreshold {
  const c = sweepThresholds(files, cost, opts);
  let best = 0;
  for (let i = 1; i < c.scores.length; i++) if (c.scores[i]! > c.scores[best]!) best = i;
  return {
    threshold: c.thresholds[best]!,
    score: c.scores[best]!,
    rawScore: c.scores[best]!,
    tp: c.tp[best]!,
    tn: c.tn[best]!,
    fp: c.fp[best]!,
    fn: c.fn[best]!,
  };
}

/**
 * runner.normalize: `100 * (raw - null) / (perfect - null)` with perfect = tpWeight x windows and,
 * unless given (NAB reads it from the null detector's results), null = -fnWeight x windows.
 */
export function normalizedScore(
  rawScore: number,
  windowCount: number,
  cost: CostMatrix,
  nullScore: number = -cost.fnWeight * windowCount,
): number {
  const perfect = windowCount * cost.tpWeight;
  return (100 * (rawScore - nullScore)) / (perfect - nullScore);
}

/** One file of a detector's output for scoreCorpus. */
export type DetectorFileOutput = SweepFile;

export interface PerFileResult extends FileScore {
  readonly name: string;
}

export interface CorpusScore<P extends string> {
  /** Normalised score per profile. */
  readonly scores: Record<P, number>;
  /** Summed raw score per profile. */
  readonly rawScores: Record<P, number>;
  readonly thresholds: Record<P, number>;
  readonly perFile: Record<P, PerFileResult[]>;
  readonly windowCount: number;
}

export interface CorpusOptions<P extends string> extends SweepOptions {
  /** Use these thresholds instead of optimising (e.g. published ones). */
  readonly thresholds?: Partial<Record<P, number>>;
  /** Windows for `perfect` and the default null score; default: all windows of the files given. */
  readonly windowCount?: number;
  /** Raw null-detector score per profile (default -fnWeight x windows). */
  readonly nullScores?: Partial<Record<P, number>>;
}

/**
 * runner.optimize + runner.score + runner.normalize for one detector: per profile, the threshold
 * (optimised over all files unless given), each file's score at it, and the normalised total.
 */
export function scoreCorpus<P extends string>(
  outputs: readonly DetectorFileOutput[],
  profiles: Readonly<Record<P, CostMatrix>>,
  opts: CorpusOptions<P> = {},
): CorpusScore<P> {
  const windowCount = opts.windowCount ?? outputs.reduce((a, f) => a + f.windows.length, 0);
  const scores = {} as Record<P, number>;
  const rawScores = {} as Record<P, number>;
  const thresholds = {} as Record<P, number>;
  const perFile = {} as Record<P, PerFileResult[]>;
  for (const prof of Object.keys(profiles) as P[]) {
    const cost = profiles[prof];
    const given = opts.thresholds?.[prof];
    const t = given ?? optimizeThreshold(outputs, cost, opts).threshold;
    const files: PerFileResult[] = outputs.map((f) => ({
      name: f.name,
      ...scoreFile(f.rows, f.windows, f.scores, cost, t, {
        name: f.name,
        ...(opts.probationPercent === undefined ? {} : { probationPercent: opts.probationPercent }),
      }),
    }));
    let raw = 0;
    for (const r of files) raw += r.rawScore;
    thresholds[prof] = t;
    perFile[prof] = files;
    rawScores[prof] = raw;
    scores[prof] = normalizedScore(raw, windowCount, cost, opts.nullScores?.[prof]);
  }
  return { scores, rawScores, thresholds, perFile, windowCount };
}
