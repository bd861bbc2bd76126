// Minimal CSV and timestamp reading for NAB's files: comma-separated, no quoting, a header line.

import { readFileSync } from 'node:fs';
import { NabInputError } from './errors.js';

/** A parsed CSV file: its header and its rows of raw fields, each with its 1-based file line. */
export interface CsvTable {
  readonly file: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly lines: readonly number[];
}

/** Reads a whole text file, turning a missing or unreadable file into a NabInputError. */
export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NabInputError(file, 'missing-file', code === 'ENOENT' ? 'no such file' : String(e));
  }
}

/** Reads and parses a JSON file, with typed errors for a missing file or bad JSON. */
export function readJson(file: string): unknown {
  const text = readText(file);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new NabInputError(file, 'bad-json', (e as Error).message);
  }
}

/** Parses CSV text (no quoted fields). Blank lines are skipped; every row must have the header's width. */
export function parseCsv(file: string, text: string): CsvTable {
  const all = text.split('\n');
  let h = 0;
  while (h < all.length && all[h]!.trim() === '') h++;
  if (h >= all.length) throw new NabInputError(file, 'bad-header', 'file is empty');
  const header = stripCr(all[h]!)
    .split(',')
    .map((s) => s.trim());
  const rows: string[][] = [];
  const lines: number[] = [];
  for (let i = h + 1; i < all.length; i++) {
    const line = stripCr(all[i]!);
    if (line.trim() === '') continue;
    if (line.includes('"')) {
      throw new NabInputError(file, 'bad-row', 'quoted fields are not supported', i + 1);
    }
    const fields = line.split(',');
    if (fields.length !== header.length) {
      throw new NabInputError(
        file,
        'bad-row',
        `expected ${header.length} fields, got ${fields.length}`,
        i + 1,
      );
    }
    rows.push(fields);
    lines.push(i + 1);
  }
  return { file, header, rows, lines };
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** Index of a required column, or a bad-header error naming it. */
export function columnIndex(t: CsvTable, name: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) {
    throw new NabInputError(t.file, 'bad-header', `missing column "${name}" (have ${t.header.join(',')})`);
  }
  return i;
}

/**
 * Parses a number field the way pandas reads NAB's CSVs. Empty fields, "nan" and "NaN" give NaN
 * (pandas' missing value); anything else that is not a number is a bad-row error.
 */
export function parseNumberField(t: CsvTable, row: number, col: number): number {
  const raw = t.rows[row]![col]!.trim();
  if (raw === '' || raw === 'nan' || raw === 'NaN') return Number.NaN;
  const inf = /^([+-]?)(inf|infinity)$/i.exec(raw);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) {
    throw new NabInputError(
      t.file,
      'bad-row',
      `column "${t.header[col]}" is not a number: ${JSON.stringify(raw)}`,
      t.lines[row],
    );
  }
  return Number(raw);
}

const TS = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/**
 * Parses a NAB timestamp (`2014-07-01 00:00:00`, optionally with `.ffffff` as in the label files)
 * to microseconds since 1970-01-01, read as UTC (NAB's timestamps have no zone). Returns NaN when
 * the text is not such a timestamp.
 */
export function parseTimestamp(text: string): number {
  const m = TS.exec(text.trim());
  if (!m) return Number.NaN;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return Number.NaN;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCDate() !== d) return Number.NaN; // e.g. 2014-02-30
  const frac = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0'));
  return ms * 1000 + frac;
}

/** The timestamp text with a `.000000` (all-zero) fraction dropped, as NAB's data rows spell it. */
export function canonicalTimestamp(text: string): string {
  return text.trim().replace(/\.0+$/, '');
}
