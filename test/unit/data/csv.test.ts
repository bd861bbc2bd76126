import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv } from '../../../src/data/csv.js';
import { assertDataError } from './helpers.js';

const F = 'mem.csv';

test('header, values, row-major layout', () => {
  const m = parseCsv('a,b,c\n1,2,3\n4.5,-6e-1,+7\n', F);
  assert.equal(m.n, 2);
  assert.equal(m.d, 3);
  assert.deepEqual(m.columns, ['a', 'b', 'c']);
  assert.deepEqual([...m.X], [1, 2, 3, 4.5, Math.fround(-0.6), 7]);
  assert.equal(m.y, undefined);
});

test('quotes, CRLF, BOM, blank lines, spaces around cells', () => {
  const text = '\ufeff"x","y z", "w,1"\r\n\r\n "1" , 2 ,"3"\r\n4,"5",6\r\n\n';
  const m = parseCsv(text, F);
  assert.deepEqual(m.columns, ['x', 'y z', 'w,1']);
  assert.deepEqual([...m.X], [1, 2, 3, 4, 5, 6]);
});

test('quoted header with an embedded newline and doubled quote keeps line numbers right', () => {
  const text = '"a\nb","say ""hi"""\n1,2\n3,oops\n';
  assert.deepEqual(parseCsv('"a\nb","say ""hi"""\n1,2\n', F).columns, ['a\nb', 'say "hi"']);
  // the header takes lines 1-2, so the bad cell is on line 4
  assertDataError(() => parseCsv(text, F), {
    file: F,
    line: 4,
    column: 'say "hi"',
    value: 'oops',
    message: /non-numeric value/,
  });
});

test('labelColumn last and by name; labels are Int32', () => {
  const m = parseCsv('f1,lab,f2\n1,0,2\n3,1,4\n5,2,6\n', F, { labelColumn: 'lab' });
  assert.deepEqual(m.columns, ['f1', 'f2']);
  assert.deepEqual([...m.X], [1, 2, 3, 4, 5, 6]);
  assert.ok(m.y instanceof Int32Array);
  assert.deepEqual([...m.y], [0, 1, 2]);
  const last = parseCsv('f1,f2,cls\n1,2,7\n3,4,9\n', F, { labelColumn: 'last' });
  assert.deepEqual(last.columns, ['f1', 'f2']);
  assert.deepEqual([...last.y!], [7, 9]);
});

test('headerless (digits format): col0.. names, last column as label', () => {
  const m = parseCsv('0,1,2,3\n4,5,6,7\n', F, { header: false, labelColumn: 'last' });
  assert.deepEqual(m.columns, ['col0', 'col1', 'col2']);
  assert.deepEqual([...m.X], [0, 1, 2, 4, 5, 6]);
  assert.deepEqual([...m.y!], [3, 7]);
});

test("header 'auto' detects a header only when the first line is not all numbers", () => {
  assert.deepEqual(parseCsv('a,b\n1,2\n', F, { header: 'auto' }).columns, ['a', 'b']);
  const m = parseCsv('1,2\n3,4\n', F, { header: 'auto' });
  assert.equal(m.n, 2);
  assert.deepEqual(m.columns, ['col0', 'col1']);
});

test('columns option selects and reorders; unselected cells are not checked', () => {
  const m = parseCsv('timestamp,value,other\n2014-07-01 00:00:00,10,3\n2014-07-01 00:05:00,12,4\n', F, {
    columns: ['other', 'value'],
  });
  assert.deepEqual(m.columns, ['other', 'value']);
  assert.deepEqual([...m.X], [3, 10, 4, 12]);
});

test('tab delimiter', () => {
  const m = parseCsv('a\tb\n1\t2\n', F, { delimiter: '\t' });
  assert.deepEqual([...m.X], [1, 2]);
});

test('errors name file, line, column and value', () => {
  assertDataError(() => parseCsv('a,b\n1,2\n3,\n', F), {
    file: F,
    line: 3,
    column: 'b',
    value: '',
    message: /empty cell/,
  });
  assertDataError(() => parseCsv('a,b\n1,x1\n', F), {
    line: 2,
    column: 'b',
    value: 'x1',
    message: /non-numeric value "x1"/,
  });
  for (const bad of ['NaN', 'nan', 'Infinity', '-inf', '1e999']) {
    assertDataError(() => parseCsv(`a,b\n${bad},1\n`, F), {
      line: 2,
      column: 'a',
      value: bad,
      message: /non-finite value/,
    });
  }
  // Number() would accept these (0x10 = 16, '' = 0 ...): strict parsing refuses them
  for (const bad of ['0o7', '0B1', '-0x10', '.', '-', '1e', '1_0', '1.2.3']) {
    assertDataError(() => parseCsv(`a\n${bad}\n`, F), { line: 2, value: bad, message: /non-numeric/ });
  }
  assert.deepEqual([...parseCsv('a\n5.\n+.5e+1\n-0\n00\n', F).X], [5, 5, -0, 0]);
  // Number('0x10') would be 16: strict parsing refuses it
  assertDataError(() => parseCsv('a\n0x10\n', F), { line: 2, value: '0x10', message: /non-numeric/ });
  // fits a double, not a float32
  assertDataError(() => parseCsv('a\n1e39\n', F), { line: 2, column: 'a', message: /float32 range/ });
});

test('ragged rows, empty file, header only, bad label, unknown columns', () => {
  assertDataError(() => parseCsv('a,b,c\n1,2,3\n4,5\n', F), {
    line: 3,
    message: /expected 3 fields \(as in the header\), found 2/,
  });
  assertDataError(() => parseCsv('1,2\n1,2,3\n', F, { header: false }), {
    line: 2,
    message: /expected 2 fields.*found 3/,
  });
  assertDataError(() => parseCsv('', F), { file: F, message: /empty file/ });
  assertDataError(() => parseCsv(' \n\n', F), { message: /empty file/ });
  assertDataError(() => parseCsv('a,b\n', F), { message: /no data rows/ });
  assertDataError(() => parseCsv('a,y\n1,0.5\n', F, { labelColumn: 'y' }), {
    line: 2,
    column: 'y',
    value: '0.5',
    message: /label is not a 32-bit integer/,
  });
  assertDataError(() => parseCsv('a,b\n1,2\n', F, { labelColumn: 'zz' }), {
    message: /label column "zz" not found \(columns: a, b\)/,
  });
  assertDataError(() => parseCsv('a,b\n1,2\n', F, { columns: ['q'] }), { message: /column "q" not found/ });
  assertDataError(() => parseCsv('a,a\n1,2\n', F), { value: 'a', message: /duplicate column name/ });
  assertDataError(() => parseCsv('a,b\n"1,2\n', F), { line: 2, message: /unterminated quoted field/ });
  assertDataError(() => parseCsv('a\n"1"x\n', F), { line: 2, message: /after closing quote/ });
  assertDataError(() => parseCsv('a;;b\n1;;2\n', F, { delimiter: ';;' }), {
    value: ';;',
    message: /delimiter must be one character/,
  });
});
