import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Calibrator,
  featureSpread,
  fitCalibration,
  fitMixture,
  inputDeviation,
  mixtureScore,
  rawScore,
  type ScoreColumns,
} from '../../../src/serve/calibration.js';
import { Rng } from '../../../src/model/rng.js';

/** Columns for n rows against K prototypes from their n x K squared distances. */
function columns(D: number[], K: number): ScoreColumns {
  const n = D.length / K;
  const sMin: number[] = [];
  const nearest: number[] = [];
  for (let i = 0; i < n; i++) {
    let k0 = 0;
    for (let k = 1; k < K; k++) if (D[i * K + k]! < D[i * K + k0]!) k0 = k;
    sMin.push(D[i * K + k0]!);
    nearest.push(k0);
  }
  return { n, sMin, sQ: sMin, nearest, D };
}

/** Rows around two prototypes in m dimensions: 90% near prototype 0 (spread 1), 10% near 1 (spread 0.1). */
function sample(n: number, m: number, seed: number): number[] {
  const rng = new Rng(seed);
  const D: number[] = [];
  for (let i = 0; i < n; i++) {
    const big = i % 10 !== 0;
    const sd = big ? 1 : 0.1;
    let d0 = 0;
    let d1 = 0;
    for (let j = 0; j < m; j++) {
      const x = sd * rng.normal() + (big ? 0 : j === 0 ? 20 : 0);
      d0 += x ** 2;
      d1 += (x - (j === 0 ? 20 : 0)) ** 2;
    }
    D.push(d0, d1);
  }
  return D;
}

test("'s_mix' fits each prototype's share and spread, and equals -log of the mixture density", () => {
  const m = 4;
  const train = columns(sample(4000, m, 1), 2);
  const mix = fitMixture(train, 2, m);
  // Spreads: mean d_k / m of the members, about sd^2.
  const s2 = mix.inv.map((v) => 1 / (2 * v));
  assert.ok(Math.abs(s2[0]! - 1) < 0.1 && Math.abs(s2[1]! - 0.01) < 0.002, `${s2}`);
  // The score is -log sum_k w_k s_k^-m exp(-d_k / (2 s_k^2)), with w = (count + 1) / (n + K).
  const c = columns([3, 400, 401, 0.02], 2);
  for (let i = 0; i < c.n; i++) {
    let p = 0;
    for (let k = 0; k < 2; k++) {
      const w = k === 0 ? 3601 / 4002 : 401 / 4002;
      p += w * s2[k]! ** (-m / 2) * Math.exp(-c.D![i * 2 + k]! / (2 * s2[k]!));
    }
    assert.ok(Math.abs(mixtureScore(mix, c, i) + Math.log(p)) < 1e-6, `row ${i}`);
  }
});

test("'s_mix' through fitCalibration: far rows and rows off a tight prototype grade high; needs D", () => {
  const m = 4;
  const state = fitCalibration(columns(sample(4000, m, 2), 2), 2, columns(sample(1000, m, 3), 2), {
    rawScore: 's_mix',
    embedDim: m,
  });
  assert.equal(state.rawScore, 's_mix');
  assert.ok(state.mixture);
  const JSONround = JSON.parse(JSON.stringify(state)) as typeof state;
  const cal = new Calibrator(JSONround);
  // d = 2 from the wide prototype is ordinary; d = 2 from the tight one (spread 0.01) is not, even
  // though its distance to the nearest prototype is the same.
  const ordinary = columns([2, 20 ** 2], 2);
  const offTight = columns([20 ** 2, 2], 2);
  const far = columns([200, 200], 2);
  const g = (c: ScoreColumns): number => cal.grade(c, 0).grade;
  assert.ok(g(ordinary) < 0.9, `${g(ordinary)}`);
  assert.ok(g(offTight) > 0.999, `${g(offTight)}`);
  assert.ok(g(far) > 0.999, `${g(far)}`);
  assert.ok(cal.grade(far, 0).z > cal.grade(ordinary, 0).z);
  assert.ok(rawScore(state, far, 0) > rawScore(state, ordinary, 0));
  const noD: ScoreColumns = { ...ordinary };
  delete noD.D;
  assert.throws(() => cal.grade(noD, 0), /needs the distance matrix D/);
});

test('input deviation: distance per feature from the nearest prototype members, spread-floored; fitted and maxed', () => {
  const stats = [
    { mean: [0, 0], std: [1, 0] },
    { mean: [10, 10], std: [0.5, 0.5] },
  ];
  const spread = featureSpread([0, 0, 2, 0, 10, 10, 12, 10], 4, 2);
  assert.ok(Math.abs(spread[0]! - Math.sqrt(26)) < 1e-9 && Math.abs(spread[1]! - 5) < 1e-9, `${spread}`);
  const X = [1, 5, 10, 10];
  const dev = inputDeviation(stats, [0.1, 2], X, 2, 2, [0, 1]);
  // Row 0 against prototype 0: (1 / 1)^2 + (5 / max(0, 2))^2; row 1 sits on prototype 1.
  assert.deepEqual(Array.from(dev), [1 + 6.25, 0]);
  const rng = new Rng(4);
  const cols = (n: number): ScoreColumns => {
    const v = Array.from({ length: n }, () => Math.abs(rng.normal()));
    return { n, sMin: v, sQ: v, nearest: v.map(() => 0), dev: v.map(() => Math.abs(rng.normal())) };
  };
  const state = fitCalibration(cols(2000), 1, cols(2000), { inputDeviation: { spread } });
  assert.ok(state.deviation && state.deviation.spread.length === 2);
  const cal = new Calibrator(state);
  const base = { n: 1, sMin: [0.5], sQ: [0.5], nearest: [0] };
  assert.ok(cal.grade({ ...base, dev: [50] }, 0).z > cal.grade({ ...base, dev: [0.5] }, 0).z + 10);
  // Without the option the column is ignored.
  const plain = new Calibrator(fitCalibration(cols(2000), 1, cols(2000)));
  assert.equal(plain.state.deviation, undefined);
  assert.equal(plain.grade({ ...base, dev: [50] }, 0).z, plain.grade(base, 0).z);
});
