// The featurizer: one record -> one row of a Float32Array, the same code in training and in
// serving. The per-event path is a list of closures compiled from the spec, writing into the
// caller's (preallocated) row; it allocates nothing except for new entity keys.
import { createHash } from 'node:crypto';
import { FeaturizeError, FeatureSpecError } from './errors.js';
import {
  accessExpression,
  ratioOf,
  categoryReader,
  fnv1a,
  kindOf,
  numericReader,
  slog1p,
  timestampReader,
  type Getter,
} from './read.js';
import {
  DEFAULT_CLIP,
  DEFAULT_MAX_KEYS,
  fieldName,
  validateFeatureSpec,
  type BooleanField,
  type CategoricalField,
  type FeatureSpec,
  type FieldSpec,
  type NumericField,
  type ShingleField,
  type TimestampField,
} from './spec.js';

/** Writes one field's columns from its raw value. */
type Op = (v: unknown, out: Float32Array, o: number) => void;
type Run = (rec: object, out: Float32Array, o: number) => void;

/** History of one entity key: the last window-1 values of every shingle field, in rings. */
interface KeyState {
  /** records committed for this key */
  c: number;
  /** insertion tick of this entry in the key map */
  tick: number;
  hist: Float64Array;
}

export interface FeaturizerOptions {
  /** Overrides spec.maxKeys. */
  maxKeys?: number;
}

export interface FeaturizedMany {
  /** rows x dim, row-major; only the records that featurized, in input order */
  X: Float32Array;
  rows: number;
  /** input index of each row */
  index: Int32Array;
  errors: { index: number; error: FeaturizeError }[];
}

const TWO_PI = 2 * Math.PI;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export class Featurizer {
  readonly dim: number;
  /** One per output column, e.g. 'amount', 'merchant#h3', 'ts.hour_sin', 'cpu.lag2'. */
  readonly names: readonly string[];
  /** The fitted spec this featurizer was built from (what features.json holds). */
  readonly spec: FeatureSpec;
  /** SHA-256 of the spec (fields, statistics), hex: the model's input contract. */
  readonly fingerprint: string;
  readonly maxKeys: number;

  private readonly ops: Op[] = [];
  private readonly run: Run;
  private readonly keyGet: Getter | undefined;
  private readonly keyPath: string;
  private readonly shingleCount: number;
  private readonly histLen: number;
  private readonly pending: Float64Array;
  private readonly states = new Map<string, KeyState>();
  private cur: KeyState | undefined;
  private curKey = '';
  private tick = 0;
  private readonly touchEvery: number;

  constructor(spec: FeatureSpec, opts: FeaturizerOptions = {}) {
    this.spec = validateFeatureSpec(spec);
    this.maxKeys = opts.maxKeys ?? this.spec.maxKeys ?? DEFAULT_MAX_KEYS;
    this.touchEvery = Math.max(1, Math.floor(this.maxKeys / 4));
    this.keyPath = this.spec.key ?? '';
    this.keyGet = this.spec.key === undefined ? undefined : compileGetter(this.spec.key);
    this.pending = new Float64Array(this.spec.fields.filter((f) => f.kind === 'shingle').length);
    const names: string[] = [];
    let histLen = 0;
    let shingles = 0;
    for (const [i, f] of this.spec.fields.entries()) {
      const col = names.length;
      switch (f.kind) {
        case 'ignore':
          break;
        case 'numeric':
          this.ops.push(this.numericOp(f, col, i));
          names.push(fieldName(f));
          break;
        case 'shingle':
          this.ops.push(this.shingleOp(f, col, i, shingles++, histLen));
          histLen += f.window - 1;
          names.push(...shingleNames(f));
          break;
        case 'categorical':
          this.ops.push(f.encoding === 'hash' ? this.hashOp(f, col) : this.vocabOp(f, col, i));
          names.push(...categoricalNames(f));
          break;
        case 'boolean':
          this.ops.push(this.booleanOp(f, col));
          names.push(fieldName(f));
          break;
        case 'timestamp':
          this.ops.push(this.timestampOp(f, col));
          names.push(...timestampNames(f));
          break;
      }
      if (f.kind !== 'ignore' && indicatorOf(f)) names.push(`${fieldName(f)}#missing`);
    }
    if (names.length === 0) throw new FeatureSpecError('$.fields', 'produces no features');
    this.run = compileRun(
      this.spec.fields
        .filter((f) => f.kind !== 'ignore')
        .map((f) => ({ path: f.path, per: f.kind === 'numeric' ? f.per : undefined })),
      this.ops,
    );
    this.names = Object.freeze(names);
    this.dim = names.length;
    this.shingleCount = shingles;
    this.histLen = histLen;
    this.fingerprint = featureSpecFingerprint(this.spec);
  }

  static fromJSON(json: unknown, opts?: FeaturizerOptions): Featurizer {
    return new Featurizer(validateFeatureSpec(json), opts);
  }

  toJSON(): FeatureSpec {
    return structuredClone(this.spec);
  }

  /** Entity keys with shingle history held. */
  get keyCount(): number {
    return this.states.size;
  }

  /** Forget all shingle history. */
  resetState(): void {
    this.states.clear();
    this.cur = undefined;
    this.tick = 0;
  }

  /**
   * Write the features of `record` into out[offset .. offset + dim). Throws FeaturizeError (and
   * then the row holds garbage and the shingle history is unchanged: a refused record leaves no
   * trace, so training and serving histories stay the same).
   */
  featurize(record: unknown, out: Float32Array, offset = 0): void {
    if (record === null || typeof record !== 'object')
      throw new FeaturizeError(
        'not_object',
        '$',
        record,
        `a record must be an object, got ${kindOf(record)}`,
      );
    if (!(offset >= 0 && offset + this.dim <= out.length))
      throw new RangeError(`row at ${offset} of width ${this.dim} does not fit in ${out.length}`);
    out.fill(0, offset, offset + this.dim);
    if (this.shingleCount > 0) this.lookupKey(record);
    this.run(record, out, offset);
    if (this.shingleCount > 0) this.commit();
  }

  /** Featurize a sequence (training, files, evaluation); refused records are listed, not thrown. */
  featurizeMany(records: Iterable<unknown>): FeaturizedMany {
    const list = Array.isArray(records) ? (records as unknown[]) : [...records];
    const X = new Float32Array(list.length * this.dim);
    const index = new Int32Array(list.length);
    const errors: FeaturizedMany['errors'] = [];
    let rows = 0;
    for (let i = 0; i < list.length; i++) {
      try {
        this.featurize(list[i], X, rows * this.dim);
        index[rows++] = i;
      } catch (e) {
        if (!(e instanceof FeaturizeError)) throw e;
        errors.push({ index: i, error: e });
      }
    }
    return { X: X.slice(0, rows * this.dim), rows, index: index.slice(0, rows), errors };
  }

  // ---- entity keys and shingle history ----

  private lookupKey(rec: object): void {
    let key = '';
    if (this.keyGet) {
      const v = this.keyGet(rec);
      if (typeof v === 'string') key = v;
      else if (typeof v === 'number' || typeof v === 'bigint') key = String(v);
      else if (Buffer.isBuffer(v)) key = v.toString('latin1');
      else if (v === undefined || v === null)
        throw new FeaturizeError('missing', this.keyPath, v, 'the entity key is missing');
      else
        throw new FeaturizeError(
          'type',
          this.keyPath,
          v,
          `an entity key must be a string or number, got ${kindOf(v)}`,
        );
    }
    this.curKey = key;
    this.cur = this.states.get(key);
  }

  private commit(): void {
    const key = this.curKey;
    let st = this.cur;
    if (st === undefined) {
      if (this.states.size >= this.maxKeys) {
        // Map iteration order is insertion order: the first entry is the stalest.
        const oldest = this.states.keys().next().value;
        if (oldest !== undefined) this.states.delete(oldest);
      }
      st = { c: 0, tick: this.tick++, hist: new Float64Array(this.histLen) };
      this.states.set(key, st);
    } else if (this.tick - st.tick >= this.touchEvery) {
      // Approximate LRU: a used key is moved to the back only once it has drifted a quarter of
      // the map towards the front, so a key is never evicted within 3/4 maxKeys insertions of
      // its last use, and the common case (a key seen recently) costs one Map.get.
      this.states.delete(key);
      st.tick = this.tick++;
      this.states.set(key, st);
    }
    const fields = this.spec.fields;
    let s = 0;
    let off = 0;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.kind !== 'shingle') continue;
      const len = f.window - 1;
      st.hist[off + (st.c % len)] = this.pending[s++]!;
      off += len;
    }
    st.c++;
  }

  // ---- column writers ----

  private numericOp(f: NumericField, col: number, i: number): Op {
    const value = this.scaledReader(f, i);
    const ind = indicatorOf(f) ? col + 1 : -1;
    return (v, out, o) => {
      out[o + col] = value(v);
      if (imputed.flag) {
        imputed.flag = false;
        if (ind >= 0) out[o + ind] = 1;
      }
    };
  }

  private shingleOp(f: ShingleField, col: number, i: number, s: number, histOff: number): Op {
    const value = this.scaledReader(f, i);
    const len = f.window - 1;
    const diffs = f.diffs !== false;
    const seenCol = col + 1 + len + (diffs ? len : 0);
    const ind = indicatorOf(f) ? seenCol + 1 : -1;
    const pending = this.pending;
    return (v, out, o) => {
      const z = value(v);
      if (imputed.flag) {
        imputed.flag = false;
        if (ind >= 0) out[o + ind] = 1;
      }
      pending[s] = z;
      out[o + col] = z;
      const st = this.cur;
      const c = st === undefined ? 0 : st.c;
      const avail = c < len ? c : len;
      const hist = st === undefined ? undefined : st.hist;
      const oldest = hist === undefined || avail === 0 ? z : hist[histOff + ((c - avail) % len)]!;
      let prev = z;
      for (let j = 1; j <= len; j++) {
        const v = j <= avail ? hist![histOff + ((c - j) % len)]! : oldest;
        out[o + col + j] = v;
        if (diffs) out[o + col + len + j] = prev - v;
        prev = v;
      }
      out[o + seenCol] = (avail + 1) / (len + 1);
    };
  }

  /**
   * Raw value -> scaled, clipped number. Missing values come back as the scaled fill with
   * `imputed.flag` set, or throw under missing: 'error'.
   */
  private scaledReader(f: NumericField | ShingleField, i: number): (v: unknown) => number {
    const st = f.stats;
    if (!st)
      throw new FeatureSpecError(
        `$.fields[${i}].stats`,
        `numeric field ${f.path} is not fitted (run fitFeatureSpec)`,
      );
    const read = numericReader(f.path, f);
    const log = f.log1p === true;
    const center = st.center;
    const inv = 1 / st.scale;
    const clip = f.clip ?? DEFAULT_CLIP;
    const strict = missingPolicy(f) === 'error';
    const inf = f.infinity ?? 'clip';
    const asinh = f.squash === 'asinh';
    const fillRaw = f.fill === undefined ? center : log ? slog1p(f.fill) : f.fill;
    const fillZ = (fillRaw - center) * inv;
    const fill = Math.max(-clip, Math.min(clip, asinh ? Math.asinh(fillZ) : fillZ));
    const path = f.path;
    const scale = asinh
      ? (x: number): number => {
          const z = Math.asinh((x - center) * inv);
          return z > clip ? clip : z < -clip ? -clip : z;
        }
      : (x: number): number => {
          const z = (x - center) * inv;
          return z > clip ? clip : z < -clip ? -clip : z;
        };
    // Everything but a finite JS number: bigint, coerced strings, missing, NaN, infinities.
    const slow = (v: unknown): number => {
      const x = read(v);
      if (x - x === 0) return scale(x);
      if (x === Infinity || x === -Infinity) {
        if (inf === 'clip') return x > 0 ? clip : -clip;
        if (inf === 'error') throw new FeaturizeError('not_finite', path, v, 'infinite value');
      }
      if (strict) {
        if (v === undefined || v === null)
          throw new FeaturizeError('missing', path, v, 'required value is missing');
        throw new FeaturizeError('not_finite', path, v, Number.isNaN(v) ? 'NaN' : 'not a finite number');
      }
      imputed.flag = true;
      return fill;
    };
    return (v) => {
      if (typeof v === 'number' && v - v === 0) return scale(log ? slog1p(v) : v);
      return slow(v);
    };
  }

  private hashOp(f: CategoricalField & { encoding: 'hash' }, col: number): Op {
    const read = categoryReader(f);
    const buckets = f.buckets;
    const missing = this.missingWriter(f, col + buckets);
    return (v, out, o) => {
      const s = read(v);
      if (s === undefined) missing(v, out, o);
      else out[o + col + (fnv1a(s) % buckets)] = 1;
    };
  }

  private vocabOp(f: CategoricalField & { encoding: 'vocab' }, col: number, i: number): Op {
    if (!f.vocab)
      throw new FeatureSpecError(
        `$.fields[${i}].vocab`,
        `categorical field ${f.path} has no vocabulary (run fitFeatureSpec)`,
      );
    const read = categoryReader(f);
    const index = new Map(f.vocab.map((v, k) => [v, k] as const));
    const other = f.vocab.length;
    const missing = this.missingWriter(f, col + other + 1);
    return (v, out, o) => {
      const s = read(v);
      if (s === undefined) missing(v, out, o);
      else out[o + col + (index.get(s) ?? other)] = 1;
    };
  }

  private booleanOp(f: BooleanField, col: number): Op {
    const path = f.path;
    const missing = this.missingWriter(f, col + 1);
    return (v, out, o) => {
      if (v === true || v === 1) out[o + col] = 1;
      else if (v === false || v === 0) return;
      else if (v === undefined || v === null) missing(v, out, o);
      else throw new FeaturizeError('type', path, v, `expected a boolean, got ${kindOf(v)}`);
    };
  }

  private timestampOp(f: TimestampField, col: number): Op {
    const read = timestampReader(f);
    const parts = f.parts ?? ['hour', 'dow'];
    const hourCol = parts.includes('hour') ? col : -1;
    const dowCol = parts.includes('dow') ? col + (hourCol >= 0 ? 2 : 0) : -1;
    const offset = (f.utcOffsetMinutes ?? 0) * 60_000;
    const missing = this.missingWriter(f, col + 2 * parts.length);
    return (v, out, o) => {
      const ms = read(v);
      if (ms !== ms) {
        missing(v, out, o);
        return;
      }
      const local = ms + offset;
      if (hourCol >= 0) {
        const a = ((((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS) * (TWO_PI / 24);
        out[o + hourCol] = Math.sin(a);
        out[o + hourCol + 1] = Math.cos(a);
      }
      if (dowCol >= 0) {
        // 1970-01-01 was a Thursday: day 0 -> 4 with Sunday = 0.
        const dow = (((Math.floor(local / DAY_MS) + 4) % 7) + 7) % 7;
        const b = dow * (TWO_PI / 7);
        out[o + dowCol] = Math.sin(b);
        out[o + dowCol + 1] = Math.cos(b);
      }
    };
  }

  /** Missing value of a non-numeric field: refuse, or leave zeros and set the indicator. */
  private missingWriter(f: Exclude<FieldSpec, { kind: 'ignore' }>, indCol: number): Op {
    const path = f.path;
    if (missingPolicy(f) === 'error') {
      return (v) => {
        throw new FeaturizeError('missing', path, v, 'required value is missing');
      };
    }
    if (!indicatorOf(f)) return () => undefined;
    return (_v, out, o) => {
      out[o + indCol] = 1;
    };
  }
}

/**
 * The per-record loop as generated code: each field read is its own property access with its
 * own inline cache (monomorphic for avsc records), where one shared getter closure would see
 * every field name and go megamorphic; measured at about 2x on the 20-field payment event.
 * Paths enter only as JSON string literals.
 */
function compileRun(paths: { path: string; per?: string | undefined }[], ops: Op[]): Run {
  const body = paths
    .map(({ path, per }, i) => {
      const v = accessExpression('rec', path);
      return `  ops[${i}](${per === undefined ? v : `ratioOf(${v}, ${accessExpression('rec', per)})`}, out, o);`;
    })
    .join('\n');
  return new Function(
    'ops',
    'ratioOf',
    `"use strict";\nreturn function featurizeRecord(rec, out, o) {\n  let t;\n${body}\n};`,
  )(ops, ratioOf) as Run;
}

function compileGetter(path: string): Getter {
  return new Function(
    `"use strict";\nreturn function getKey(rec) { let t; return ${accessExpression('rec', path)}; };`,
  )() as Getter;
}

/** Shared across readers; set by a scaled reader that imputed, consumed by its writer at once. */
const imputed = { flag: false };

/** Unless stated, a missing value is refused, except where an indicator was asked for. */
export function missingPolicy(f: Exclude<FieldSpec, { kind: 'ignore' }>): 'impute' | 'error' {
  return f.missing ?? (f.indicator === true ? 'impute' : 'error');
}

function indicatorOf(f: Exclude<FieldSpec, { kind: 'ignore' }>): boolean {
  return f.indicator === true && missingPolicy(f) !== 'error';
}

function shingleNames(f: ShingleField): string[] {
  const n = fieldName(f);
  const out: string[] = [];
  for (let j = 0; j < f.window; j++) out.push(`${n}.lag${j}`);
  if (f.diffs !== false) for (let j = 1; j < f.window; j++) out.push(`${n}.diff${j}`);
  out.push(`${n}.seen`);
  return out;
}

function categoricalNames(f: CategoricalField): string[] {
  const n = fieldName(f);
  if (f.encoding === 'hash') return Array.from({ length: f.buckets }, (_, b) => `${n}#h${b}`);
  return [...(f.vocab ?? []).map((v) => `${n}=${v}`), `${n}=#other`];
}

function timestampNames(f: TimestampField): string[] {
  const n = fieldName(f);
  const parts = f.parts ?? ['hour', 'dow'];
  const out: string[] = [];
  if (parts.includes('hour')) out.push(`${n}.hour_sin`, `${n}.hour_cos`);
  if (parts.includes('dow')) out.push(`${n}.dow_sin`, `${n}.dow_cos`);
  return out;
}

/** JSON with object keys sorted, so equal specs hash equal whatever their key order. */
export function stableStringify(x: unknown): string {
  if (x === null || typeof x !== 'object') return JSON.stringify(x) ?? 'null';
  if (Array.isArray(x)) return `[${x.map(stableStringify).join(',')}]`;
  const o = x as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}

/** SHA-256 hex of a spec's fields, key and statistics (not of `fitted` bookkeeping). */
export function featureSpecFingerprint(spec: FeatureSpec): string {
  const rest: Partial<FeatureSpec> = { ...spec };
  delete rest.fitted;
  return createHash('sha256').update(stableStringify(rest)).digest('hex');
}
