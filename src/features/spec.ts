// The feature spec: what each output column is made of, plus the statistics fitted on the
// training window. Plain JSON, saved as features.json in the model artifact.
import { FeatureSpecError } from './errors.js';

/** What happens when a field is absent, null or NaN: impute (and flag), or refuse the record. */
export type MissingPolicy = 'impute' | 'error';
/** ±Infinity: clip to ±clip, treat as missing, or refuse the record. */
export type InfinityPolicy = 'clip' | 'missing' | 'error';

interface FieldBase {
  /** Dotted path into the record ('amount', 'geo.country'); a column index for array rows. */
  path: string;
  /** Column name prefix; defaults to the path. */
  name?: string;
  /**
   * Default 'error' ('impute' when `indicator` is set); deriveSpecFromAvro sets 'error' for
   * required fields and 'impute' with an indicator for nullable ones.
   */
  missing?: MissingPolicy;
  /** Add a `<name>#missing` column, 1 when the value was imputed. */
  indicator?: boolean;
}

/** Robust statistics of a numeric field over the training window (after log1p, if set). */
export interface NumericStats {
  /** median */
  center: number;
  /** interquartile range (fallback: standard deviation, then 1) */
  scale: number;
  q25: number;
  q75: number;
  min: number;
  max: number;
  /** finite values seen */
  count: number;
  /** missing or non-finite values seen */
  missing: number;
}

export interface NumericOptions {
  /** Signed log1p, sign(x) log(1 + |x|), before scaling: for heavy tails (bytes, amounts). */
  log1p?: boolean;
  /** Raw value imputed for a missing one; default the training median. */
  fill?: number;
  infinity?: InfinityPolicy;
  /** Scaled values are clipped to ±clip (default 1000) so Float32 rows stay finite. */
  clip?: number;
  /**
   * 'asinh': the scaled value z becomes asinh(z) (before clipping): linear near the median,
   * logarithmic in the tails, so one extreme column does not dominate distances. Default none.
   */
  squash?: 'asinh';
  /** Accept numeric strings ("12.5"), as some JSON producers send them. Default false. */
  coerceStrings?: boolean;
  stats?: NumericStats;
}

export interface NumericField extends FieldBase, NumericOptions {
  kind: 'numeric';
  /**
   * Divide the value by the one at this path (another numeric field of the record): the feature
   * is path / per, e.g. an amount relative to the entity's average. Missing when either is
   * missing; a zero denominator gives an infinite (or NaN) value, handled by `infinity`.
   */
  per?: string;
}

export interface HashCategoricalField extends FieldBase {
  kind: 'categorical';
  encoding: 'hash';
  /** One-hot over `buckets` columns, bucket = FNV-1a(UTF-16 code units) mod buckets. */
  buckets: number;
  /** Longer strings are refused (default 4096). */
  maxLength?: number;
}

export interface VocabCategoricalField extends FieldBase {
  kind: 'categorical';
  encoding: 'vocab';
  /** The categories, one column each, then one `=#other` column. Fitted unless fixedVocab. */
  vocab?: string[];
  /** Keep the vocab as given (e.g. an Avro enum's symbols) instead of fitting it. */
  fixedVocab?: boolean;
  /** Fitting keeps the most frequent maxVocab values (default 64) seen at least minCount times (default 1). */
  maxVocab?: number;
  minCount?: number;
  maxLength?: number;
}

export type CategoricalField = HashCategoricalField | VocabCategoricalField;

export interface BooleanField extends FieldBase {
  kind: 'boolean';
}

export type TimestampPart = 'hour' | 'dow';

export interface TimestampField extends FieldBase {
  kind: 'timestamp';
  /** Unit of numeric timestamps (default ms). Strings are ISO 8601; without a zone they are UTC. */
  unit?: 's' | 'ms' | 'us';
  /** Local time = UTC + this offset, for hour-of-day and day-of-week (default 0). */
  utcOffsetMinutes?: number;
  /** Default both: `.hour_sin .hour_cos .dow_sin .dow_cos`. */
  parts?: TimestampPart[];
}

/**
 * The last `window` values of a numeric field for the same entity key (spec.key), scaled with
 * the field's statistics: `.lag0` (this record) .. `.lag{w-1}`, with `diffs` `.diff1` ..
 * `.diff{w-1}` (lag_{j-1} - lag_j), and `.seen` (the fraction of the window observed so far).
 * Lags not yet observed repeat the oldest value known.
 */
export interface ShingleField extends FieldBase, NumericOptions {
  kind: 'shingle';
  window: number;
  /** default true */
  diffs?: boolean;
}

export interface IgnoredField {
  kind: 'ignore';
  path: string;
}

export type FieldSpec =
  NumericField | CategoricalField | BooleanField | TimestampField | ShingleField | IgnoredField;
export type FieldKind = FieldSpec['kind'];

export interface FeatureSpec {
  version: 1;
  /** Entity key path for shingles; without one all records share one history. */
  key?: string;
  /**
   * Most entity keys whose history is kept; default 100000. Eviction is approximately least
   * recently used: a key is kept for at least 3/4 maxKeys new-key insertions after its last use.
   */
  maxKeys?: number;
  fields: FieldSpec[];
  /** Set by fitFeatureSpec. */
  fitted?: { rows: number; rejected: number };
}

export const DEFAULT_CLIP = 1000;
export const DEFAULT_MAX_LENGTH = 4096;
export const DEFAULT_MAX_KEYS = 100_000;
export const DEFAULT_MAX_VOCAB = 64;

// ---- validation (config and features.json arrive as untyped JSON) ----

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(o: Obj, k: string, at: string, required: true): string;
function str(o: Obj, k: string, at: string, required?: false): string | undefined;
function str(o: Obj, k: string, at: string, required = false): string | undefined {
  const v = o[k];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0)
    throw new FeatureSpecError(`${at}.${k}`, 'must be a non-empty string');
  return v;
}

function num(
  o: Obj,
  k: string,
  at: string,
  opts: { int?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new FeatureSpecError(`${at}.${k}`, 'must be a finite number');
  if (opts.int && !Number.isInteger(v)) throw new FeatureSpecError(`${at}.${k}`, 'must be an integer');
  if (opts.min !== undefined && v < opts.min)
    throw new FeatureSpecError(`${at}.${k}`, `must be >= ${opts.min}`);
  if (opts.max !== undefined && v > opts.max)
    throw new FeatureSpecError(`${at}.${k}`, `must be <= ${opts.max}`);
  return v;
}

function bool(o: Obj, k: string, at: string): boolean | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new FeatureSpecError(`${at}.${k}`, 'must be true or false');
  return v;
}

function oneOf<T extends string>(o: Obj, k: string, at: string, allowed: readonly T[]): T | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw new FeatureSpecError(`${at}.${k}`, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** Drop undefined members so saved specs stay minimal and fingerprints stable. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function stats(o: Obj, at: string): NumericStats | undefined {
  const v = o.stats;
  if (v === undefined) return undefined;
  if (!isObj(v)) throw new FeatureSpecError(`${at}.stats`, 'must be an object');
  const s: Partial<NumericStats> = {};
  for (const k of ['center', 'scale', 'q25', 'q75', 'min', 'max', 'count', 'missing'] as const) {
    const x = num(v, k, `${at}.stats`);
    if (x === undefined) throw new FeatureSpecError(`${at}.stats.${k}`, 'is required');
    s[k] = x;
  }
  if (!(s.scale! > 0)) throw new FeatureSpecError(`${at}.stats.scale`, 'must be > 0');
  return s as NumericStats;
}

function numericOptions(o: Obj, at: string): NumericOptions {
  return {
    log1p: bool(o, 'log1p', at),
    fill: num(o, 'fill', at),
    infinity: oneOf(o, 'infinity', at, ['clip', 'missing', 'error'] as const),
    clip: num(o, 'clip', at, { min: Number.MIN_VALUE, max: 3e38 }),
    squash: oneOf(o, 'squash', at, ['asinh'] as const),
    coerceStrings: bool(o, 'coerceStrings', at),
    stats: stats(o, at),
  };
}

/** Check one field and return a clean copy holding only the members of its kind. */
export function validateField(x: unknown, at = 'field'): FieldSpec {
  if (!isObj(x)) throw new FeatureSpecError(at, 'must be an object');
  const path = str(x, 'path', at, true);
  const kind = x.kind;
  if (kind === 'ignore') return { kind, path };
  const base = {
    path,
    name: str(x, 'name', at),
    missing: oneOf(x, 'missing', at, ['impute', 'error'] as const),
    indicator: bool(x, 'indicator', at),
  };
  switch (kind) {
    case 'numeric':
      return compact({ kind, ...base, per: str(x, 'per', at), ...numericOptions(x, at) });
    case 'shingle': {
      const window = num(x, 'window', at, { int: true, min: 2, max: 1024 });
      if (window === undefined) throw new FeatureSpecError(`${at}.window`, 'is required');
      return compact({ kind, ...base, window, diffs: bool(x, 'diffs', at), ...numericOptions(x, at) });
    }
    case 'boolean':
      return compact({ kind, ...base });
    case 'timestamp': {
      const parts = x.parts;
      if (
        parts !== undefined &&
        (!Array.isArray(parts) || parts.length === 0 || parts.some((p) => p !== 'hour' && p !== 'dow'))
      ) {
        throw new FeatureSpecError(`${at}.parts`, "must be a non-empty list of 'hour', 'dow'");
      }
      return compact({
        kind,
        ...base,
        unit: oneOf(x, 'unit', at, ['s', 'ms', 'us'] as const),
        utcOffsetMinutes: num(x, 'utcOffsetMinutes', at, { min: -1440, max: 1440 }),
        parts: parts === undefined ? undefined : [...new Set(parts as TimestampPart[])],
      });
    }
    case 'categorical': {
      const encoding = oneOf(x, 'encoding', at, ['hash', 'vocab'] as const) ?? 'hash';
      const maxLength = num(x, 'maxLength', at, { int: true, min: 1 });
      if (encoding === 'hash') {
        const buckets = num(x, 'buckets', at, { int: true, min: 1, max: 1 << 20 }) ?? 32;
        return compact({ kind, ...base, encoding, buckets, maxLength });
      }
      let vocab: string[] | undefined;
      if (x.vocab !== undefined) {
        if (!Array.isArray(x.vocab) || x.vocab.some((v) => typeof v !== 'string'))
          throw new FeatureSpecError(`${at}.vocab`, 'must be a list of strings');
        vocab = x.vocab as string[];
        if (new Set(vocab).size !== vocab.length) throw new FeatureSpecError(`${at}.vocab`, 'has duplicates');
      }
      return compact({
        kind,
        ...base,
        encoding,
        vocab,
        fixedVocab: bool(x, 'fixedVocab', at),
        maxVocab: num(x, 'maxVocab', at, { int: true, min: 1 }),
        minCount: num(x, 'minCount', at, { int: true, min: 1 }),
        maxLength,
      });
    }
    default:
      throw new FeatureSpecError(
        `${at}.kind`,
        'must be numeric, categorical, boolean, timestamp, shingle or ignore',
      );
  }
}

/** Check a spec from config or features.json; returns a clean copy. Throws FeatureSpecError. */
export function validateFeatureSpec(x: unknown): FeatureSpec {
  if (!isObj(x)) throw new FeatureSpecError('$', 'must be an object');
  if (x.version !== 1)
    throw new FeatureSpecError('$.version', `unsupported version ${String(x.version)} (this build reads 1)`);
  if (!Array.isArray(x.fields)) throw new FeatureSpecError('$.fields', 'must be a list');
  const fields = x.fields.map((f, i) => validateField(f, `$.fields[${i}]`));
  const names = new Set<string>();
  for (const [i, f] of fields.entries()) {
    if (f.kind === 'ignore') continue;
    const n = f.name ?? f.path;
    if (names.has(n)) throw new FeatureSpecError(`$.fields[${i}]`, `duplicate feature name ${n}`);
    names.add(n);
  }
  let fitted: FeatureSpec['fitted'];
  if (x.fitted !== undefined) {
    if (!isObj(x.fitted)) throw new FeatureSpecError('$.fitted', 'must be an object');
    fitted = {
      rows: num(x.fitted, 'rows', '$.fitted', { int: true, min: 0 }) ?? 0,
      rejected: num(x.fitted, 'rejected', '$.fitted', { int: true, min: 0 }) ?? 0,
    };
  }
  return compact({
    version: 1 as const,
    key: str(x, 'key', '$'),
    maxKeys: num(x, 'maxKeys', '$', { int: true, min: 1 }),
    fields,
    fitted,
  });
}

/** Column name prefix of a field. */
export function fieldName(f: Exclude<FieldSpec, IgnoredField>): string {
  return f.name ?? f.path;
}
