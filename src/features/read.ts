// Reading raw field values, shared by fitting and featurizing so both see the same numbers.
import { FeaturizeError } from './errors.js';
import {
  DEFAULT_MAX_LENGTH,
  type CategoricalField,
  type NumericOptions,
  type TimestampField,
} from './spec.js';

export type Getter = (rec: object) => unknown;

/** A fast accessor for a dotted path; a missing or non-object intermediate reads as undefined. */
export function makeGetter(path: string): Getter {
  const keys = path.split('.');
  if (keys.length === 1) {
    const k = keys[0]!;
    return (r) => (r as Record<string, unknown>)[k];
  }
  if (keys.length === 2) {
    const [k0, k1] = keys as [string, string];
    return (r) => {
      const a = (r as Record<string, unknown>)[k0];
      return a !== null && typeof a === 'object' ? (a as Record<string, unknown>)[k1] : undefined;
    };
  }
  return (r) => {
    let v: unknown = r;
    for (const k of keys) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    return v;
  };
}

/**
 * A JS expression reading `path` from `root` (uses a scratch variable `t`), same semantics as
 * makeGetter. Keys are embedded as JSON string literals, so a path cannot inject code.
 */
export function accessExpression(root: string, path: string): string {
  const keys = path.split('.').map((k) => JSON.stringify(k));
  let expr = `${root}[${keys[0]}]`;
  for (let i = 1; i < keys.length; i++)
    expr = `((t = ${expr}) !== null && typeof t === "object" ? t[${keys[i]}] : undefined)`;
  return expr;
}

/**
 * The value of a numeric field with `per`: a / b when both are numbers; missing (undefined) when
 * either is missing; otherwise the offending value, so that the numeric reader names its type.
 */
export function ratioOf(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a / b;
  if (a === undefined || a === null || b === undefined || b === null) return undefined;
  return typeof a === 'number' ? b : a;
}

/** The getter of a field: its path, or path / per for a numeric field with `per`. */
export function fieldGetter(f: { path: string; per?: string }): Getter {
  const get = makeGetter(f.path);
  if (f.per === undefined) return get;
  const per = makeGetter(f.per);
  return (r) => ratioOf(get(r), per(r));
}

/** sign(x) log(1 + |x|): log1p that keeps the sign, for heavy-tailed values of either sign. */
export function slog1p(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}

/**
 * A numeric reader: raw value -> number (log1p applied), NaN for missing (undefined, null, NaN),
 * ±Infinity as is. Wrong types throw FeaturizeError.
 */
export function numericReader(path: string, opts: NumericOptions): (v: unknown) => number {
  const log = opts.log1p === true;
  const coerce = opts.coerceStrings === true;
  return (v) => {
    let x: number;
    if (typeof v === 'number') x = v;
    else if (v === undefined || v === null) return NaN;
    else if (typeof v === 'bigint') x = Number(v);
    else if (coerce && typeof v === 'string' && v.length <= 64 && v.trim() !== '') {
      x = Number(v);
      if (Number.isNaN(x)) throw new FeaturizeError('type', path, v, 'not a number');
    } else throw new FeaturizeError('type', path, v, `expected a number, got ${kindOf(v)}`);
    return log ? slog1p(x) : x;
  };
}

/** A category reader: string (numbers and booleans as their decimal text), undefined for missing. */
export function categoryReader(f: CategoricalField): (v: unknown) => string | undefined {
  const path = f.path;
  const maxLength = f.maxLength ?? DEFAULT_MAX_LENGTH;
  return (v) => {
    if (typeof v === 'string') {
      if (v.length > maxLength)
        throw new FeaturizeError(
          'too_long',
          path,
          v,
          `category of ${v.length} chars, more than ${maxLength}`,
        );
      return v;
    }
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number') {
      if (!Number.isFinite(v))
        throw new FeaturizeError('not_finite', path, v, 'a category cannot be NaN or infinite');
      return String(v);
    }
    if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    throw new FeaturizeError('type', path, v, `expected a string category, got ${kindOf(v)}`);
  };
}

/** 32-bit FNV-1a over UTF-16 code units: fast, allocation-free, the same in every JS engine. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
/** Bounds of ECMAScript dates, ±8.64e15 ms. */
const MAX_MS = 8.64e15;

/**
 * A timestamp reader: raw value -> epoch milliseconds, NaN for missing. Numbers are in
 * `unit`; strings are ISO 8601 and read as UTC when they carry no zone (NAB's
 * "2014-04-01 00:00:00"), so results never depend on the machine's time zone.
 */
export function timestampReader(f: TimestampField): (v: unknown) => number {
  const path = f.path;
  const factor = f.unit === 's' ? 1000 : f.unit === 'us' ? 0.001 : 1;
  const check = (ms: number, v: unknown): number => {
    if (!(Math.abs(ms) <= MAX_MS))
      throw new FeaturizeError('invalid_timestamp', path, v, 'not a representable time');
    return ms;
  };
  return (v) => {
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return NaN;
      return check(v * factor, v);
    }
    if (v === undefined || v === null) return NaN;
    if (typeof v === 'bigint') return check(Number(v) * factor, v);
    if (v instanceof Date) return check(v.getTime(), v);
    if (typeof v === 'string') {
      const m = v.length <= 40 ? ISO.exec(v) : null;
      if (!m) throw new FeaturizeError('invalid_timestamp', path, v, 'not an ISO 8601 date-time');
      const ms0 = Date.UTC(
        +m[1]!,
        +m[2]! - 1,
        +m[3]!,
        +(m[4] ?? 0),
        +(m[5] ?? 0),
        +(m[6] ?? 0),
        m[7] ? Math.round(Number(m[7]) * 1000) : 0,
      );
      let off = 0;
      const z = m[8];
      if (z && z.toUpperCase() !== 'Z') {
        const d = z.replace(':', '');
        off = (d[0] === '-' ? -1 : 1) * (Number(d.slice(1, 3)) * 60 + Number(d.slice(3, 5)));
      }
      if (
        +m[2]! < 1 ||
        +m[2]! > 12 ||
        +m[3]! < 1 ||
        +m[3]! > 31 ||
        +(m[4] ?? 0) > 23 ||
        +(m[5] ?? 0) > 59 ||
        +(m[6] ?? 0) > 60
      ) {
        throw new FeaturizeError('invalid_timestamp', path, v, 'date-time field out of range');
      }
      return check(ms0 - off * 60000, v);
    }
    throw new FeaturizeError('type', path, v, `expected a timestamp, got ${kindOf(v)}`);
  };
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (Buffer.isBuffer(v)) return 'bytes';
  return typeof v;
}
