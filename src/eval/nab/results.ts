// NAB's per-detector results files: `<detector>/<category>/<detector>_<file>.csv` with columns
// timestamp,value,anomaly_score,label,S(t)_<profile>..., and `<detector>/<detector>_<profile>_scores.csv`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NabInputError } from './errors.js';
import { columnIndex, parseCsv, parseNumberField, parseTimestamp, readText } from './csv.js';
import { NAB_PROFILES, windowLabels, type NabCorpus, type NabSeries } from './corpus.js';

/** One per-row results file as read. */
export interface NabResultsFile {
  readonly file: string;
  readonly timestamps: readonly string[];
  readonly times: Float64Array;
  readonly values: Float64Array;
  readonly anomalyScores: Float64Array;
  /** The `label` column, when present. */
  readonly labels: Uint8Array | null;
  /** Every other numeric column by header name (e.g. `S(t)_standard`, `raw_score`). */
  readonly columns: ReadonlyMap<string, Float64Array>;
}

/** Path of a detector's per-row results file for a corpus key `<category>/<file>.csv`. */
export function resultsFilePath(resultsDir: string, detector: string, key: string): string {
  const [category, fileName] = splitKey(key);
  return join(resultsDir, detector, category, `${detector}_${fileName}`);
}

/** Path of a detector's per-file scores CSV for a profile. */
export function scoresFilePath(resultsDir: string, detector: string, profile: string): string {
  return join(resultsDir, detector, `${detector}_${profile}_scores.csv`);
}

function splitKey(key: string): [string, string] {
  const parts = key.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new NabInputError(key, 'bad-argument', 'expected a key "<category>/<file>.csv"');
  }
  return [parts[0], parts[1]];
}

/** Reads one per-row results file; needs columns timestamp and anomaly_score (value optional). */
export function readNabResultsFile(file: string): NabResultsFile {
  const t = parseCsv(file, readText(file));
  const ti = columnIndex(t, 'timestamp');
  const ai = columnIndex(t, 'anomaly_score');
  const vi = t.header.indexOf('value');
  const li = t.header.indexOf('label');
  const n = t.rows.length;
  const timestamps: string[] = new Array<string>(n);
  const times = new Float64Array(n);
  const values = new Float64Array(n).fill(Number.NaN);
  const anomalyScores = new Float64Array(n);
  const labels = li >= 0 ? new Uint8Array(n) : null;
  const others = t.header
    .map((h, i) => [h, i] as const)
    .filter(([, i]) => i !== ti && i !== ai && i !== vi && i !== li);
  const cols = others.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const ts = t.rows[r]![ti]!.trim();
    const us = parseTimestamp(ts);
    if (Number.isNaN(us))
      throw new NabInputError(file, 'bad-timestamp', `not a timestamp: ${JSON.stringify(ts)}`, t.lines[r]);
    timestamps[r] = ts;
    times[r] = us;
    anomalyScores[r] = parseNumberField(t, r, ai);
    if (vi >= 0) values[r] = parseNumberField(t, r, vi);
    if (labels) {
      const l = parseNumberField(t, r, li);
      if (l !== 0 && l !== 1)
        throw new NabInputError(file, 'bad-row', `label is not 0 or 1: ${l}`, t.lines[r]);
      labels[r] = l;
    }
    for (let c = 0; c < others.length; c++) cols[c]![r] = parseNumberField(t, r, others[c]![1]);
  }
  return {
    file,
    timestamps,
    times,
    values,
    anomalyScores,
    labels,
    columns: new Map(others.map(([h], c) => [h, cols[c]!])),
  };
}

/** A detector's results for one corpus file, checked against the file's rows. */
export interface DetectorResults {
  readonly series: NabSeries;
  readonly results: NabResultsFile;
}

/**
 * Reads `<resultsDir>/<detector>/<category>/<detector>_<file>.csv` for every file of the corpus
 * (or the keys given) and checks that its timestamps are the data file's rows.
 */
export function readDetectorResults(
  resultsDir: string,
  detector: string,
  corpus: NabCorpus,
  keys: readonly string[] = corpus.files.map((f) => f.key),
): DetectorResults[] {
  return keys.map((key) => {
    const series = corpus.byKey.get(key);
    if (!series) throw new NabInputError(key, 'missing-file', 'not a file of the corpus');
    const file = resultsFilePath(resultsDir, detector, key);
    const results = readNabResultsFile(file);
    if (results.times.length !== series.times.length) {
      throw new NabInputError(
        file,
        'length-mismatch',
        `${results.times.length} rows, data file has ${series.times.length}`,
      );
    }
    for (let i = 0; i < series.times.length; i++) {
      if (results.times[i] !== series.times[i]) {
        throw new NabInputError(
          file,
          'length-mismatch',
          `row ${i}: timestamp ${results.timestamps[i]} != data ${series.timestamps[i]}`,
          i + 2,
        );
      }
    }
    return { series, results };
  });
}

/** Formats a float as Python's repr would for the common cases (`0.0`, `-0.11`, shortest digits). */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return Object.is(x, -0) ? '-0.0' : x.toFixed(1);
  return String(x);
}

/** What writeNabResults writes for one file. */
export interface NabResultsOutput {
  readonly series: NabSeries;
  readonly anomalyScores: ArrayLike<number>;
  /** Per-row S(t) by profile name, written as `S(t)_<profile>` columns. */
  readonly perRowS?: Readonly<Record<string, ArrayLike<number>>>;
}

/**
 * Writes each output as `<resultsDir>/<detector>/<category>/<detector>_<file>.csv` with columns
 * timestamp,value,anomaly_score,label and then S(t)_reward_low_FP_rate, S(t)_reward_low_FN_rate,
 * S(t)_standard (those given, in that order; other profiles after). Returns the paths written.
 */
export function writeNabResults(
  resultsDir: string,
  detector: string,
  outputs: readonly NabResultsOutput[],
): string[] {
  const paths: string[] = [];
  for (const o of outputs) {
    const s = o.series;
    const n = s.timestamps.length;
    if (o.anomalyScores.length !== n) {
      throw new NabInputError(
        s.key,
        'length-mismatch',
        `${o.anomalyScores.length} anomaly scores for ${n} rows`,
      );
    }
    const given = Object.keys(o.perRowS ?? {});
    const profs = [
      ...NAB_PROFILES.filter((p) => given.includes(p)),
      ...given.filter((p) => !(NAB_PROFILES as readonly string[]).includes(p)),
    ];
    const cols = profs.map((p) => {
      const c = o.perRowS![p]!;
      if (c.length !== n)
        throw new NabInputError(s.key, 'length-mismatch', `S(t)_${p} has ${c.length} values for ${n} rows`);
      return c;
    });
    const lab = windowLabels(n, s.windows);
    const lines: string[] = [
      ['timestamp', 'value', 'anomaly_score', 'label', ...profs.map((p) => `S(t)_${p}`)].join(','),
    ];
    for (let i = 0; i < n; i++) {
      const f = [
        s.timestamps[i]!,
        formatFloat(s.values[i]!),
        formatFloat(o.anomalyScores[i]!),
        String(lab[i]),
      ];
      for (const c of cols) f.push(formatFloat(c[i]!));
      lines.push(f.join(','));
    }
    const path = resultsFilePath(resultsDir, detector, s.key);
    mkdirSync(join(resultsDir, detector, s.category), { recursive: true });
    writeFileSync(path, lines.join('\n') + '\n');
    paths.push(path);
  }
  return paths;
}

/** One row of a `<detector>_<profile>_scores.csv`. */
export interface NabScoresRow {
  readonly detector: string;
  readonly profile: string;
  /** `<category>/<file>.csv` */
  readonly file: string;
  readonly threshold: number;
  readonly score: number;
  readonly tp: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
  readonly totalCount: number;
}

const SCORES_HEADER = [
  'Detector',
  'Profile',
  'File',
  'Threshold',
  'Score',
  'TP',
  'TN',
  'FP',
  'FN',
  'Total_Count',
];

/** Reads a per-file scores CSV; a `Totals` row, if present, is returned apart. */
export function readNabScoresCsv(file: string): { rows: NabScoresRow[]; totals: NabScoresRow | null } {
  const t = parseCsv(file, readText(file));
  const idx = SCORES_HEADER.map((h) => columnIndex(t, h));
  const rows: NabScoresRow[] = [];
  let totals: NabScoresRow | null = null;
  for (let r = 0; r < t.rows.length; r++) {
    const f = t.rows[r]!;
    const num = (k: number): number => {
      const v = parseNumberField(t, r, idx[k]!);
      return v;
    };
    const isTotals = f[idx[0]!] === 'Totals';
    const row: NabScoresRow = {
      detector: f[idx[0]!]!,
      profile: f[idx[1]!]!,
      file: f[idx[2]!]!,
      threshold: isTotals ? Number.NaN : num(3),
      score: num(4),
      tp: num(5),
      tn: num(6),
      fp: num(7),
      fn: num(8),
      totalCount: num(9),
    };
    if (!isTotals && ![row.score, row.tp, row.tn, row.fp, row.fn].every(Number.isFinite)) {
      throw new NabInputError(file, 'bad-row', 'Score, TP, TN, FP, FN must be numbers', t.lines[r]);
    }
    if (isTotals) totals = row;
    else rows.push(row);
  }
  return { rows, totals };
}

/** Writes `<resultsDir>/<detector>/<detector>_<profile>_scores.csv` with a Totals row, as NAB does. */
export function writeNabScoresCsv(
  resultsDir: string,
  detector: string,
  profile: string,
  rows: readonly Omit<NabScoresRow, 'detector' | 'profile'>[],
): string {
  const lines = [SCORES_HEADER.join(',')];
  const tot = [0, 0, 0, 0, 0, 0];
  for (const r of rows) {
    const v = [r.score, r.tp, r.tn, r.fp, r.fn, r.totalCount];
    v.forEach((x, i) => (tot[i] += x));
    lines.push(
      [
        detector,
        profile,
        r.file,
        formatFloat(r.threshold),
        formatFloat(r.score),
        ...v.slice(1).map(String),
      ].join(','),
    );
  }
  lines.push(['Totals', '', '', '', formatFloat(tot[0]!), ...tot.slice(1).map(String)].join(','));
  mkdirSync(join(resultsDir, detector), { recursive: true });
  const path = scoresFilePath(resultsDir, detector, profile);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
