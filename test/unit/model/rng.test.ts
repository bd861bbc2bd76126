import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/model/rng.js';

test('same seed, same stream; different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(
    xa,
    Array.from({ length: 100 }, () => b.next()),
  );
  assert.notDeepEqual(
    xa,
    Array.from({ length: 100 }, () => c.next()),
  );
  for (const v of xa) assert.ok(v >= 0 && v < 1);
});

test('normal draws have mean ~0 and variance ~1; permutations are permutations', () => {
  const r = new Rng(7);
  const xs = Array.from({ length: 20000 }, () => r.normal());
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(v - 1) < 0.05, `var ${v}`);
  const p = r.permutation(50);
  assert.deepEqual(
    Array.from(p).sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
});
