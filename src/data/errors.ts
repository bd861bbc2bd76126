/** Where in a file a data problem was found. All fields optional: a whole-file problem has none. */
export interface DataLocation {
  /** 1-based physical line (text formats: CSV, JSONL). */
  line?: number;
  /** 1-based data row / record (binary formats: npy, npz, idx, Avro). */
  row?: number;
  /** Column (CSV header name, JSON key, Avro field, or `col<j>` where the format has no names). */
  column?: string;
  /** The offending value as text. */
  value?: string;
}

/**
 * A problem with an input file: missing, empty, unknown format, malformed, ragged, or a cell that
 * is not a finite number. The message always starts with the file name and names the line / row,
 * column and value where they apply: `data.csv:3: column "b": non-numeric value "abc"`.
 */
export class DataError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly row?: number;
  readonly column?: string;
  readonly value?: string;

  constructor(file: string, detail: string, loc: DataLocation = {}) {
    super(formatMessage(file, detail, loc));
    this.name = 'DataError';
    this.file = file;
    if (loc.line !== undefined) this.line = loc.line;
    if (loc.row !== undefined) this.row = loc.row;
    if (loc.column !== undefined) this.column = loc.column;
    if (loc.value !== undefined) this.value = loc.value;
  }
}

function formatMessage(file: string, detail: string, loc: DataLocation): string {
  let head = file;
  if (loc.line !== undefined) head += `:${loc.line}`;
  const parts: string[] = [];
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.column !== undefined) parts.push(`column "${loc.column}"`);
  parts.push(loc.value !== undefined ? `${detail} ${JSON.stringify(loc.value)}` : detail);
  return `${head}: ${parts.join(': ')}`;
}
