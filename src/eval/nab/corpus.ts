// Loading the NAB corpus: series CSVs, label windows, scoring profiles and published thresholds.
// Windows become inclusive row-index ranges, as NAB's sweeper uses them.

import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NabInputError } from './errors.js';
import {
  canonicalTimestamp,
  columnIndex,
  parseCsv,
  parseNumberField,
  parseTimestamp,
  readJson,
  readText,
} from './csv.js';

/** NAB's cost matrix of one profile (config/profiles.json `CostMatrix`). */
export interface CostMatrix {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
  readonly tnWeight?: number;
}

/** The three profiles NAB ships, in the column order of its per-row results files. */
export const NAB_PROFILES = ['reward_low_FP_rate', 'reward_low_FN_rate', 'standard'] as const;
export type NabProfileName = (typeof NAB_PROFILES)[number];

/** Profile name -> cost matrix. */
export type NabProfiles = Readonly<Record<string, CostMatrix>>;

/** One detector's optimised threshold (and the raw score NAB found with it) for one profile. */
export interface NabThresholdEntry {
  readonly threshold: number;
  readonly score: number;
}
/** detector -> profile -> threshold entry (config/thresholds.json). */
export type NabThresholds = Readonly<Record<string, Readonly<Record<string, NabThresholdEntry>>>>;

/** A label window as inclusive row indices of its file, with the label file's timestamps. */
export interface NabWindow {
  readonly start: string;
  readonly end: string;
  /** First row of the window (inclusive). */
  readonly startRow: number;
  /** Last row of the window (inclusive). */
  readonly endRow: number;
}

/** One data file of the corpus. */
export interface NabSeries {
  /** `<category>/<file>.csv`, the key of the label file. */
  readonly key: string;
  readonly category: string;
  /** `<file>.csv` */
  readonly fileName: string;
  /** Timestamps as written in the file. */
  readonly timestamps: readonly string[];
  /** Timestamps as microseconds since 1970 (UTC reading). */
  readonly times: Float64Array;
  readonly values: Float64Array;
  readonly windows: readonly NabWindow[];
}

export interface NabCorpus {
  readonly dir: string;
  /** Files sorted by key. */
  readonly files: readonly NabSeries[];
  readonly byKey: ReadonlyMap<string, NabSeries>;
  readonly profiles: NabProfiles;
  /** Empty when config/thresholds.json is absent. */
  readonly thresholds: NabThresholds;
  /** Number of windows over all files (NAB's `tpCount` in its normalisation). */
  readonly windowCount: number;
}

export interface LoadOptions {
  /**
   * NAB (labeler.CorpusLabel.getWindows) refuses a window whose start or end timestamp is not a row
   * of its file. With `strictWindows: false` the window is instead mapped to the first row at or
   * after its start and the last row at or before its end. Default true.
   */
  readonly strictWindows?: boolean;
  /** Only load these `<category>/<file>.csv` keys (others in the label file are then ignored). */
  readonly only?: readonly string[];
}

/** Reads one `timestamp,value` series CSV. */
export function readSeriesCsv(file: string): {
  timestamps: string[];
  times: Float64Array;
  values: Float64Array;
} {
  const t = parseCsv(file, readText(file));
  const ti = columnIndex(t, 'timestamp');
  const vi = columnIndex(t, 'value');
  const n = t.rows.length;
  const timestamps: string[] = new Array<string>(n);
  const times = new Float64Array(n);
  const values = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const ts = t.rows[r]![ti]!.trim();
    const us = parseTimestamp(ts);
    if (Number.isNaN(us)) {
      throw new NabInputError(file, 'bad-timestamp', `not a timestamp: ${JSON.stringify(ts)}`, t.lines[r]);
    }
    timestamps[r] = ts;
    times[r] = us;
    values[r] = parseNumberField(t, r, vi);
  }
  return { timestamps, times, values };
}

/** Reads config/profiles.json: `{ <profile>: { CostMatrix: { tpWeight, fpWeight, fnWeight, tnWeight } } }`. */
export function loadProfiles(file: string): NabProfiles {
  const j = readJson(file);
  if (!isRecord(j)) throw new NabInputError(file, 'bad-json', 'expected an object of profiles');
  const out: Record<string, CostMatrix> = {};
  for (const [name, p] of Object.entries(j)) {
    const cm = isRecord(p) ? p['CostMatrix'] : undefined;
    if (!isRecord(cm))
      throw new NabInputError(file, 'bad-json', `profile "${name}" has no CostMatrix object`);
    const w = (k: string): number => {
      const v = cm[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new NabInputError(file, 'bad-json', `profile "${name}": ${k} is not a finite number`);
      }
      return v;
    };
    out[name] = {
      tpWeight: w('tpWeight'),
      fpWeight: w('fpWeight'),
      fnWeight: w('fnWeight'),
      ...(cm['tnWeight'] === undefined ? {} : { tnWeight: w('tnWeight') }),
    };
  }
  return out;
}

/** Reads config/thresholds.json: `{ <detector>: { <profile>: { threshold, score } } }`. */
export function loadThresholds(file: string): NabThresholds {
  const j = readJson(file);
  if (!isRecord(j)) throw new NabInputError(file, 'bad-json', 'expected an object of detectors');
  const out: Record<string, Record<string, NabThresholdEntry>> = {};
  for (const [det, profiles] of Object.entries(j)) {
    if (!isRecord(profiles)) throw new NabInputError(file, 'bad-json', `detector "${det}" is not an object`);
    out[det] = {};
    for (const [prof, e] of Object.entries(profiles)) {
      if (!isRecord(e) || typeof e['threshold'] !== 'number' || typeof e['score'] !== 'number') {
        throw new NabInputError(file, 'bad-json', `${det}.${prof} needs numeric threshold and score`);
      }
      out[det][prof] = { threshold: e['threshold'], score: e['score'] };
    }
  }
  return out;
}

/** Reads labels/combined_windows.json: `{ "<category>/<file>.csv": [[start, end], ...] }`. */
export function loadWindowLabels(file: string): Map<string, [string, string][]> {
  const j = readJson(file);
  if (!isRecord(j)) throw new NabInputError(file, 'bad-json', 'expected an object of files');
  const out = new Map<string, [string, string][]>();
  for (const [key, ws] of Object.entries(j)) {
    if (!Array.isArray(ws)) throw new NabInputError(file, 'bad-window', `"${key}": windows are not a list`);
    const list: [string, string][] = [];
    for (const w of ws as unknown[]) {
      if (!Array.isArray(w) || w.length !== 2 || typeof w[0] !== 'string' || typeof w[1] !== 'string') {
        throw new NabInputError(
          file,
          'bad-window',
          `"${key}": a window is not [start, end]: ${JSON.stringify(w)}`,
        );
      }
      list.push([w[0], w[1]]);
    }
    out.set(key, list);
  }
  return out;
}

/**
 * Maps windows given by timestamps to inclusive row ranges of a file. Strict mode (NAB's) needs
 * both timestamps to be rows of the file (the first such row, like Python's `list.index`); loose
 * mode takes the first row at or after the start and the last row at or before the end. Windows
 * must be in time order and must not overlap (NAB's labeler merges overlapping ones).
 */
export function windowsToRows(
  fileLabel: string,
  times: Float64Array,
  windows: readonly (readonly [string, string])[],
  strict = true,
): NabWindow[] {
  const out: NabWindow[] = [];
  for (const [start, end] of windows) {
    const s = parseTimestamp(start);
    const e = parseTimestamp(end);
    if (Number.isNaN(s) || Number.isNaN(e)) {
      throw new NabInputError(fileLabel, 'bad-window', `window [${start}, ${end}] has a bad timestamp`);
    }
    let startRow = -1;
    let endRow = -1;
    if (strict) {
      startRow = times.indexOf(s);
      endRow = times.indexOf(e);
      if (startRow < 0 || endRow < 0) {
        throw new NabInputError(
          fileLabel,
          'bad-window',
          `window [${start}, ${end}]: ${startRow < 0 ? 'start' : 'end'} timestamp is not a row of the file`,
        );
      }
    } else {
      for (let i = 0; i < times.length; i++) {
        if (startRow < 0 && times[i]! >= s) startRow = i;
        if (times[i]! <= e) endRow = i;
      }
    }
    if (startRow < 0 || endRow < startRow) {
      throw new NabInputError(fileLabel, 'bad-window', `window [${start}, ${end}] holds no row of the file`);
    }
    const prev = out[out.length - 1];
    if (prev && startRow <= prev.endRow) {
      throw new NabInputError(
        fileLabel,
        'bad-window',
        `window [${start}, ${end}] overlaps or precedes window [${prev.start}, ${prev.end}]`,
      );
    }
    out.push({ start: canonicalTimestamp(start), end: canonicalTimestamp(end), startRow, endRow });
  }
  return out;
}

/** 1 for rows inside a window, else 0 (NAB's `label` column). */
export function windowLabels(n: number, windows: readonly NabWindow[]): Uint8Array {
  const lab = new Uint8Array(n);
  for (const w of windows) lab.fill(1, w.startRow, w.endRow + 1);
  return lab;
}

/** Loads `<dir>/data/<category>/*.csv` with the windows, profiles and thresholds of a NAB tree. */
export function loadNabCorpus(dir: string, opts: LoadOptions = {}): NabCorpus {
  const strict = opts.strictWindows ?? true;
  const windowsFile = join(dir, 'labels', 'combined_windows.json');
  const labels = loadWindowLabels(windowsFile);
  const profiles = loadProfiles(join(dir, 'config', 'profiles.json'));
  const thrFile = join(dir, 'config', 'thresholds.json');
  const thresholds = existsSync(thrFile) ? loadThresholds(thrFile) : {};

  const dataDir = join(dir, 'data');
  let categories: string[];
  try {
    categories = readdirSync(dataDir).filter((c) => statSync(join(dataDir, c)).isDirectory());
  } catch {
    throw new NabInputError(dataDir, 'missing-file', 'no data directory');
  }
  const keys: string[] = [];
  for (const c of categories) {
    for (const f of readdirSync(join(dataDir, c))) if (f.endsWith('.csv')) keys.push(`${c}/${f}`);
  }
  const only = opts.only ? new Set(opts.only) : undefined;
  if (only) {
    for (const k of only)
      if (!keys.includes(k)) throw new NabInputError(join(dataDir, k), 'missing-file', 'no such data file');
  } else {
    for (const k of labels.keys()) {
      if (!keys.includes(k))
        throw new NabInputError(
          windowsFile,
          'missing-file',
          `labels name "${k}", which is not in ${dataDir}`,
        );
    }
  }
  const files: NabSeries[] = [];
  for (const key of keys.sort()) {
    if (only && !only.has(key)) continue;
    const ws = labels.get(key);
    if (ws === undefined)
      throw new NabInputError(windowsFile, 'bad-window', `no windows listed for "${key}"`);
    const path = join(dataDir, key);
    const s = readSeriesCsv(path);
    const [category, fileName] = key.split('/') as [string, string];
    files.push({ key, category, fileName, ...s, windows: windowsToRows(path, s.times, ws, strict) });
  }
  const windowCount = files.reduce((a, f) => a + f.windows.length, 0);
  return { dir, files, byKey: new Map(files.map((f) => [f.key, f])), profiles, thresholds, windowCount };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
