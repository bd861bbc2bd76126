import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AvroCodec, JsonCodec, loadSchema } from '../../../src/codec/index.js';
import { examplePayment, exampleHostMetric, rng } from '../../../src/codec/examples.js';
import {
  Featurizer,
  FeatureSpecError,
  FeaturizeError,
  deriveSpecFromAvro,
  fitFeatureSpec,
  numericSpecForColumns,
  parseFeatures,
  robustStats,
  serializeFeatures,
  type FeatureSpec,
  type NumericField,
} from '../../../src/features/index.js';

test('robust statistics: median and IQR, with fallbacks for constant data', () => {
  const s = robustStats(Float64Array.from([1, 2, 3, 4, 100]), 2);
  assert.deepEqual(
    [s.center, s.q25, s.q75, s.scale, s.min, s.max, s.count, s.missing],
    [3, 2, 4, 2, 1, 100, 5, 2],
  );
  // IQR 0 (most values equal): the standard deviation instead.
  const t = robustStats(Float64Array.from([5, 5, 5, 5, 5, 5, 5, 9]), 0);
  assert.equal(t.center, 5);
  assert.ok(Math.abs(t.scale - Math.sqrt(7 / 4)) < 1e-12);
  assert.equal(robustStats(Float64Array.from([2, 2]), 0).scale, 1);
  assert.deepEqual(robustStats(new Float64Array(0), 3), {
    center: 0,
    scale: 1,
    q25: 0,
    q75: 0,
    min: 0,
    max: 0,
    count: 0,
    missing: 3,
  });
});

test('fitting: statistics after log1p, vocab by frequency then name, bad records left out and counted', () => {
  const spec: FeatureSpec = {
    version: 1,
    fields: [
      { kind: 'numeric', path: 'a', log1p: true },
      { kind: 'categorical', encoding: 'vocab', path: 'c', maxVocab: 2 },
      { kind: 'categorical', encoding: 'vocab', path: 'e', vocab: ['Z', 'Y'], fixedVocab: true },
    ],
  };
  const recs = [
    { a: 0, c: 'x', e: 'Y' },
    { a: Math.E - 1, c: 'y', e: 'Y' },
    { a: Math.E ** 2 - 1, c: 'y', e: 'Y' },
    { a: 'oops', c: 'w', e: 'Y' },
    { a: Math.E ** 3 - 1, c: 'x', e: 'Y' },
    { a: Math.E ** 4 - 1, c: 'z', e: 'Y' },
    { a: null, c: 'z', e: 'Y' },
  ];
  const fitted = fitFeatureSpec(spec, recs);
  const a = fitted.fields[0]!;
  assert.ok(a.kind === 'numeric' && a.stats);
  assert.ok(Math.abs(a.stats.center - 2) < 1e-12 && Math.abs(a.stats.scale - 2) < 1e-12);
  assert.equal(a.stats.count, 5);
  const c = fitted.fields[1]!;
  assert.ok(c.kind === 'categorical' && c.encoding === 'vocab');
  assert.deepEqual(c.vocab, ['x', 'y']); // x, y twice each (w was in a refused record; z's null row too)
  const e = fitted.fields[2]!;
  assert.ok(e.kind === 'categorical' && e.encoding === 'vocab');
  assert.deepEqual(e.vocab, ['Z', 'Y']);
  assert.deepEqual(fitted.fitted, { rows: 5, rejected: 2 });
  assert.deepEqual(spec.fields[0], { kind: 'numeric', path: 'a', log1p: true }, 'input spec unchanged');
  assert.throws(() => fitFeatureSpec(spec, []), FeatureSpecError);
});

test('deriving from the payment schema honours schema hints and overrides', () => {
  const spec = deriveSpecFromAvro(loadSchema('payment'), {
    key: 'card_id',
    overrides: { amount: { kind: 'shingle', window: 4 }, mcc: { kind: 'ignore' } },
  });
  const by = new Map(spec.fields.map((f) => [f.path, f]));
  assert.equal(spec.key, 'card_id');
  assert.deepEqual(by.get('event_id'), { kind: 'ignore', path: 'event_id' });
  assert.deepEqual(by.get('event_time'), {
    kind: 'timestamp',
    path: 'event_time',
    missing: 'error',
    unit: 'ms',
  });
  assert.deepEqual(by.get('amount'), {
    kind: 'shingle',
    path: 'amount',
    missing: 'error',
    window: 4,
    log1p: true,
  });
  assert.deepEqual(by.get('channel'), {
    kind: 'categorical',
    path: 'channel',
    missing: 'error',
    encoding: 'vocab',
    vocab: ['POS', 'ECOM', 'ATM', 'MOTO'],
    fixedVocab: true,
  });
  assert.deepEqual(by.get('ip_risk_score'), {
    kind: 'numeric',
    path: 'ip_risk_score',
    missing: 'impute',
    indicator: true,
  });
  assert.deepEqual(by.get('merchant_id'), {
    kind: 'categorical',
    path: 'merchant_id',
    missing: 'error',
    encoding: 'hash',
    buckets: 64,
  });
  assert.deepEqual(by.get('mcc'), { kind: 'ignore', path: 'mcc' });
  assert.equal(spec.fields.length, 20);
  assert.throws(
    () => deriveSpecFromAvro(loadSchema('payment'), { overrides: { nope: { kind: 'ignore' } } }),
    FeatureSpecError,
  );
});

test('derived specs for nested records use dotted paths', () => {
  const spec = deriveSpecFromAvro({
    type: 'record',
    name: 'E',
    fields: [
      {
        name: 'geo',
        type: {
          type: 'record',
          name: 'Geo',
          fields: [
            { name: 'lat', type: 'double' },
            { name: 'cc', type: ['null', 'string'], default: null },
          ],
        },
      },
      { name: 'tags', type: { type: 'array', items: 'string' } },
      { name: 'kind', type: { type: 'enum', name: 'K', symbols: ['A', 'B'] } },
      { name: 'kind2', type: 'K' },
    ],
  });
  assert.deepEqual(
    spec.fields.map((f) => [f.path, f.kind]),
    [
      ['geo.lat', 'numeric'],
      ['geo.cc', 'categorical'],
      ['tags', 'ignore'],
      ['kind', 'categorical'],
      ['kind2', 'categorical'],
    ],
  );
});

test('matrix rows: an all-numeric spec named by column reads arrays and typed arrays', () => {
  const spec = fitFeatureSpec(numericSpecForColumns(['x0', 'x1']), [
    [1, 10],
    [2, 20],
    [3, 30],
  ]);
  const f = new Featurizer(spec);
  assert.deepEqual(f.names, ['x0', 'x1']);
  const out = new Float32Array(2);
  f.featurize(Float64Array.from([3, 10]), out, 0);
  assert.deepEqual(Array.from(out), [1, -1]);
});

test('training and serving give identical vectors for the same records (Avro, JSON, features.json)', () => {
  const schema = loadSchema('payment');
  const r = rng(11);
  const records = Array.from({ length: 3000 }, (_, i) => examplePayment(r, i));
  const spec = deriveSpecFromAvro(schema, {
    key: 'card_id',
    overrides: { amount: { kind: 'shingle', window: 5 } },
  });
  const fitted = fitFeatureSpec(spec, records.slice(0, 1000));
  const training = new Featurizer(fitted);
  const { X, rows, errors } = training.featurizeMany(records);
  assert.equal(errors.length, 0);
  assert.equal(rows, records.length);

  // Serving: the artifact is written and read back; events arrive as bytes.
  const serving = parseFeatures(serializeFeatures(training));
  const servingJson = parseFeatures(serializeFeatures(training));
  assert.equal(serving.fingerprint, training.fingerprint);
  const avro = new AvroCodec(schema);
  const json = new JsonCodec({ schema });
  const row = new Float32Array(serving.dim);
  const rowJ = new Float32Array(serving.dim);
  for (let i = 0; i < records.length; i++) {
    serving.featurize(avro.decode(avro.encode(records[i]!)), row, 0);
    servingJson.featurize(json.decode(json.encode(records[i]!)), rowJ, 0);
    const expect = X.subarray(i * serving.dim, (i + 1) * serving.dim);
    assert.deepEqual(row, expect, `row ${i}`);
    assert.deepEqual(rowJ, expect, `json row ${i}`);
  }
});

test('features.json refuses tampered or foreign files', () => {
  const spec = fitFeatureSpec(
    deriveSpecFromAvro(loadSchema('host_metric'), { key: 'host' }),
    Array.from({ length: 100 }, (_, i) => exampleHostMetric(rng(2), i)),
  );
  const text = serializeFeatures(new Featurizer(spec));
  const file = JSON.parse(text) as { spec: { fields: { stats?: { center: number } }[] } };
  file.spec.fields.find((f) => f.stats)!.stats!.center += 1;
  assert.throws(() => parseFeatures(JSON.stringify(file)), /fingerprint mismatch/);
  assert.throws(() => parseFeatures('{"format":"other"}'), FeatureSpecError);
  assert.throws(() => parseFeatures('not json'), FeatureSpecError);
  assert.equal(parseFeatures(text).dim, new Featurizer(spec).dim);
});

test("numeric 'per': the feature is path / per (an amount against the entity's average), fitted and featurized the same way", () => {
  const spec: FeatureSpec = {
    version: 1,
    fields: [
      { kind: 'numeric', path: 'amount', per: 'avg', name: 'amount_per_avg', log1p: true, indicator: true },
    ],
  };
  const recs = Array.from({ length: 101 }, (_, i) => ({ amount: 10 * (i + 1), avg: 10 }));
  const fitted = fitFeatureSpec(spec, recs);
  const f0 = fitted.fields[0] as NumericField;
  // Ratios 1..101, log1p: the median is log1p(51).
  assert.ok(Math.abs(f0.stats!.center - Math.log1p(51)) < 1e-12, `${f0.stats!.center}`);
  assert.equal(f0.per, 'avg');
  const f = new Featurizer(JSON.parse(JSON.stringify(fitted)) as FeatureSpec);
  assert.deepEqual(f.names, ['amount_per_avg', 'amount_per_avg#missing']);
  const out = new Float32Array(2);
  f.featurize({ amount: 510, avg: 10 }, out, 0);
  assert.ok(Math.abs(out[0]!) < 1e-6 && out[1] === 0, `${Array.from(out)}`);
  f.featurize({ amount: 5100, avg: 10 }, out, 0);
  assert.ok(Math.abs(out[0]! - (Math.log1p(510) - Math.log1p(51)) / f0.stats!.scale) < 1e-5);
  // Either side missing: imputed (the median) and flagged.
  for (const r of [{ amount: 5, avg: null }, { avg: 3 }]) {
    f.featurize(r, out, 0);
    assert.deepEqual(Array.from(out), [0, 1], JSON.stringify(r));
  }
  // A wrong type on either side is refused, naming the field.
  for (const r of [
    { amount: 'x', avg: 1 },
    { amount: 1, avg: 'y' },
  ])
    assert.throws(
      () => f.featurize(r, out, 0),
      (e: unknown) => e instanceof FeaturizeError && e.path === 'amount',
    );
  assert.throws(
    () =>
      new Featurizer({
        version: 1,
        fields: [{ kind: 'numeric', path: 'a', per: 3 }],
      } as unknown as FeatureSpec),
    (e: unknown) => e instanceof FeatureSpecError && /per/.test(e.message),
  );
});
