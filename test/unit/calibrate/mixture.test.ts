import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Calibrator,
  featureSpread,
  fitCalibration,
  fitGlobalDeviation,
  fitInputMixture,
  fitMixture,
  globalDeviationScores,
  gradeColumns,
  inputDeviation,
  inputMixtureScores,
  mixtureScore,
  normalise,
  rawScore,
  sparseRows,
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

test('input mixture: isotropic Gaussians over the prototypes members, share-weighted, empty prototypes left out', () => {
  // Prototype 0: 90 members, per-feature std 1 and 3 (variance 5 on average); 1: 10 members, std 0.1; 2: none.
  const stats = [
    { count: 90, mean: [0, 0], std: [1, 3] },
    { count: 10, mean: [10, 10], std: [0.1, 0.1] },
    { count: 0, mean: [0, 0], std: [0, 0] },
  ];
  const mix = fitInputMixture(stats, 2);
  assert.deepEqual(mix.proto, [0, 1]);
  const X = [1, 2, 10.1, 10, 5, 5];
  const got = inputMixtureScores(mix, stats, X, 3, 2);
  for (let i = 0; i < 3; i++) {
    let p = 0;
    for (const [k, v, w] of [
      [0, 5, 91 / 103],
      [1, 0.01, 11 / 103],
    ] as const) {
      const q = (X[i * 2]! - stats[k]!.mean[0]!) ** 2 + (X[i * 2 + 1]! - stats[k]!.mean[1]!) ** 2;
      p += (w / v) * Math.exp(-q / (2 * v)); // v^(-d/2) with d = 2
    }
    assert.ok(Math.abs(got[i]! + Math.log(p)) < 1e-9, `row ${i}: ${got[i]} vs ${-Math.log(p)}`);
  }
  // Between the two prototypes is less likely than on either.
  assert.ok(got[2]! > got[0]! && got[2]! > got[1]!);
});

test('global deviation: squared standardised distance from the rows mean', () => {
  const g = fitGlobalDeviation([0, 0, 2, 4, 4, 8], 3, 2);
  assert.deepEqual(g.mean, [2, 4]);
  const sd0 = Math.sqrt(8 / 3);
  const sd1 = Math.sqrt(32 / 3);
  assert.ok(Math.abs(g.std[0]! - sd0) < 1e-9 && Math.abs(g.std[1]! - sd1) < 1e-9);
  const s = globalDeviationScores(g, [2, 4, 4, 0], 2, 2);
  assert.equal(s[0], 0);
  assert.ok(Math.abs(s[1]! - (4 / sd0 ** 2 + 16 / sd1 ** 2)) < 1e-9);
});

test("combine 'sum': the weighted sum of every fitted term's z, the raw score normed globally; 'max' keeps the largest", () => {
  const rng = new Rng(9);
  const cols = (n: number): ScoreColumns => {
    const v = () => Array.from({ length: n }, () => Math.abs(rng.normal()));
    const s = v();
    return { n, sMin: s, sQ: s, nearest: s.map((_, i) => i % 2), recon: v(), imix: v(), gdev: v() };
  };
  const mix = { proto: [0], bias: [0], inv: [1] };
  const gd = { mean: [0], std: [1] };
  const weights = { raw: 1, recon: 0.5, inputMixture: 2, globalDeviation: 0 };
  const opts = { inputMixture: mix, globalDeviation: gd };
  const sum = fitCalibration(cols(3000), 2, cols(3000), { ...opts, combine: { mode: 'sum', weights } });
  const max = fitCalibration(cols(3000), 2, cols(3000), opts);
  assert.ok(sum.inputMixture && sum.globalDeviation && sum.recon);
  assert.deepEqual(sum.combine, { mode: 'sum', weights });
  assert.equal(max.combine, undefined);
  const row: ScoreColumns = { n: 1, sMin: [2], sQ: [2], nearest: [1], recon: [3], imix: [4], gdev: [50] };
  const z = (v: number, nm: { loc: number; scale: number }): number => (v - nm.loc) / nm.scale;
  const want = z(2, sum.global) + 0.5 * z(3, sum.recon) + 2 * z(4, sum.inputMixture);
  assert.ok(Math.abs(normalise(sum, row, 0) - want) < 1e-9, `${normalise(sum, row, 0)} vs ${want}`);
  // 'max': the global deviation's z (50 against |N(0,1)|) is the largest.
  assert.ok(Math.abs(normalise(max, row, 0) - z(50, max.globalDeviation!)) < 1e-9);
  // The state survives JSON (calibration.json) and grades the same.
  const back = JSON.parse(JSON.stringify(sum)) as typeof sum;
  assert.equal(new Calibrator(back).grade(row, 0).z, new Calibrator(sum).grade(row, 0).z);
});

test('gradeColumns adds the input mixture and global deviation columns a state was fitted with', () => {
  const stats = [{ count: 5, mean: [0, 0], std: [1, 1] }];
  const state = {
    inputMixture: { ...fitInputMixture(stats, 2), loc: 0, scale: 1 },
    globalDeviation: { mean: [1, 1], std: [2, 2], loc: 0, scale: 1 },
  };
  const X = [3, 4];
  const c = gradeColumns({ n: 1, sMin: [0], sQ: [0], nearest: [0] } as ScoreColumns, state, stats, X, 1, 2);
  assert.deepEqual(Array.from(c.gdev!), [(2 / 2) ** 2 + (3 / 2) ** 2]);
  assert.ok(Math.abs(c.imix![0]! - inputMixtureScores(state.inputMixture, stats, X, 1, 2)[0]!) < 1e-12);
  const none = gradeColumns({ n: 1, sMin: [0], sQ: [0], nearest: [0] } as ScoreColumns, {}, stats, X, 1, 2);
  assert.equal(none.imix, undefined);
  assert.equal(none.gdev, undefined);
});

test('input mixture and global deviation over sparse rows (mostly zeros) equal the dense formulas', () => {
  const rng = new Rng(12);
  const n = 200;
  const d = 40;
  const X = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) if (rng.next() < 0.15) X[i] = rng.next() < 0.5 ? 1 : 3 * rng.normal();
  const stats = Array.from({ length: 5 }, (_, k) => ({
    count: k === 3 ? 0 : 10 + k,
    mean: Array.from({ length: d }, () => 0.3 * rng.normal()),
    std: Array.from({ length: d }, () => 0.2 + rng.next()),
  }));
  const mix = fitInputMixture(stats, d);
  const g = fitGlobalDeviation(X, n, d);
  const sp = sparseRows(X, n, d);
  assert.equal(sp.start[n], X.filter((v) => v !== 0).length);
  const im = inputMixtureScores(mix, stats, X, n, d, sp);
  const gd = globalDeviationScores(g, X, n, d);
  for (let i = 0; i < n; i++) {
    let dense = 0;
    for (let j = 0; j < d; j++) dense += ((X[i * d + j]! - g.mean[j]!) / g.std[j]!) ** 2;
    assert.ok(Math.abs(gd[i]! - dense) < 1e-9 * Math.max(1, dense), `gdev row ${i}`);
    const L = mix.proto.map((k, c) => {
      let q = 0;
      for (let j = 0; j < d; j++) q += (X[i * d + j]! - stats[k]!.mean[j]!) ** 2;
      return mix.bias[c]! - q * mix.inv[c]!;
    });
    const mx = Math.max(...L);
    const want = -(mx + Math.log(L.reduce((a, l) => a + Math.exp(l - mx), 0)));
    assert.ok(
      Math.abs(im[i]! - want) < 1e-8 * Math.max(1, Math.abs(want)),
      `imix row ${i}: ${im[i]} vs ${want}`,
    );
  }
});
