// Fitting a feature spec on the training window: robust statistics of numeric fields and the
// vocabularies of categorical ones. Only the records passed in are used (no look-ahead).
import { RecordError } from '../codec/errors.js';
import { FeatureSpecError } from './errors.js';
import { Featurizer } from './featurize.js';
import { categoryReader, fieldGetter, makeGetter, numericReader } from './read.js';
import {
  DEFAULT_MAX_VOCAB,
  validateFeatureSpec,
  type FeatureSpec,
  type FieldSpec,
  type NumericField,
  type NumericStats,
  type ShingleField,
  type VocabCategoricalField,
} from './spec.js';

interface Accumulator {
  add(rec: object): void;
  finish(): FieldSpec;
}

/** Quantile q of sorted values, linear interpolation between order statistics (type 7). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Median and IQR; when the IQR is 0 (over half the values equal) the standard deviation, then 1. */
export function robustStats(values: Float64Array, missing: number): NumericStats {
  const n = values.length;
  if (n === 0) return { center: 0, scale: 1, q25: 0, q75: 0, min: 0, max: 0, count: 0, missing };
  const s = Float64Array.from(values).sort();
  const center = quantileSorted(s, 0.5);
  const q25 = quantileSorted(s, 0.25);
  const q75 = quantileSorted(s, 0.75);
  let scale = q75 - q25;
  const tiny = 1e-9 * Math.max(1, Math.abs(center));
  if (!(scale > tiny)) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += s[i]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (s[i]! - mean) ** 2;
    scale = Math.sqrt(v / n);
    if (!(scale > tiny) || !Number.isFinite(scale)) scale = 1;
  }
  return { center, scale, q25, q75, min: s[0]!, max: s[n - 1]!, count: n, missing };
}

function numericAccumulator<F extends NumericField | ShingleField>(f: F): Accumulator {
  const get = fieldGetter(f);
  const read = numericReader(f.path, f);
  let buf = new Float64Array(1024);
  let n = 0;
  let missing = 0;
  return {
    add(rec) {
      const x = read(get(rec));
      if (!Number.isFinite(x)) {
        missing++;
        return;
      }
      if (n === buf.length) {
        const b = new Float64Array(n * 2);
        b.set(buf);
        buf = b;
      }
      buf[n++] = x;
    },
    finish() {
      return { ...f, stats: robustStats(buf.subarray(0, n), missing) };
    },
  };
}

function vocabAccumulator(f: VocabCategoricalField): Accumulator {
  const get = makeGetter(f.path);
  const read = categoryReader(f);
  const counts = new Map<string, number>();
  return {
    add(rec) {
      const c = read(get(rec));
      if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1);
    },
    finish() {
      const minCount = f.minCount ?? 1;
      // Most frequent first, ties in code-unit order, so the same window gives the same vocab.
      const vocab = [...counts]
        .filter(([, c]) => c >= minCount)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, f.maxVocab ?? DEFAULT_MAX_VOCAB)
        .map(([v]) => v);
      return { ...f, vocab };
    },
  };
}

function accumulator(f: FieldSpec): Accumulator | undefined {
  switch (f.kind) {
    case 'numeric':
    case 'shingle':
      return numericAccumulator(f);
    case 'categorical':
      return f.encoding === 'vocab' && !f.fixedVocab ? vocabAccumulator(f) : undefined;
    default:
      return undefined;
  }
}

/**
 * Fit `spec` on `records`: numeric statistics are recomputed, vocabularies refitted unless
 * fixedVocab. A record with a value that the featurizer would refuse is left out of every
 * statistic and counted in `fitted.rejected`. Returns a new spec; the input is not changed.
 */
export function fitFeatureSpec(spec: FeatureSpec, records: Iterable<unknown>): FeatureSpec {
  const clean = validateFeatureSpec(spec);
  const accs = clean.fields.map(accumulator);
  const live = accs.filter((a): a is Accumulator => a !== undefined);
  // The featurizer itself (with placeholder statistics) decides which records are usable, so
  // fitting and serving refuse exactly the same records.
  const probe = new Featurizer(placeholderFit(clean), { maxKeys: 1 });
  const row = new Float32Array(probe.dim);
  let rows = 0;
  let rejected = 0;
  for (const rec of records) {
    try {
      probe.featurize(rec, row, 0);
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      rejected++;
      continue;
    }
    for (const a of live) a.add(rec as object);
    rows++;
  }
  if (rows === 0 && live.length > 0) throw new FeatureSpecError('$', 'no usable records to fit on');
  const fields = clean.fields.map((f, i) => accs[i]?.finish() ?? f);
  return validateFeatureSpec({ ...clean, fields, fitted: { rows, rejected } });
}

const PLACEHOLDER: NumericStats = {
  center: 0,
  scale: 1,
  q25: 0,
  q75: 0,
  min: 0,
  max: 0,
  count: 0,
  missing: 0,
};

function placeholderFit(spec: FeatureSpec): FeatureSpec {
  const fields = spec.fields.map((f): FieldSpec => {
    if (f.kind === 'numeric' || f.kind === 'shingle') return { ...f, stats: PLACEHOLDER };
    if (f.kind === 'categorical' && f.encoding === 'vocab' && !f.vocab) return { ...f, vocab: [] };
    return f;
  });
  return { ...spec, fields };
}
