// Feature specs without writing one by hand: derived from an Avro schema (with `ddcl` hints in
// the schema and per-field overrides), or all-numeric for matrices named by column.
import { parseAvroSchema, schemaJson } from '../codec/avro.js';
import type { AvroSchemaInput } from '../codec/types.js';
import { FeatureSpecError } from './errors.js';
import {
  validateFeatureSpec,
  validateField,
  type FeatureSpec,
  type FieldSpec,
  type NumericOptions,
} from './spec.js';

/** Changes to one derived field; `kind` may change it altogether ({ kind: 'ignore' } drops it). */
export type FieldOverride = Partial<Record<string, unknown>> & { kind?: FieldSpec['kind'] };

export interface DeriveOptions {
  /** Entity key path for shingles; the key field itself is ignored unless overridden. */
  key?: string;
  maxKeys?: number;
  /** By field path; wins over the schema's `ddcl` attributes. */
  overrides?: Record<string, FieldOverride>;
  /** Buckets of hashed string fields (default 32). */
  hashBuckets?: number;
  /** Fields appended after the derived ones. */
  extra?: FieldSpec[];
}

type Json = Record<string, unknown>;
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/**
 * Derive a spec from a record schema: numbers -> numeric, timestamp-millis/micros -> timestamp,
 * boolean -> boolean, enum -> categorical vocab (its symbols, fixed), string -> hashed
 * categorical (uuid strings ignored), nested records -> dotted paths, ["null", T] -> T with
 * missing 'impute' and an indicator (required fields: missing 'error'); bytes, fixed, arrays,
 * maps and other unions are ignored.
 */
export function deriveSpecFromAvro(schema: AvroSchemaInput, opts: DeriveOptions = {}): FeatureSpec {
  // Walk the JSON form (it keeps the `ddcl` attributes); avsc validates it first.
  const json = schemaJson(parseAvroSchema(schema)) as Json;
  if (json.type !== 'record') throw new FeatureSpecError('$', 'the schema must be a record');
  const named = new Map<string, Json>();
  const fields: FieldSpec[] = [];
  walkRecord(json, '', named, fields, opts);
  const overrides = opts.overrides ?? {};
  const known = new Set(fields.map((f) => f.path));
  for (const p of Object.keys(overrides))
    if (!known.has(p)) throw new FeatureSpecError(`overrides.${p}`, 'no such field in the schema');
  const out = fields.map((f) =>
    overrides[f.path] ? validateField({ ...f, ...overrides[f.path] }, `overrides.${f.path}`) : f,
  );
  return validateFeatureSpec({
    version: 1,
    key: opts.key,
    maxKeys: opts.maxKeys,
    fields: [...out, ...(opts.extra ?? [])],
  });
}

function walkRecord(
  rec: Json,
  prefix: string,
  named: Map<string, Json>,
  out: FieldSpec[],
  opts: DeriveOptions,
): void {
  register(rec, named);
  for (const field of rec.fields as Json[]) {
    const path = prefix ? `${prefix}.${String(field.name)}` : String(field.name);
    let t = deref(field.type, named);
    let nullable = false;
    if (Array.isArray(t)) {
      const branches = t.map((b) => deref(b, named));
      const nonNull = branches.filter((b) => b !== 'null');
      nullable = nonNull.length < branches.length;
      t = nonNull.length === 1 ? nonNull[0] : undefined;
      for (const b of branches)
        if (b && typeof b === 'object' && !Array.isArray(b)) register(b as Json, named);
    }
    if (t && typeof t === 'object' && !Array.isArray(t) && (t as Json).type === 'record') {
      walkRecord(t as Json, path, named, out, opts);
      continue;
    }
    if (t && typeof t === 'object' && !Array.isArray(t)) register(t as Json, named);
    let base = baseField(path, t, opts);
    if (base.kind !== 'ignore') {
      base = {
        ...base,
        missing: nullable ? 'impute' : 'error',
        ...(nullable ? { indicator: true } : {}),
      } as FieldSpec;
    }
    if (path === opts.key) base = { kind: 'ignore', path };
    const hint = field.ddcl;
    if (hint !== undefined) {
      if (!hint || typeof hint !== 'object' || Array.isArray(hint))
        throw new FeatureSpecError(`${path}.ddcl`, 'must be an object');
      base = validateField({ ...base, ...(hint as Json) }, `schema field ${path} (ddcl)`);
    }
    out.push(base);
  }
}

function baseField(path: string, t: unknown, opts: DeriveOptions): FieldSpec {
  const type =
    typeof t === 'string'
      ? t
      : t && typeof t === 'object' && !Array.isArray(t)
        ? String((t as Json).type)
        : undefined;
  const logical = t && typeof t === 'object' && !Array.isArray(t) ? (t as Json).logicalType : undefined;
  switch (type) {
    case 'int':
    case 'long':
      if (logical === 'timestamp-millis' || logical === 'local-timestamp-millis')
        return { kind: 'timestamp', path, unit: 'ms' };
      if (logical === 'timestamp-micros' || logical === 'local-timestamp-micros')
        return { kind: 'timestamp', path, unit: 'us' };
      if (logical === 'date' || logical === 'time-millis' || logical === 'time-micros')
        return { kind: 'ignore', path };
      return { kind: 'numeric', path };
    case 'float':
    case 'double':
      return { kind: 'numeric', path };
    case 'boolean':
      return { kind: 'boolean', path };
    case 'string':
      if (logical === 'uuid') return { kind: 'ignore', path };
      return { kind: 'categorical', encoding: 'hash', path, buckets: opts.hashBuckets ?? 32 };
    case 'enum':
      return {
        kind: 'categorical',
        encoding: 'vocab',
        path,
        vocab: [...((t as Json).symbols as string[])],
        fixedVocab: true,
      };
    default:
      return { kind: 'ignore', path };
  }
}

function register(t: Json, named: Map<string, Json>): void {
  const name = t.name;
  if (
    typeof name !== 'string' ||
    t.type === undefined ||
    !['record', 'enum', 'fixed', 'error'].includes(String(t.type))
  )
    return;
  named.set(name, t);
  if (typeof t.namespace === 'string') named.set(`${t.namespace}.${name}`, t);
  const short = name.split('.').pop()!;
  named.set(short, t);
}

function deref(t: unknown, named: Map<string, Json>): unknown {
  if (typeof t === 'string' && !PRIMITIVES.has(t)) return named.get(t) ?? named.get(t.split('.').pop()!) ?? t;
  if (
    t &&
    typeof t === 'object' &&
    !Array.isArray(t) &&
    typeof (t as Json).type === 'string' &&
    !PRIMITIVES.has((t as Json).type as string) &&
    !['record', 'enum', 'fixed', 'array', 'map', 'error'].includes((t as Json).type as string)
  ) {
    return deref((t as Json).type, named);
  }
  return t;
}

/**
 * An all-numeric spec for matrix rows (CSV, npz): column i is read from path String(i) (so
 * rows may be arrays or typed arrays) and named `columns[i]`.
 */
export function numericSpecForColumns(
  columns: readonly string[],
  opts: NumericOptions & { missing?: 'impute' | 'error'; indicator?: boolean } = {},
): FeatureSpec {
  const rest: Partial<typeof opts> = { ...opts };
  delete rest.stats;
  return validateFeatureSpec({
    version: 1,
    fields: columns.map((name, i) => ({ kind: 'numeric', path: String(i), name, ...rest })),
  });
}
