import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ari,
  clusterAccuracy,
  clusterScores,
  contingencyMatrix,
  matchClusters,
  mutualInfo,
  nmi,
} from '../../../src/eval/cluster.js';

const close = (a: number, b: number, tol = 1e-12): void =>
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b} (tol ${tol})`);

test('a permuted labelling scores ACC 1, NMI 1, ARI 1', () => {
  const y = [0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3];
  const perm = [7, 3, -1, 42]; // cluster ids are arbitrary integers
  const p = y.map((v) => perm[v]!);
  const s = clusterScores(Int32Array.from(y), p);
  assert.equal(s.acc, 1);
  close(s.nmi, 1);
  assert.equal(s.ari, 1);
  assert.deepEqual(
    [...matchClusters(y, p)].sort((a, b) => a[1] - b[1]),
    [
      [7, 0],
      [3, 1],
      [-1, 2],
      [42, 3],
    ],
  );
});

test('hand-computed: one cluster for two classes', () => {
  const y = [0, 0, 1, 1];
  const p = [0, 0, 0, 0];
  assert.equal(clusterAccuracy(y, p), 0.5);
  assert.equal(nmi(y, p), 0); // MI = 0
  assert.equal(ari(y, p), 0); // tp*tn - fn*fp = 4*0 - 0*8 = 0
});

test('hand-computed: crossed partition', () => {
  const y = [0, 0, 1, 1];
  const p = [0, 1, 0, 1];
  assert.equal(clusterAccuracy(y, p), 0.5);
  assert.equal(nmi(y, p), 0);
  // pair counts (ordered): tp 0, fp 4, fn 4, tn 4 -> 2(0 - 16) / (4*8 + 4*8) = -0.5
  assert.equal(ari(y, p), -0.5);
});

test('hand-computed: a refinement (3 clusters, 2 classes)', () => {
  const y = [0, 0, 1, 1];
  const p = [0, 0, 1, 2];
  // the extra cluster maps to no class: 3 of 4 right
  assert.equal(clusterAccuracy(y, p), 0.75);
  close(mutualInfo(y, p), Math.LN2);
  // MI = H(y) = ln 2, H(p) = 1.5 ln 2: NMI = ln2 / (2.5 ln2 / 2) = 0.8
  close(nmi(y, p), 0.8);
  // tp 2, fp 0, fn 2, tn 8 -> 2*16 / (4*10 + 2*8) = 32/56
  close(ari(y, p), 4 / 7);
});

test('both labellings a single group: NMI 1, ARI 1 (sklearn convention)', () => {
  assert.equal(nmi([1, 1, 1], [4, 4, 4]), 1);
  assert.equal(ari([1, 1, 1], [4, 4, 4]), 1);
  assert.equal(clusterAccuracy([1, 1, 1], [4, 4, 4]), 1);
});

test('contingency matrix counts', () => {
  const c = contingencyMatrix([2, 2, 5, 5, 5], [1, 0, 0, 0, 1]);
  assert.deepEqual(c.classes, [2, 5]);
  assert.deepEqual(c.clusters, [0, 1]);
  assert.deepEqual([...c.counts], [1, 1, 2, 1]);
  assert.equal(c.n, 5);
});

test('bad input: length mismatch and non-integer labels', () => {
  assert.throws(() => nmi([0, 1], [0]), RangeError);
  assert.throws(() => ari([0, 1.5], [0, 1]), /not an integer/);
});

// Expected values computed with scikit-learn 1.2.1 (normalized_mutual_info_score,
// adjusted_rand_score) and, for ACC, scipy 1.10.1 linear_sum_assignment on the contingency table.
const FIXTURES: { name: string; y: number[]; p: number[]; acc: number; nmi: number; ari: number }[] = [
  {
    name: '3 classes, 3 clusters',
    y: [0, 0, 0, 1, 1, 1, 2, 2, 2, 2],
    p: [0, 0, 1, 1, 1, 2, 2, 2, 0, 2],
    acc: 0.7,
    nmi: 0.44270128334605013,
    ari: 0.20454545454545456,
  },
  {
    name: '4 classes, 3 clusters',
    y: [0, 0, 1, 1, 2, 2, 3, 3],
    p: [5, 5, 5, 7, 7, 7, 9, 9],
    acc: 0.75,
    nmi: 0.7364087154289768,
    ari: 0.4444444444444444,
  },
  {
    name: '3 classes, 4 clusters, independent',
    y: [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    p: [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3],
    acc: 0.3333333333333333,
    nmi: 0.07668367969289652,
    ari: -0.2037735849056604,
  },
  {
    name: '4 classes, 6 clusters, noisy (numpy default_rng(7))',
    y: [
      3, 2, 2, 3, 2, 3, 3, 0, 0, 1, 1, 3, 3, 0, 1, 3, 0, 3, 0, 1, 3, 1, 1, 1, 2, 1, 3, 1, 1, 2, 2, 2, 2, 3, 3,
      3, 2, 2, 1, 3, 1, 0, 3, 0, 3, 2, 0, 0, 1, 0, 0, 2, 3, 1, 3, 3, 3, 2, 1, 2,
    ],
    p: [
      3, 2, 2, 3, 3, 3, 3, 0, 2, 1, 1, 4, 3, 0, 4, 2, 0, 3, 0, 0, 3, 1, 1, 1, 2, 1, 0, 1, 2, 2, 4, 2, 0, 3, 3,
      3, 2, 2, 5, 3, 3, 0, 4, 5, 3, 0, 2, 5, 1, 0, 0, 4, 3, 1, 3, 0, 3, 2, 1, 2,
    ],
    acc: 0.6833333333333333,
    nmi: 0.4562542918627458,
    ari: 0.4218544406753313,
  },
];

for (const f of FIXTURES) {
  test(`matches sklearn: ${f.name}`, () => {
    const s = clusterScores(f.y, f.p);
    close(s.acc, f.acc);
    close(s.nmi, f.nmi);
    close(s.ari, f.ari);
    // NMI and ARI are symmetric; ACC is too when the matching is one-to-one.
    close(nmi(f.p, f.y), f.nmi);
    close(ari(f.p, f.y), f.ari);
  });
}

test('70,000 points (sklearn 1.2.1 values): ACC, NMI and ARI match at scale', () => {
  const n = 70000;
  const y = new Int32Array(n);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 10;
    p[i] = i % 100 < 90 ? i % 10 : (i * 7) % 10; // 10% relabelled, 2% of them unchanged
  }
  const s = clusterScores(y, p);
  close(s.acc, 0.92);
  close(s.nmi, 0.8870546067963138);
  close(s.ari, 0.8399794256322332);
});
