import { DataError } from './errors.js';
import { MatrixBuilder, type ColumnOptions, type DataMatrix } from './matrix.js';

export type JsonlOptions = ColumnOptions;

/**
 * Parses JSON Lines: one flat JSON object per line with numeric values. The columns are the keys
 * of the first object, in order; every later object must have them all (extra keys are ignored).
 * Blank lines are skipped.
 */
export function parseJsonl(input: string | Uint8Array, file: string, opts: JsonlOptions = {}): DataMatrix {
  let text =
    typeof input === 'string'
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new DataError(file, 'empty file');
  const lines = text.split('\n');
  let builder: MatrixBuilder | null = null;
  let keys: string[] = [];
  let row = new Float64Array(0);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw new DataError(file, `invalid JSON (${(e as Error).message})`, { line });
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new DataError(file, 'expected a JSON object', { line, value: raw.slice(0, 80) });
    }
    const rec = obj as Record<string, unknown>;
    if (builder === null) {
      keys = Object.keys(rec);
      if (keys.length === 0) throw new DataError(file, 'the first object has no keys', { line });
      builder = new MatrixBuilder(file, keys, opts, lines.length);
      row = new Float64Array(keys.length);
    }
    for (let j = 0; j < keys.length; j++) {
      if (!builder.used(j)) continue;
      const key = keys[j]!;
      if (!Object.prototype.hasOwnProperty.call(rec, key)) {
        throw new DataError(file, 'missing key', { line, column: key });
      }
      const v = rec[key];
      if (typeof v !== 'number') {
        throw new DataError(file, 'non-numeric value', {
          line,
          column: key,
          value: JSON.stringify(v) ?? String(v),
        });
      }
      if (!Number.isFinite(v)) {
        throw new DataError(file, 'non-finite value', { line, column: key, value: String(v) });
      }
      row[j] = v;
    }
    builder.add(row, { line });
  }
  if (builder === null) throw new DataError(file, 'no data rows');
  return builder.finish();
}
