import { inflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { DataError } from './errors.js';
import { MatrixBuilder, type ColumnOptions, type DataMatrix } from './matrix.js';

export type AvroOptions = ColumnOptions;

const MAGIC = [0x4f, 0x62, 0x6a, 0x01]; // "Obj" 1

export function isAvroContainer(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

const HEADER = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const LONG = avro.Type.forSchema('long');

const NUMERIC = new Set(['int', 'long', 'float', 'double', 'boolean']);

/** The numeric kind of a field type, or undefined; `["null", "double"]` unions count as nullable. */
function numericKind(t: unknown): { nullable: boolean } | undefined {
  const name = (x: unknown): string | undefined =>
    typeof x === 'string'
      ? x
      : typeof x === 'object' &&
          x !== null &&
          'type' in x &&
          typeof (x as { type: unknown }).type === 'string'
        ? (x as { type: string }).type
        : undefined;
  if (Array.isArray(t)) {
    const branches = t.map(name);
    const nonNull = branches.filter((b) => b !== 'null');
    if (nonNull.length === 1 && NUMERIC.has(nonNull[0]!)) return { nullable: branches.length > 1 };
    return undefined;
  }
  const n = name(t);
  return n !== undefined && NUMERIC.has(n) ? { nullable: false } : undefined;
}

interface AvroField {
  name: string;
  type: unknown;
}

/**
 * Parses an Avro object container file (codec null or deflate) whose records have numeric fields
 * (int, long, float, double, boolean as 0/1, or a union of null and one of them: a null value is
 * an error). The columns are the record's fields, in schema order.
 */
export function parseAvro(bytes: Uint8Array, file: string, opts: AvroOptions = {}): DataMatrix {
  if (bytes.length === 0) throw new DataError(file, 'empty file');
  if (!isAvroContainer(bytes)) throw new DataError(file, 'not an Avro object container file (bad magic)');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = HEADER.decode(buf, 0) as {
    value: { meta: Record<string, Buffer>; sync: Buffer };
    offset: number;
  };
  if (head.offset < 0) throw new DataError(file, 'truncated Avro header');
  const meta = head.value.meta;
  const schemaText = meta['avro.schema']?.toString('utf8');
  if (schemaText === undefined) throw new DataError(file, 'Avro header has no avro.schema');
  const codec = meta['avro.codec']?.toString('utf8') ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') {
    throw new DataError(file, `unsupported Avro codec "${codec}" (null and deflate are)`);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(schemaText);
  } catch {
    throw new DataError(file, 'Avro schema is not valid JSON');
  }
  const s = schema as { type?: unknown; fields?: unknown };
  if (s.type !== 'record' || !Array.isArray(s.fields)) {
    throw new DataError(file, 'Avro schema is not a record');
  }
  const fields = s.fields as AvroField[];
  const names = fields.map((f) => f.name);
  const type = avro.Type.forSchema(schema as avro.Schema);
  const builder = new MatrixBuilder(file, names, opts);
  for (let j = 0; j < fields.length; j++) {
    if (builder.used(j) && numericKind(fields[j]!.type) === undefined) {
      throw new DataError(file, 'Avro field is not numeric', {
        column: names[j]!,
        value: JSON.stringify(fields[j]!.type),
      });
    }
  }
  const sync = head.value.sync;
  const row = new Float64Array(fields.length);
  let pos = head.offset;
  let record = 0;
  while (pos < buf.length) {
    const c = LONG.decode(buf, pos) as { value: number; offset: number };
    if (c.offset < 0) throw new DataError(file, 'truncated Avro block header');
    const z = LONG.decode(buf, c.offset) as { value: number; offset: number };
    if (z.offset < 0) throw new DataError(file, 'truncated Avro block header');
    const end = z.offset + z.value;
    if (end + 16 > buf.length) throw new DataError(file, 'truncated Avro block');
    if (!buf.subarray(end, end + 16).equals(sync))
      throw new DataError(file, 'Avro sync marker mismatch (corrupt file)');
    let block = buf.subarray(z.offset, end);
    if (codec === 'deflate') block = inflateRawSync(block);
    let p = 0;
    for (let r = 0; r < c.value; r++) {
      record++;
      let dec: { value: unknown; offset: number };
      try {
        dec = type.decode(block, p) as { value: unknown; offset: number };
      } catch (e) {
        throw new DataError(file, `undecodable Avro record (${(e as Error).message})`, { row: record });
      }
      if (dec.offset < 0) throw new DataError(file, 'truncated Avro record', { row: record });
      p = dec.offset;
      const rec = dec.value as Record<string, unknown>;
      for (let j = 0; j < names.length; j++) {
        if (!builder.used(j)) continue;
        let v = rec[names[j]!];
        // Unions decode as the bare value (avsc default wrapUnions: auto for null + one type).
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
          const inner = Object.values(v as Record<string, unknown>);
          if (inner.length === 1) v = inner[0];
        }
        if (typeof v === 'boolean') v = v ? 1 : 0;
        if (typeof v !== 'number') {
          throw new DataError(file, v === null ? 'null value' : 'non-numeric value', {
            row: record,
            column: names[j]!,
            value: String(v),
          });
        }
        if (!Number.isFinite(v)) {
          throw new DataError(file, 'non-finite value', { row: record, column: names[j]!, value: String(v) });
        }
        row[j] = v;
      }
      builder.add(row, { row: record });
    }
    pos = end + 16;
  }
  return builder.finish();
}
