// Real files from ../shared/data (or $DDCL_DATA). Skipped, with a message, when the folder is
// missing. Expected sums and rows below were computed with numpy 1.24.2 on the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, loadDataset } from '../../../src/data/dataset.js';
import { loadMatrix } from '../../../src/data/load.js';

const root = dataRoot();
const skip = existsSync(root) ? false : `shared data folder ${root} not found (set DDCL_DATA)`;

function classCounts(y: Int32Array): number[] {
  const counts: number[] = [];
  for (const v of y) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function sum(a: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s;
}

test('digits: 1797 x 64, pixels 0..16, labels 0..9', { skip }, async () => {
  const m = await loadDataset('digits');
  assert.equal(m.name, 'digits');
  assert.equal(m.n, 1797);
  assert.equal(m.d, 64);
  assert.equal(m.X.length, 1797 * 64);
  assert.deepEqual(classCounts(m.y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  assert.deepEqual([...m.y.subarray(0, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...m.X.subarray(0, 8)], [0, 0, 5, 13, 9, 1, 0, 0]);
  assert.equal(Math.max(...m.X), 16);
  assert.equal(sum(m.X), 561718);
});

test('mnist-test: 10000 x 784 with labels, loads fast', { skip }, async (t) => {
  const t0 = performance.now();
  const m = await loadDataset('mnist-test');
  const ms = performance.now() - t0;
  t.diagnostic(`mnist-test loaded in ${ms.toFixed(0)} ms`);
  assert.equal(m.n, 10000);
  assert.equal(m.d, 784);
  assert.deepEqual(classCounts(m.y), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.deepEqual([...m.y.subarray(0, 5)], [7, 2, 1, 0, 4]);
  assert.equal(sum(m.X), 264923200);
  assert.equal(sum(m.X, 0, 784), 18454);
  assert.equal(sum(m.X, 9999 * 784), 41833);
  assert.ok(ms < 2000, `MNIST test load took ${ms.toFixed(0)} ms`);
});

test('ADBench 38_thyroid.npz: 3772 x 6 (fortran-ordered f8), 93 anomalies', { skip }, async () => {
  const path = join(root, 'adbench', '38_thyroid.npz');
  for (const m of [await loadMatrix(path), await loadDataset(path)]) {
    assert.equal(m.n, 3772);
    assert.equal(m.d, 6);
    assert.equal(sum(m.y!), 93);
    assert.deepEqual(classCounts(m.y!), [3679, 93]);
    const first = [
      0.774193548387, 0.0011320754717, 0.137571157495, 0.275700934579, 0.295774647887, 0.23606557377,
    ];
    const last = [
      0.483870967742, 0.00356603773585, 0.190702087287, 0.21261682243, 0.338028169014, 0.16393442623,
    ];
    first.forEach((v, j) => assert.equal(m.X[j], Math.fround(v)));
    last.forEach((v, j) => assert.equal(m.X[3771 * 6 + j], Math.fround(v)));
  }
});

test('every ADBench file loads with the sizes and anomaly counts of the README', { skip }, async () => {
  const table: [string, number, number, number][] = [
    ['38_thyroid', 3772, 6, 93],
    ['2_annthyroid', 7200, 6, 534],
    ['6_cardio', 1831, 21, 176],
    ['23_mammography', 11183, 6, 260],
    ['28_pendigits', 6870, 16, 156],
    ['31_satimage-2', 5803, 36, 71],
  ];
  for (const [name, n, d, anomalies] of table) {
    const m = await loadMatrix(join(root, 'adbench', `${name}.npz`));
    assert.equal(m.n, n, name);
    assert.equal(m.d, d, name);
    assert.equal(sum(m.y!), anomalies, name);
  }
});
