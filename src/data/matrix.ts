import { DataError, type DataLocation } from './errors.js';

/** A dense numeric table: n rows x d columns, row-major. `y` only where the format carries labels. */
export interface DataMatrix {
  X: Float32Array;
  n: number;
  d: number;
  columns: string[];
  y?: Int32Array;
}

/** Which columns of a named table become X and which one (if any) becomes y. */
export interface ColumnOptions {
  /** `'last'`: the last column is the label; a name: that column; undefined: no label. */
  labelColumn?: 'last' | string;
  /**
   * Keep only these feature columns, in this order. Cells of other columns are not checked, so
   * `columns: ['value']` reads a `timestamp,value` file.
   */
  columns?: string[];
}

/** Default names where a format has none: col0, col1, ... */
export function defaultColumnNames(d: number): string[] {
  const out = new Array<string>(d);
  for (let j = 0; j < d; j++) out[j] = `col${j}`;
  return out;
}

/** Converts v to float32, or throws when it is not finite there (NaN, Infinity, |v| > 3.4e38). */
export function toFloat32OrThrow(v: number, file: string, loc: DataLocation): number {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) {
    const why = Number.isFinite(v) ? 'value out of float32 range' : 'non-finite value';
    throw new DataError(file, why, { ...loc, value: String(v) });
  }
  return f;
}

/** An integer class label, or a DataError. */
export function toLabelOrThrow(v: number, file: string, loc: DataLocation): number {
  if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    throw new DataError(file, 'label is not a 32-bit integer', { ...loc, value: String(v) });
  }
  return v;
}

/**
 * Collects rows of a table with named source columns into a DataMatrix, applying
 * ColumnOptions. Parsers call `used(j)` to skip validating ignored cells and `add` per row.
 */
export class MatrixBuilder {
  readonly columns: string[];
  /** source column -> output column, -1 when dropped (or the label). */
  readonly dest: Int32Array;
  readonly labelIndex: number;
  readonly srcColumns: readonly string[];
  private X: Float32Array;
  private y: Int32Array | null;
  private cap: number;
  n = 0;

  constructor(
    private readonly file: string,
    srcColumns: readonly string[],
    opts: ColumnOptions,
    expectedRows = 1024,
  ) {
    this.srcColumns = srcColumns;
    const index = new Map<string, number>();
    srcColumns.forEach((c, j) => {
      if (!index.has(c)) index.set(c, j);
    });
    let label = -1;
    if (opts.labelColumn !== undefined) {
      if (opts.labelColumn === 'last') label = srcColumns.length - 1;
      else {
        const j = index.get(opts.labelColumn);
        if (j === undefined) {
          throw new DataError(
            file,
            `label column "${opts.labelColumn}" not found (columns: ${srcColumns.join(', ')})`,
          );
        }
        label = j;
      }
    }
    this.labelIndex = label;
    this.dest = new Int32Array(srcColumns.length).fill(-1);
    if (opts.columns !== undefined) {
      this.columns = [];
      for (const c of opts.columns) {
        const j = index.get(c);
        if (j === undefined) {
          throw new DataError(file, `column "${c}" not found (columns: ${srcColumns.join(', ')})`);
        }
        if (j === label) throw new DataError(file, `column "${c}" is the label column`);
        if (this.dest[j] !== -1) throw new DataError(file, `column "${c}" selected twice`);
        this.dest[j] = this.columns.length;
        this.columns.push(c);
      }
    } else {
      this.columns = [];
      srcColumns.forEach((c, j) => {
        if (j === label) return;
        this.dest[j] = this.columns.length;
        this.columns.push(c);
      });
    }
    if (this.columns.length === 0) throw new DataError(file, 'no feature columns');
    this.cap = Math.max(16, expectedRows);
    this.X = new Float32Array(this.cap * this.columns.length);
    this.y = label >= 0 ? new Int32Array(this.cap) : null;
  }

  /** Whether source column j is read at all (a feature or the label). */
  used(j: number): boolean {
    return this.dest[j]! >= 0 || j === this.labelIndex;
  }

  /** Adds one row of source values (only used columns need valid numbers). */
  add(row: ArrayLike<number>, loc: DataLocation): void {
    if (this.n === this.cap) this.grow();
    const d = this.columns.length;
    const base = this.n * d;
    const dest = this.dest;
    for (let j = 0; j < dest.length; j++) {
      const k = dest[j]!;
      if (k >= 0) {
        const f = Math.fround(row[j]!);
        if (!Number.isFinite(f)) {
          toFloat32OrThrow(row[j]!, this.file, { ...loc, column: this.srcColumns[j]! });
        }
        this.X[base + k] = f;
      }
    }
    if (this.y !== null) {
      const v = row[this.labelIndex]!;
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        toLabelOrThrow(v, this.file, { ...loc, column: this.srcColumns[this.labelIndex]! });
      }
      this.y[this.n] = v;
    }
    this.n++;
  }

  private grow(): void {
    this.cap *= 2;
    const X = new Float32Array(this.cap * this.columns.length);
    X.set(this.X);
    this.X = X;
    if (this.y !== null) {
      const y = new Int32Array(this.cap);
      y.set(this.y);
      this.y = y;
    }
  }

  finish(): DataMatrix {
    if (this.n === 0) throw new DataError(this.file, 'no data rows');
    const d = this.columns.length;
    const out: DataMatrix = {
      X: this.X.slice(0, this.n * d),
      n: this.n,
      d,
      columns: this.columns,
    };
    if (this.y !== null) out.y = this.y.slice(0, this.n);
    return out;
  }
}
