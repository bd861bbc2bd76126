import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Featurizer,
  FeaturizeError,
  FeatureSpecError,
  fnv1a,
  type FeatureSpec,
  type NumericStats,
} from '../../../src/features/index.js';

const stats = (center: number, scale: number): NumericStats => ({
  center,
  scale,
  q25: center - scale / 2,
  q75: center + scale / 2,
  min: 0,
  max: 0,
  count: 10,
  missing: 0,
});

const SPEC: FeatureSpec = {
  version: 1,
  fields: [
    { kind: 'numeric', path: 'x', missing: 'impute', indicator: true, stats: stats(10, 4) },
    { kind: 'numeric', path: 'y', log1p: true, stats: stats(Math.log1p(9), 1) },
    { kind: 'categorical', encoding: 'hash', path: 'c', buckets: 4 },
    { kind: 'categorical', encoding: 'vocab', path: 'v', vocab: ['red', 'green'] },
    { kind: 'boolean', path: 'b' },
    { kind: 'timestamp', path: 't' },
    { kind: 'ignore', path: 'id' },
  ],
};

const close = (a: ArrayLike<number>, b: number[]) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6, `column ${i}: ${a[i]} vs ${b[i]}`);
};

test('FNV-1a matches the published 32-bit test vectors', () => {
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
  assert.equal(fnv1a('foobar'), 0xbf9cf968);
});

test('column names follow the spec, one per output column', () => {
  const f = new Featurizer(SPEC);
  assert.deepEqual(f.names, [
    'x',
    'x#missing',
    'y',
    'c#h0',
    'c#h1',
    'c#h2',
    'c#h3',
    'v=red',
    'v=green',
    'v=#other',
    'b',
    't.hour_sin',
    't.hour_cos',
    't.dow_sin',
    't.dow_cos',
  ]);
  assert.equal(f.dim, 15);
});

test('known inputs give known vectors', () => {
  const f = new Featurizer(SPEC);
  const out = new Float32Array(f.dim * 2);
  // 2026-01-07 is a Wednesday (dow 3); 06:00 is a quarter of the day.
  f.featurize(
    { x: 14, y: 99, c: 'a', v: 'green', b: true, t: '2026-01-07T06:00:00Z', id: 'ignored' },
    out,
    0,
  );
  const w = (6 * Math.PI) / 7;
  // x: (14-10)/4; y: log(100) - log(10); fnv1a('a') = 0xe40c292c, mod 4 = 0.
  close(out.subarray(0, 15), [1, 0, Math.log(10), 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, Math.sin(w), Math.cos(w)]);
  // Missing x: the median (scaled 0) and the indicator; unseen category -> other; numeric epoch ms.
  const ms = Date.UTC(2026, 0, 11, 18, 0, 0); // a Sunday, 18:00
  f.featurize({ x: null, y: -99, c: 'foobar', v: 'blue', b: false, t: ms }, out, 15);
  // fnv1a('foobar') = 0xbf9cf968 -> mod 4 = 0; -99 -> -log(100)
  close(out.subarray(15), [0, 1, -Math.log(100) - Math.log(10), 1, 0, 0, 0, 0, 0, 1, 0, -1, 0, 0, 1]);
});

test('rows are written at the offset only and reused buffers are cleared', () => {
  const f = new Featurizer(SPEC);
  const out = new Float32Array(f.dim + 2).fill(7);
  f.featurize({ x: 10, y: 9, c: 'a', v: 'red', b: 1, t: 0 }, out, 1);
  assert.equal(out[0], 7);
  assert.equal(out[f.dim + 1], 7);
  close(out.subarray(1, 1 + 11), [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1]);
  assert.throws(() => f.featurize({}, out, 3), RangeError);
});

test('bad values are typed errors naming the field, the value and the reason', () => {
  const f = new Featurizer(SPEC);
  const out = new Float32Array(f.dim);
  const ok = { x: 1, y: 1, c: 'a', v: 'red', b: true, t: 0 };
  const cases: [object, string, string][] = [
    [{ ...ok, y: '12' }, 'y', 'type'],
    [{ ...ok, y: null }, 'y', 'missing'],
    [{ ...ok, y: NaN }, 'y', 'not_finite'],
    [{ ...ok, c: { a: 1 } }, 'c', 'type'],
    [{ ...ok, c: 'z'.repeat(5000) }, 'c', 'too_long'],
    [{ ...ok, b: 'yes' }, 'b', 'type'],
    [{ ...ok, t: 'yesterday' }, 't', 'invalid_timestamp'],
    [{ ...ok, t: 1e300 }, 't', 'invalid_timestamp'],
    [{ ...ok, t: '2026-13-01T00:00:00Z' }, 't', 'invalid_timestamp'],
  ];
  for (const [rec, path, code] of cases) {
    assert.throws(
      () => f.featurize(rec, out, 0),
      (e: unknown) =>
        e instanceof FeaturizeError &&
        e.path === path &&
        e.code === code &&
        e.value.length <= 64 &&
        !e.retriable,
      `${path} ${code}`,
    );
  }
  assert.throws(
    () => f.featurize('not a record', out, 0),
    (e: unknown) => e instanceof FeaturizeError && e.path === '$' && e.code === 'not_object',
  );
});

test('missing policies: impute with an indicator, a fill value, or refuse', () => {
  const spec: FeatureSpec = {
    version: 1,
    fields: [
      { kind: 'numeric', path: 'a', missing: 'impute', fill: 2, stats: stats(10, 4) },
      { kind: 'numeric', path: 'b', missing: 'error', stats: stats(0, 1) },
      { kind: 'boolean', path: 'c', indicator: true },
      { kind: 'categorical', encoding: 'hash', path: 'd', buckets: 2, indicator: true },
      { kind: 'timestamp', path: 'e', parts: ['hour'], indicator: true },
    ],
  };
  const f = new Featurizer(spec);
  assert.deepEqual(f.names, [
    'a',
    'b',
    'c',
    'c#missing',
    'd#h0',
    'd#h1',
    'd#missing',
    'e.hour_sin',
    'e.hour_cos',
    'e#missing',
  ]);
  const out = new Float32Array(f.dim);
  f.featurize({ b: 3 }, out, 0);
  close(out, [(2 - 10) / 4, 3, 0, 1, 0, 0, 1, 0, 0, 1]);
  assert.throws(
    () => f.featurize({ a: 1 }, out, 0),
    (e: unknown) => e instanceof FeaturizeError && e.path === 'b' && e.code === 'missing',
  );
});

test('infinities clip by default, or count as missing, or are refused; huge values clip', () => {
  const base = { kind: 'numeric' as const, stats: stats(0, 1) };
  const f = new Featurizer({
    version: 1,
    fields: [
      { ...base, path: 'a' },
      { ...base, path: 'b', infinity: 'missing', missing: 'impute', indicator: true },
      { ...base, path: 'c', infinity: 'error' },
      { ...base, path: 'd', clip: 5 },
    ],
  });
  const out = new Float32Array(f.dim);
  f.featurize({ a: -Infinity, b: Infinity, c: 1, d: 1e308 }, out, 0);
  close(out, [-1000, 0, 1, 1, 5]);
  assert.throws(
    () => f.featurize({ a: 0, b: 0, c: Infinity, d: 0 }, out, 0),
    (e: unknown) => e instanceof FeaturizeError && e.path === 'c' && e.code === 'not_finite',
  );
  f.featurize({ a: Number.MAX_VALUE, b: 0, c: -Number.MAX_VALUE, d: 0 }, out, 0);
  assert.ok(out.every(Number.isFinite));
});

test('nested paths, bigint longs and numeric strings (when asked) are read', () => {
  const f = new Featurizer({
    version: 1,
    fields: [
      { kind: 'numeric', path: 'geo.lat', stats: stats(0, 1) },
      { kind: 'numeric', path: 'n', stats: stats(0, 1) },
      { kind: 'numeric', path: 's', coerceStrings: true, stats: stats(0, 1) },
      { kind: 'timestamp', path: 'ts', unit: 's', parts: ['dow'] },
    ],
  });
  const out = new Float32Array(f.dim);
  f.featurize({ geo: { lat: 52.5 }, n: 7n, s: '-3.5', ts: 86400 * 3 }, out, 0); // day 3 = Sunday
  close(out, [52.5, 7, -3.5, 0, 1]);
  assert.throws(
    () => f.featurize({ geo: null, n: 1, s: '1', ts: 0 }, out, 0),
    (e: unknown) => e instanceof FeaturizeError && e.path === 'geo.lat' && e.code === 'missing',
  );
});

test('timestamps: ISO strings without a zone are UTC; offsets and utcOffsetMinutes shift the hour', () => {
  const spec = (utcOffsetMinutes?: number): FeatureSpec => ({
    version: 1,
    fields: [{ kind: 'timestamp', path: 't', parts: ['hour'], utcOffsetMinutes }],
  });
  const f = new Featurizer(spec());
  const out = new Float32Array(2);
  const hour = (t: unknown, g = f) => {
    g.featurize({ t }, out, 0);
    return ((Math.atan2(out[0]!, out[1]!) / (2 * Math.PI)) * 24 + 24) % 24;
  };
  assert.ok(Math.abs(hour('2014-04-01 06:00:00') - 6) < 1e-4);
  assert.ok(Math.abs(hour('2014-04-01T08:30:00+02:00') - 6.5) < 1e-4);
  assert.ok(Math.abs(hour(new Date(Date.UTC(2020, 1, 2, 23, 0))) - 23) < 1e-4);
  assert.ok(Math.abs(hour('2014-04-01T06:00:00Z', new Featurizer(spec(-120))) - 4) < 1e-4);
});

test('an unfitted or malformed spec is a FeatureSpecError', () => {
  assert.throws(
    () => new Featurizer({ version: 1, fields: [{ kind: 'numeric', path: 'x' }] }),
    FeatureSpecError,
  );
  assert.throws(
    () => new Featurizer({ version: 1, fields: [{ kind: 'categorical', encoding: 'vocab', path: 'x' }] }),
    FeatureSpecError,
  );
  assert.throws(() => Featurizer.fromJSON({ version: 2, fields: [] }), FeatureSpecError);
  assert.throws(
    () => Featurizer.fromJSON({ version: 1, fields: [{ kind: 'shingle', path: 'x', window: 1 }] }),
    /window/,
  );
  assert.throws(
    () =>
      Featurizer.fromJSON({
        version: 1,
        fields: [
          { kind: 'boolean', path: 'x' },
          { kind: 'boolean', path: 'x' },
        ],
      }),
    /duplicate/,
  );
});

test('deep paths and odd field names are read literally (generated accessors cannot be injected)', () => {
  const odd = 'a"]); throw new Error("x"); //';
  const f = new Featurizer({
    version: 1,
    fields: [
      { kind: 'numeric', path: 'p.q.r', stats: stats(0, 1) },
      { kind: 'numeric', path: odd, stats: stats(0, 1) },
    ],
  });
  const out = new Float32Array(2);
  f.featurize({ p: { q: { r: 4 } }, [odd]: 5 }, out, 0);
  assert.deepEqual(Array.from(out), [4, 5]);
  assert.throws(
    () => f.featurize({ p: { q: 7 }, [odd]: 5 }, out, 0),
    (e: unknown) => e instanceof FeaturizeError && e.path === 'p.q.r' && e.code === 'missing',
  );
});

test('a large key map keeps every recently used key (approximate LRU bound)', () => {
  const spec: FeatureSpec = {
    version: 1,
    key: 'k',
    maxKeys: 100,
    fields: [{ kind: 'shingle', path: 'v', window: 2, diffs: false, stats: stats(0, 1) }],
  };
  const f = new Featurizer(spec);
  const out = new Float32Array(f.dim);
  // Key 'hot' is used every 10 new keys; 1000 other keys stream past a map of 100.
  for (let i = 0; i < 1000; i++) {
    if (i % 10 === 0) {
      f.featurize({ k: 'hot', v: i }, out, 0);
      if (i > 0) assert.equal(out[1], i - 10, `hot kept its history at ${i}`);
    }
    f.featurize({ k: `cold${i}`, v: 1 }, out, 0);
    assert.ok(f.keyCount <= 100);
  }
});
