// Avro binary codec on avsc, with schema evolution (writer schema resolved into the reader schema)
// and errors that name the field where decoding failed.
import avsc from 'avsc';
import type { Resolver, Type } from 'avsc';
import { DecodeError, EncodeError, SchemaError, messageOf } from './errors.js';
import type { AvroSchemaInput, Codec, DecodedRecord } from './types.js';

/** Most items an array or map block may declare beyond the bytes left (zero-width items). */
const MAX_ZERO_WIDTH_ITEMS = 65536;

// The few avsc internals the guards below touch (not in avsc's typings).
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  isValid(): boolean;
  _invalidate(): void;
}
interface Reader {
  _read(tap: Tap): unknown;
}

/**
 * avsc trusts a block count: a corrupt one (say 2^40 items) loops for hours or exhausts memory
 * even though the buffer is 10 bytes long. These readers refuse counts the remaining bytes
 * cannot hold. avsc copies a reader type's `_read` into its resolvers, so evolved reads are
 * guarded too.
 */
function guardedArrayRead(this: { itemsType: Reader }, tap: Tap): unknown[] {
  const items = this.itemsType;
  const val: unknown[] = [];
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      n = -n;
      tap.skipLong();
    }
    if (!(n <= tap.buf.length - tap.pos + MAX_ZERO_WIDTH_ITEMS)) {
      tap._invalidate();
      return val;
    }
    while (n-- > 0) val.push(items._read(tap));
    if (!tap.isValid()) return val;
  }
  return val;
}

function guardedMapRead(this: { valuesType: Reader }, tap: Tap): Record<string, unknown> {
  const values = this.valuesType;
  const val: Record<string, unknown> = {};
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      n = -n;
      tap.skipLong();
    }
    if (!(n <= tap.buf.length - tap.pos)) {
      tap._invalidate();
      return val;
    }
    while (n-- > 0) {
      const key = tap.readString();
      const v = values._read(tap);
      // A key named __proto__ would otherwise replace the object's prototype.
      Object.defineProperty(val, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
    if (!tap.isValid()) return val;
  }
  return val;
}

// avsc freezes its types, so the guarded readers come in through subclasses chosen by typeHook.
const types = (avsc as unknown as { types: Record<string, new (schema: object, opts: object) => Type> })
  .types;
class GuardedArrayType extends types.ArrayType! {}
(GuardedArrayType.prototype as unknown as Reader)._read = guardedArrayRead as (tap: Tap) => unknown;
class GuardedMapType extends types.MapType! {}
(GuardedMapType.prototype as unknown as Reader)._read = guardedMapRead as (tap: Tap) => unknown;

function typeHook(schema: unknown, opts: object): Type | undefined {
  if (schema && typeof schema === 'object' && !Array.isArray(schema)) {
    const t = (schema as { type?: unknown }).type;
    if (t === 'array') return new GuardedArrayType(schema, opts);
    if (t === 'map') return new GuardedMapType(schema, opts);
  }
  return undefined;
}

/** Types built here (guarded); others are rebuilt from their schema. */
const ours = new WeakSet<Type>();

/**
 * The JSON each Type was parsed from: avsc drops unknown logical types and custom attributes
 * (`ddcl` hints, logicalType) from type.schema(), but registries and the featurizer need them.
 */
const sourceJson = new WeakMap<Type, object>();

/** Parse a schema into an avsc Type with guarded collection readers. Throws SchemaError. */
export function parseAvroSchema(schema: AvroSchemaInput): Type {
  if (avsc.Type.isType(schema)) {
    if (ours.has(schema as Type)) return schema as Type;
    schema = schemaJson(schema as Type);
  }
  let json: unknown = schema;
  if (typeof schema === 'string') {
    try {
      json = JSON.parse(schema);
    } catch (e) {
      throw new SchemaError(`schema is not valid JSON: ${messageOf(e)}`);
    }
  }
  let type: Type;
  try {
    // Logical types stay their underlying type (timestamp-millis is a number of ms), which is
    // what the featurizer expects and what JSON events carry.
    type = avsc.Type.forSchema(json as avsc.Schema, { wrapUnions: 'auto', typeHook: typeHook as never });
  } catch (e) {
    throw new SchemaError(`invalid Avro schema: ${messageOf(e)}`);
  }
  ours.add(type);
  if (json !== null && typeof json === 'object') sourceJson.set(type, json);
  return type;
}

/** The schema as JSON, as written (attributes kept) when this module parsed it. */
export function schemaJson(type: Type): object {
  return structuredClone(sourceJson.get(type) ?? (type.schema({ exportAttrs: true }) as object));
}

/** SHA-256 of the schema's Parsing Canonical Form, hex (the Avro spec's fingerprint). */
export function schemaFingerprint(schema: AvroSchemaInput): string {
  return parseAvroSchema(schema).fingerprint('sha256').toString('hex');
}

function requireRecord(type: Type, what: string): void {
  if (type.typeName !== 'record' && type.typeName !== 'error') {
    throw new SchemaError(`${what} schema must be a record, got ${type.typeName}`);
  }
}

/** A writer -> reader resolver, or undefined when they are the same schema. Throws SchemaError. */
export function makeResolver(reader: Type, writer: Type): Resolver | undefined {
  if (reader === writer || reader.equals(writer)) return undefined;
  try {
    return reader.createResolver(writer);
  } catch (e) {
    throw new SchemaError(
      `writer schema ${writer.name ?? writer.typeName} cannot be read as ${reader.name ?? reader.typeName}: ${messageOf(e)}`,
    );
  }
}

/**
 * Decode one Avro body that starts at `pos` and must end at the buffer's end. The slow path
 * (failure) walks the writer schema field by field to name where it broke.
 */
export function decodeAvroBody(
  reader: Type,
  writer: Type,
  resolver: Resolver | undefined,
  buf: Buffer,
  pos: number,
): DecodedRecord {
  let res: { value: unknown; offset: number };
  try {
    res = reader.decode(buf, pos, resolver);
  } catch (e) {
    throw locateDecodeError(writer, buf, pos, messageOf(e));
  }
  if (res.offset < 0) throw locateDecodeError(writer, buf, pos, 'truncated');
  if (res.offset !== buf.length) {
    throw new DecodeError(
      'trailing_bytes',
      '$',
      buf.subarray(res.offset),
      `${buf.length - res.offset} bytes after the end of the record`,
    );
  }
  return res.value as DecodedRecord;
}

/** Find the first field of `type` that cannot be decoded from buf at pos. */
export function locateDecodeError(type: Type, buf: Buffer, pos: number, cause: string): DecodeError {
  const found = walk(type, buf, pos, '');
  if (found) return found;
  // Every field decodes with the writer schema: the failure is in resolution to the reader.
  return new DecodeError(cause === 'truncated' ? 'truncated' : 'resolution', '$', buf.subarray(pos), cause);
}

function walk(type: Type, buf: Buffer, pos: number, prefix: string): DecodeError | undefined {
  const rec = type as unknown as { fields?: { name: string; type: Type }[] };
  if (!rec.fields) return undefined;
  let p = pos;
  for (const f of rec.fields) {
    const path = prefix ? `${prefix}.${f.name}` : f.name;
    let r: { value: unknown; offset: number };
    try {
      r = f.type.decode(buf, p);
    } catch (e) {
      return (
        walk(f.type, buf, p, path) ??
        new DecodeError(
          'invalid',
          path,
          buf.subarray(p),
          `cannot decode ${describe(f.type)}: ${messageOf(e)}`,
        )
      );
    }
    if (r.offset < 0) {
      return (
        walk(f.type, buf, p, path) ??
        new DecodeError(
          'truncated',
          path,
          buf.subarray(p),
          `buffer ends inside ${describe(f.type)} field (${buf.length - p} bytes left)`,
        )
      );
    }
    p = r.offset;
  }
  return undefined;
}

function describe(type: Type): string {
  return type.name ?? type.typeName;
}

/** Avro binary (no framing): the body of one record. */
export class AvroCodec implements Codec {
  readonly format = 'avro' as const;
  readonly readerType: Type;
  readonly writerType: Type;
  private readonly resolver: Resolver | undefined;

  /** Records are written with `writerSchema` (default: the reader's) and read as `readerSchema`. */
  constructor(readerSchema: AvroSchemaInput, writerSchema?: AvroSchemaInput) {
    this.readerType = parseAvroSchema(readerSchema);
    requireRecord(this.readerType, 'reader');
    this.writerType = writerSchema === undefined ? this.readerType : parseAvroSchema(writerSchema);
    requireRecord(this.writerType, 'writer');
    this.resolver = makeResolver(this.readerType, this.writerType);
  }

  decode(buf: Buffer): DecodedRecord {
    return decodeAvroBody(this.readerType, this.writerType, this.resolver, buf, 0);
  }

  /** Encodes with the reader schema (the one this process speaks). */
  encode(rec: DecodedRecord): Buffer {
    return encodeAvro(this.readerType, rec);
  }
}

/** Encode with `type`, naming the first invalid field on failure. */
export function encodeAvro(type: Type, rec: unknown, prefix?: Buffer): Buffer {
  let body: Buffer;
  try {
    body = type.toBuffer(rec);
  } catch (e) {
    throw invalidValueError(type, rec, messageOf(e), EncodeError);
  }
  return prefix ? Buffer.concat([prefix, body]) : body;
}

/** The first path at which `rec` does not match `type`, as a typed error. */
export function invalidValueError<E extends DecodeError | EncodeError>(
  type: Type,
  rec: unknown,
  fallback: string,
  Err: new (code: string, path: string, value: unknown, reason: string) => E,
): E {
  let first: { path: string; value: unknown; type: string } | undefined;
  type.isValid(rec, {
    errorHook: (path: string[], value: unknown, t: Type) => {
      if (!first) first = { path: path.join('.') || '$', value, type: t.name ?? t.typeName };
    },
  });
  if (!first) return new Err('invalid', '$', rec, fallback);
  return first.value === undefined
    ? new Err('missing', first.path, undefined, `required ${first.type} field is missing`)
    : new Err('type', first.path, first.value, `not a valid ${first.type}`);
}
