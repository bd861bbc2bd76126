import { test } from 'node:test';
import assert from 'node:assert/strict';
import { npyToMatrix, parseNpy, parseNpz, readNpyHeader } from '../../../src/data/npy.js';
import { assertDataError, npy, npz } from './helpers.js';

const F = 'mem.npz';

test('npy header v1.0 and v2.0', () => {
  const v1 = readNpyHeader(npy('<f8', [2, 3], [1, 2, 3, 4, 5, 6]), 'a.npy');
  assert.deepEqual(
    { ...v1, dataOffset: 0 },
    { descr: '<f8', fortranOrder: false, shape: [2, 3], dataOffset: 0, version: 1 },
  );
  assert.equal(v1.dataOffset % 64, 0);
  const v2 = readNpyHeader(npy('<i4', [4], [1, 2, 3, 4], { version: 2 }), 'b.npy');
  assert.equal(v2.version, 2);
  assert.deepEqual(v2.shape, [4]);
  assert.deepEqual(
    [...parseNpy(npy('<i4', [4], [1, -2, 3, 4], { version: 2 }), 'b.npy').data],
    [1, -2, 3, 4],
  );
});

test('every dtype decodes; C order and fortran order give the same matrix', () => {
  const rowMajor = [1, 2, 3, 4, 5, 6]; // [[1,2,3],[4,5,6]]
  const colMajor = [1, 4, 2, 5, 3, 6];
  for (const dt of ['<f8', '<f4', '<i8', '<i4', '<i2', '|u1', '>f8', '>i4'] as const) {
    const c = npyToMatrix(parseNpy(npy(dt, [2, 3], rowMajor), 'c.npy'), 'c.npy');
    const f = npyToMatrix(parseNpy(npy(dt, [2, 3], colMajor, { fortran: true }), 'f.npy'), 'f.npy');
    assert.equal(c.n, 2, dt);
    assert.equal(c.d, 3, dt);
    assert.deepEqual([...c.X], rowMajor, `C order ${dt}`);
    assert.deepEqual([...f.X], rowMajor, `fortran order ${dt}`);
  }
  // negative and fractional values survive
  assert.deepEqual([...parseNpy(npy('<f8', [2], [-1.25, 3.5e10]), 'x.npy').data], [-1.25, 3.5e10]);
  assert.deepEqual([...parseNpy(npy('<i8', [2], [-5, 2 ** 40]), 'x.npy').data], [-5, 2 ** 40]);
  assert.deepEqual([...parseNpy(npy('<i2', [2], [-300, 300]), 'x.npy').data], [-300, 300]);
});

test('3-D fortran-ordered array flattens its trailing axes in C order', () => {
  // a[i,j,k] = 100 i + 10 j + k, shape (2, 2, 3); fortran order stores i fastest
  const shape = [2, 2, 3];
  const stored: number[] = [];
  for (let k = 0; k < 3; k++)
    for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) stored.push(100 * i + 10 * j + k);
  const m = npyToMatrix(parseNpy(npy('<i4', shape, stored, { fortran: true }), 'x.npy'), 'x.npy');
  assert.equal(m.n, 2);
  assert.equal(m.d, 6);
  assert.deepEqual([...m.X], [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]);
});

test('npz built with fflate: fortran-ordered f8 X and i8 y, deflated and stored', () => {
  for (const level of [6, 0] as const) {
    const bytes = npz(
      {
        X: npy('<f8', [3, 2], [0.5, 1.5, 2.5, 10, 20, 30], { fortran: true }),
        y: npy('<i8', [3], [0, 1, 0]),
      },
      level,
    );
    const m = parseNpz(bytes, F);
    assert.equal(m.n, 3);
    assert.equal(m.d, 2);
    assert.deepEqual([...m.X], [0.5, 10, 1.5, 20, 2.5, 30]);
    assert.deepEqual([...m.y!], [0, 1, 0]);
    assert.deepEqual(m.columns, ['col0', 'col1']);
  }
});

test('npz: y optional, single unnamed array is X, u1 X with i4 y', () => {
  const a = parseNpz(npz({ X: npy('|u1', [2, 2], [255, 0, 7, 8]) }), F);
  assert.equal(a.y, undefined);
  assert.deepEqual([...a.X], [255, 0, 7, 8]);
  const b = parseNpz(npz({ arr_0: npy('<i2', [1, 2], [-1, 2]) }), F);
  assert.deepEqual([...b.X], [-1, 2]);
  const c = parseNpz(npz({ X: npy('<f4', [2, 1], [1, 2]), y: npy('<i4', [2, 1], [1, 1]) }), F);
  assert.deepEqual([...c.y!], [1, 1]);
});

test('npz / npy errors', () => {
  assertDataError(() => parseNpz(npz({ X: npy('<f8', [2, 1], [1, 2]), y: npy('<i4', [3], [0, 1, 0]) }), F), {
    file: F,
    message: /X has 2 rows but y has 3 labels/,
  });
  assertDataError(() => parseNpz(npz({ a: npy('<f8', [1], [1]), b: npy('<f8', [1], [1]) }), F), {
    message: /no array "X" \(arrays: a, b\)/,
  });
  assertDataError(() => parseNpz(npz({ X: npy('<f8', [2, 2], [1, NaN, 3, 4]) }), F), {
    file: `${F}/X.npy`,
    row: 1,
    column: 'col1',
    value: 'NaN',
    message: /non-finite value/,
  });
  assertDataError(() => parseNpz(npz({ X: npy('<f8', [1, 1], [1]), y: npy('<f8', [1], [0.5]) }), F), {
    row: 1,
    message: /label is not a 32-bit integer/,
  });
  const bad = npy('<f8', [2], [1, 2]);
  bad.set(Buffer.from('<c8'), Buffer.from(bad).indexOf('<f8')); // descr -> complex64
  assertDataError(() => parseNpy(bad, 'c.npy'), { value: '<c8', message: /unsupported npy dtype/ });
  assertDataError(() => parseNpy(npy('<f8', [4], [1, 2, 3, 4]).subarray(0, -8), 't.npy'), {
    message: /truncated npy data/,
  });
  assertDataError(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'z.npy'), {
    message: /bad magic/,
  });
  assertDataError(() => parseNpz(new Uint8Array([0x50, 0x4b, 3, 4, 9, 9, 9]), F), { message: /corrupt npz/ });
  assertDataError(() => npyToMatrix(parseNpy(npy('<f8', [0, 3], []), 'e.npy'), 'e.npy'), {
    message: /no data rows/,
  });
});
