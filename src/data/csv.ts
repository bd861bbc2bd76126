import { DataError } from './errors.js';
import { MatrixBuilder, defaultColumnNames, type ColumnOptions, type DataMatrix } from './matrix.js';

export interface CsvOptions extends ColumnOptions {
  /**
   * true (default): the first non-blank line names the columns. false: no header, columns are
   * named col0, col1, ... (the digits format). 'auto': a header when the first line has a cell
   * that is not a number.
   */
  header?: boolean | 'auto';
  /** Field separator, default ','. */
  delimiter?: string;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/**
 * Parses one (trimmed) cell strictly: a decimal number, else NaN. Same language as NUMBER, but
 * faster: Number() is strict except for '' (0), Infinity and 0x / 0o / 0b literals, refused here.
 */
function parseNumber(s: string): number {
  const c = s.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return NaN;
  if (c === 48 && s.length > 1) {
    const c1 = s.charCodeAt(1) | 32;
    if (c1 === 120 || c1 === 111 || c1 === 98) return NaN;
  }
  return +s;
}

function cellProblem(s: string): string {
  if (s === '') return 'empty cell';
  if (NON_FINITE.test(s)) return 'non-finite value';
  if (NUMBER.test(s)) return 'non-finite value'; // e.g. 1e999
  return 'non-numeric value';
}

/**
 * Splits CSV text into records. Quoted fields ("a,b", "say ""hi""") may hold the delimiter,
 * doubled quotes and newlines. Blank lines are skipped. Fields are trimmed (quoted ones too:
 * the cells are numbers). `onRecord` gets the
 * fields and the 1-based line the record starts on.
 */
export function forEachCsvRecord(
  text: string,
  file: string,
  delimiter: string,
  onRecord: (fields: string[], line: number) => void,
): void {
  const len = text.length;
  let pos = 0;
  let line = 1;
  while (pos < len) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = len;
    const startLine = line;
    let raw = text.slice(pos, eol);
    if (raw.indexOf('"') < 0) {
      pos = eol + 1;
      line++;
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      if (raw.trim() === '') continue;
      const fields = raw.split(delimiter);
      for (let i = 0; i < fields.length; i++) fields[i] = fields[i]!.trim();
      onRecord(fields, startLine);
      continue;
    }
    // Slow path: a record with quotes, possibly spanning lines.
    const fields: string[] = [];
    let field = '';
    let quoted = false; // inside quotes
    let i = pos;
    for (;;) {
      if (i >= len) {
        if (quoted) throw new DataError(file, 'unterminated quoted field', { line: startLine });
        break;
      }
      const c = text[i]!;
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          quoted = false;
          i++;
          // Only blanks may follow a closing quote before the delimiter / end of line.
          while (i < len && (text[i] === ' ' || text[i] === '\t')) i++;
          if (i < len && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') {
            throw new DataError(file, 'unexpected character after closing quote', {
              line,
              value: text[i]!,
            });
          }
          continue;
        }
        if (c === '\n') line++;
        field += c;
        i++;
        continue;
      }
      if (c === '"') {
        if (field.trim() !== '') {
          throw new DataError(file, 'quote inside an unquoted field', { line, value: field + c });
        }
        field = '';
        quoted = true;
        i++;
        continue;
      }
      if (c === delimiter) {
        fields.push(field.trim());
        field = '';
        i++;
        continue;
      }
      if (c === '\n') break;
      field += c;
      i++;
    }
    fields.push(field.trim());
    pos = i + 1;
    line++;
    onRecord(fields, startLine);
  }
}

/** Parses a numeric CSV (see CsvOptions). Every used cell must be a finite decimal number. */
export function parseCsv(input: string | Uint8Array, file: string, opts: CsvOptions = {}): DataMatrix {
  let text =
    typeof input === 'string'
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new DataError(file, 'empty file');
  const delimiter = opts.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n') {
    throw new DataError(file, 'the CSV delimiter must be one character (not a quote or newline)', {
      value: delimiter,
    });
  }
  const headerMode = opts.header ?? true;
  // Rough row estimate for the initial allocation.
  let expected = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) expected++;

  let builder: MatrixBuilder | null = null;
  let width = 0;
  let row = new Float64Array(0);
  let dataRows = 0;

  const start = (names: string[]): void => {
    const seen = new Set<string>();
    for (const c of names) {
      if (seen.has(c)) throw new DataError(file, 'duplicate column name', { line: 1, value: c });
      seen.add(c);
    }
    width = names.length;
    row = new Float64Array(width);
    builder = new MatrixBuilder(file, names, opts, expected);
  };

  const addRow = (b: MatrixBuilder, fields: string[], line: number): void => {
    if (fields.length !== width) {
      throw new DataError(
        file,
        `expected ${width} fields${headerMode === false ? ' (as in the first line)' : ' (as in the header)'}, found ${fields.length}`,
        { line },
      );
    }
    dataRows++;
    for (let j = 0; j < width; j++) {
      if (!b.used(j)) continue;
      const s = fields[j]!;
      const v = parseNumber(s);
      if (!Number.isFinite(v)) {
        throw new DataError(file, cellProblem(s), { line, column: b.srcColumns[j]!, value: s });
      }
      row[j] = v;
    }
    b.add(row, { line });
  };

  forEachCsvRecord(text, file, delimiter, (fields, line) => {
    if (builder === null) {
      const isHeader =
        headerMode === 'auto' ? fields.some((f) => !Number.isFinite(parseNumber(f))) : headerMode;
      if (isHeader) {
        start(fields.map((f, j) => (f === '' ? `col${j}` : f)));
        return;
      }
      start(defaultColumnNames(fields.length));
    }
    addRow(builder!, fields, line);
  });
  if (builder === null || dataRows === 0) throw new DataError(file, 'no data rows (header only)');
  return (builder as MatrixBuilder).finish();
}
