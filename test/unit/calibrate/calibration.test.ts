import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Calibrator,
  fitCalibration,
  normalTail,
  quantileGrade,
  type ScoreColumns,
} from '../../../src/serve/calibration.js';
import { Explainer, prototypeStats } from '../../../src/serve/explain.js';
import { Rng } from '../../../src/model/rng.js';

function columns(values: number[], nearest: number[]): ScoreColumns {
  return { n: values.length, sQ: values, sMin: values, nearest };
}

test('per-prototype normalisation: the same raw score is unusual for a tight cluster, not for a wide one', () => {
  const rng = new Rng(1);
  const vals: number[] = [];
  const near: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const k = i % 2;
    vals.push(k === 0 ? 1 + 0.1 * Math.abs(rng.normal()) : 1 + 2 * Math.abs(rng.normal()));
    near.push(k);
  }
  const state = fitCalibration(columns(vals, near), 2, columns(vals, near));
  const c = new Calibrator(state);
  const tight = c.grade(columns([2], [0]), 0);
  const wide = c.grade(columns([2], [1]), 0);
  assert.ok(tight.z > wide.z * 5, `${tight.z} vs ${wide.z}`);
  assert.ok(tight.grade > 0.999 && wide.grade < 0.9, `${tight.grade} ${wide.grade}`);
});

test('quantile grades are uniform on clean data and monotone beyond the reference maximum', () => {
  const rng = new Rng(2);
  const train = Array.from({ length: 4000 }, () => Math.abs(rng.normal()));
  const calib = Array.from({ length: 4000 }, () => Math.abs(rng.normal()));
  const state = fitCalibration(
    columns(
      train,
      train.map(() => 0),
    ),
    1,
    columns(
      calib,
      calib.map(() => 0),
    ),
  );
  const fresh = Array.from({ length: 4000 }, () => Math.abs(rng.normal()));
  const c = new Calibrator(state);
  const grades = fresh.map((v) => c.grade(columns([v], [0]), 0).grade);
  const above99 = grades.filter((g) => g >= 0.99).length / grades.length;
  assert.ok(above99 > 0.003 && above99 < 0.025, `alert rate at 0.99: ${above99}`);
  const g1 = quantileGrade(state, 4);
  const g2 = quantileGrade(state, 6);
  assert.ok(g1 < g2 && g2 < 1 && g1 > 0.99, `${g1} ${g2}`);
  assert.ok(quantileGrade(state, -100) === 0);
});

test('anomaly likelihood rises for a sustained shift, uses only the past', () => {
  const rng = new Rng(3);
  const base = Array.from({ length: 200 }, () => Math.abs(rng.normal()));
  const state = fitCalibration(
    columns(
      base,
      base.map(() => 0),
    ),
    1,
    columns(
      base,
      base.map(() => 0),
    ),
    {
      likelihood: { shortWindow: 5, longWindow: 200 },
    },
  );
  const c = new Calibrator(state);
  let last = 0;
  for (let i = 0; i < 300; i++) last = c.grade(columns([Math.abs(rng.normal())], [0]), 0).grade;
  assert.ok(last < 0.999, `normal stream: ${last}`);
  let peak = 0;
  for (let i = 0; i < 5; i++) peak = Math.max(peak, c.grade(columns([8 + rng.normal()], [0]), 0).grade);
  assert.ok(peak > 0.9999, `shifted: ${peak}`);
  assert.ok(Math.abs(normalTail(0) - 0.5) < 1e-7 && Math.abs(normalTail(1.959964) - 0.025) < 1e-5);
});

test('calibration state is plain JSON', () => {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const state = fitCalibration(
    columns(
      v,
      v.map(() => 0),
    ),
    1,
    columns(
      v,
      v.map(() => 0),
    ),
  );
  const back = JSON.parse(JSON.stringify(state)) as typeof state;
  assert.deepEqual(back, state);
});

test('explanations rank first the feature where an anomaly was injected', () => {
  const rng = new Rng(4);
  const n = 3000;
  const d = 8;
  const X = new Float64Array(n * d);
  const nearest: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    nearest.push(k);
    for (let j = 0; j < d; j++) X[i * d + j] = k * 2 + (j + 1) * 0.3 * rng.normal();
  }
  const stats = prototypeStats(X, n, d, nearest, 3);
  const names = Array.from({ length: d }, (_, j) => `f${j}`);
  const ex = new Explainer(stats, names);
  for (const target of [0, 5, 7]) {
    const x = Array.from({ length: d }, (_, j) => 2 + (j + 1) * 0.3 * rng.normal() * 0.5);
    x[target] = x[target]! - 6 * (target + 1) * 0.3; // 6 standard deviations below
    const e = ex.explain(x, 0, 1, 3);
    assert.equal(e.top[0]!.name, `f${target}`);
    assert.equal(e.top[0]!.direction, 'below');
    assert.ok(Math.abs(e.top[0]!.deviation) > 4);
    assert.equal(e.top.length, 3);
    assert.ok(Math.abs(e.top[0]!.deviation) >= Math.abs(e.top[1]!.deviation));
  }
});
