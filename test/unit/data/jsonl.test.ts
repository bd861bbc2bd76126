import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonl } from '../../../src/data/jsonl.js';
import { assertDataError } from './helpers.js';

const F = 'mem.jsonl';

test('columns from the first object; later key order does not matter; extra keys ignored', () => {
  const m = parseJsonl('{"a":1,"b":2.5}\n\n{"b":4,"a":-3,"extra":9}\n', F);
  assert.deepEqual(m.columns, ['a', 'b']);
  assert.equal(m.n, 2);
  assert.deepEqual([...m.X], [1, 2.5, -3, 4]);
});

test('labelColumn and columns options', () => {
  const m = parseJsonl('{"x":1,"y":2,"label":1}\n{"x":3,"y":4,"label":0}\n', F, { labelColumn: 'last' });
  assert.deepEqual(m.columns, ['x', 'y']);
  assert.deepEqual([...m.y!], [1, 0]);
  const s = parseJsonl('{"id":"e1","v":5}\n{"id":"e2","v":6}\n', F, { columns: ['v'] });
  assert.deepEqual([...s.X], [5, 6]);
});

test('missing key, non-numeric, non-finite, bad JSON, not an object: line and key named', () => {
  assertDataError(() => parseJsonl('{"a":1,"b":2}\n{"a":3}\n', F), {
    file: F,
    line: 2,
    column: 'b',
    message: /missing key/,
  });
  assertDataError(() => parseJsonl('{"a":1}\n{"a":"7"}\n', F), {
    line: 2,
    column: 'a',
    value: '"7"',
    message: /non-numeric value/,
  });
  assertDataError(() => parseJsonl('{"a":1}\n{"a":null}\n', F), {
    line: 2,
    column: 'a',
    value: 'null',
    message: /non-numeric/,
  });
  assertDataError(() => parseJsonl('{"a":{"b":1}}\n', F), { line: 1, column: 'a', message: /non-numeric/ });
  assertDataError(() => parseJsonl('{"a":1e999}\n', F), {
    line: 1,
    column: 'a',
    value: 'Infinity',
    message: /non-finite/,
  });
  assertDataError(() => parseJsonl('{"a":1}\n{"a":\n', F), { line: 2, message: /invalid JSON/ });
  assertDataError(() => parseJsonl('[1,2]\n', F), { line: 1, message: /expected a JSON object/ });
  assertDataError(() => parseJsonl('\n\n', F), { message: /empty file/ });
  assertDataError(() => parseJsonl('{}\n', F), { line: 1, message: /no keys/ });
});
