import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Featurizer, FeaturizeError, type FeatureSpec } from '../../../src/features/index.js';

const SPEC: FeatureSpec = {
  version: 1,
  key: 'k',
  fields: [
    {
      kind: 'shingle',
      path: 'v',
      window: 3,
      stats: { center: 0, scale: 1, q25: 0, q75: 0, min: 0, max: 0, count: 1, missing: 0 },
    },
  ],
};

const row = (f: Featurizer, rec: object): number[] => {
  const out = new Float32Array(f.dim);
  f.featurize(rec, out, 0);
  return Array.from(out, (x) => Math.round(x * 1e6) / 1e6);
};

test('shingle columns: lags, differences and how much of the window was seen', () => {
  const f = new Featurizer(SPEC);
  assert.deepEqual(f.names, ['v.lag0', 'v.lag1', 'v.lag2', 'v.diff1', 'v.diff2', 'v.seen']);
  // Lags not seen yet repeat the oldest value known.
  assert.deepEqual(row(f, { k: 'A', v: 1 }), [1, 1, 1, 0, 0, 0.333333]);
  assert.deepEqual(row(f, { k: 'A', v: 2 }), [2, 1, 1, 1, 0, 0.666667]);
  assert.deepEqual(row(f, { k: 'A', v: 4 }), [4, 2, 1, 2, 1, 1]);
  assert.deepEqual(row(f, { k: 'A', v: 8 }), [8, 4, 2, 4, 2, 1]);
});

test('shingles per key do not mix keys', () => {
  const f = new Featurizer(SPEC);
  const seq: [string, number][] = [
    ['A', 1],
    ['B', 10],
    ['A', 2],
    ['B', 20],
    ['C', 100],
    ['A', 4],
    ['B', 40],
  ];
  const rows = seq.map(([k, v]) => row(f, { k, v }));
  assert.deepEqual(rows[5], [4, 2, 1, 2, 1, 1]);
  assert.deepEqual(rows[6], [40, 20, 10, 20, 10, 1]);
  assert.deepEqual(rows[4], [100, 100, 100, 0, 0, 0.333333]);
  // The same per-key sequences alone give the same rows as interleaved.
  const g = new Featurizer(SPEC);
  assert.deepEqual(
    [row(g, { k: 'B', v: 10 }), row(g, { k: 'B', v: 20 }), row(g, { k: 'B', v: 40 })],
    [rows[1], rows[3], rows[6]],
  );
  assert.equal(f.keyCount, 3);
});

test('numeric keys and string keys with the same text share a history', () => {
  const f = new Featurizer(SPEC);
  row(f, { k: 7, v: 1 });
  assert.deepEqual(row(f, { k: '7', v: 3 }), [3, 1, 1, 2, 0, 0.666667]);
  assert.throws(
    () => row(f, { v: 1 }),
    (e: unknown) => e instanceof FeaturizeError && e.path === 'k' && e.code === 'missing',
  );
  assert.throws(
    () => row(f, { k: { id: 1 }, v: 1 }),
    (e: unknown) => e instanceof FeaturizeError && e.path === 'k' && e.code === 'type',
  );
});

test('the key map is bounded: the least recently seen key is evicted', () => {
  const f = new Featurizer(SPEC, { maxKeys: 2 });
  row(f, { k: 'A', v: 1 });
  row(f, { k: 'B', v: 1 });
  row(f, { k: 'A', v: 2 }); // A is now the most recent
  row(f, { k: 'C', v: 1 }); // evicts B
  assert.equal(f.keyCount, 2);
  assert.deepEqual(row(f, { k: 'A', v: 3 }), [3, 2, 1, 1, 1, 1]); // A kept its history; evicts C
  assert.deepEqual(row(f, { k: 'B', v: 5 }), [5, 5, 5, 0, 0, 0.333333]); // B starts over
  assert.equal(f.keyCount, 2);
});

test('a refused record leaves the history untouched', () => {
  const spec: FeatureSpec = { ...SPEC, fields: [...SPEC.fields, { kind: 'boolean', path: 'flag' }] };
  const f = new Featurizer(spec);
  const g = new Featurizer(spec);
  row(f, { k: 'A', v: 1, flag: true });
  row(g, { k: 'A', v: 1, flag: true });
  assert.throws(() => row(f, { k: 'A', v: 99, flag: 'maybe' }), FeaturizeError);
  assert.throws(() => row(f, { k: 'N', v: 99, flag: 'maybe' }), FeaturizeError);
  assert.deepEqual(row(f, { k: 'A', v: 2, flag: false }), row(g, { k: 'A', v: 2, flag: false }));
  assert.equal(f.keyCount, 1);
});

test('without a key all records share one history (a single series, as in NAB)', () => {
  const f = new Featurizer({
    version: 1,
    fields: [
      { ...SPEC.fields[0]!, kind: 'shingle', window: 2, diffs: false } as FeatureSpec['fields'][number],
    ],
  });
  assert.deepEqual(f.names, ['v.lag0', 'v.lag1', 'v.seen']);
  row(f, { v: 1 });
  assert.deepEqual(row(f, { v: 5 }), [5, 1, 1]);
  f.resetState();
  assert.deepEqual(row(f, { v: 5 }), [5, 5, 0.5]);
});
