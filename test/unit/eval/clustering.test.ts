// The clustering benchmark: metrics against known values, its statistics, the k-NN graph, the
// figure and report, and a tiny end-to-end run on separable blobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterScores } from '../../../src/eval/cluster.js';
import { initEngine } from '../../../src/model/engine.js';
import { Rng } from '../../../src/model/rng.js';
import {
  clusteringConfig,
  curveStats,
  knnGraph,
  lossCurveSvg,
  pearson,
  runClusteringBench,
  scaleInputs,
  writeReport,
  ClusteringError,
  fuzzyGraph,
  laplacianEigenmap,
  manifoldEmbedding,
  normalisedAffinity,
  standardiseRows,
  symmetricEigen,
  trainDdclHead,
  umapLayout,
  type CurveRow,
} from '../../../src/eval/clustering/index.js';

test('a permuted labelling scores ACC, NMI and ARI of 1', () => {
  const y = Int32Array.from({ length: 60 }, (_, i) => i % 3);
  const perm = [2, 0, 1];
  const s = clusterScores(
    y,
    Int32Array.from(y, (v) => perm[v]!),
  );
  assert.equal(s.acc, 1);
  assert.ok(Math.abs(s.nmi - 1) < 1e-12);
  assert.ok(Math.abs(s.ari - 1) < 1e-12);
});

test('one wrong point in ten: ACC 0.9 (known value)', () => {
  const y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
  const p = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
  assert.equal(clusterScores(y, p).acc, 0.9);
});

test('pearson: +1, -1, and NaN for a constant series', () => {
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
  assert.ok(Math.abs(pearson([1, 2, 3], [3, 2, 1]) + 1) < 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.throws(() => pearson([1], [1, 2]), RangeError);
});

const row = (epoch: number, Lq: number, Lols: number, V: number, sep: number, force: number): CurveRow => ({
  epoch,
  T: 1,
  Lq,
  Lols,
  V,
  identityGap: Math.abs(Lq - Lols - V),
  minV: V,
  separation: sep,
  forceNorm: force,
});

test('curveStats: largest violation, negative V epochs and separation/force correlation', () => {
  const c = [row(0, 1, 0.5, 0.5, 1, 3), row(1, 0.8, 0.5, 0.3, 2, 2), row(2, 0.5, 0.4, 0.09, 3, 1)];
  const s = curveStats(c);
  assert.ok(Math.abs(s.maxViolation - 0.01) < 1e-12);
  assert.ok(Math.abs(s.maxRelativeViolation - 0.02) < 1e-12);
  assert.equal(s.negativeV, 0);
  assert.ok(Math.abs(s.separationForcePearson + 1) < 1e-12);
  assert.equal(curveStats([row(0, 1, 1.5, -0.5, 1, 1)]).negativeV, 1);
});

test('scaleInputs: global divides by the largest |x|, column maps each column to [0, 1]', () => {
  const X = Float32Array.from([0, 10, 2, 20, 4, 40]);
  assert.deepEqual(Array.from(scaleInputs(X, 3, 2, 'global')), [0, 0.25, 0.05, 0.5, 0.1, 1].map(Math.fround));
  assert.deepEqual(Array.from(scaleInputs(X, 3, 2, 'column')), [0, 0, 0.5, 1 / 3, 1, 1].map(Math.fround));
  assert.deepEqual(Array.from(scaleInputs(X, 3, 2, 'none')), Array.from(X));
});

test('clusteringConfig: same settings for every call, typed error on too few rows', () => {
  assert.deepEqual(clusteringConfig(1797, 64), clusteringConfig(1797, 64));
  assert.equal(clusteringConfig(1797, 64, 'paper').train.pretrainEpochs, 0);
  assert.ok((clusteringConfig(1797, 64, 'best').train.pretrainEpochs ?? 0) > 0);
  assert.equal(clusteringConfig(1797, 64, 'paper').manifold, null);
  assert.equal(clusteringConfig(1797, 64, 'best').manifold?.dims, 10);
  // MNIST-sized tables get UMAP's default graph (15 neighbours, fuzzy union), digits 10 mutual.
  assert.deepEqual(
    [clusteringConfig(10000, 784).manifold?.knn, clusteringConfig(10000, 784).manifold?.mix],
    [15, 1],
  );
  assert.deepEqual(
    [clusteringConfig(1797, 64).manifold?.knn, clusteringConfig(1797, 64).manifold?.mix],
    [10, 0],
  );
  assert.throws(() => clusteringConfig(5, 3), ClusteringError);
});

test('knnGraph: nearest other rows on a line, self excluded', async () => {
  await initEngine('cpu');
  const X = Float32Array.from([0, 1, 3, 7, 15]);
  const g = knnGraph(X, 5, 1, 2);
  assert.deepEqual(Array.from(g.index.subarray(0, 2)), [1, 2]);
  assert.deepEqual(Array.from(g.index.subarray(2 * 2, 3 * 2)), [1, 0]);
  assert.deepEqual(Array.from(g.index.subarray(4 * 2, 5 * 2)), [3, 2]);
  assert.throws(() => knnGraph(X, 5, 1, 5), ClusteringError);
});

test('lossCurveSvg: one polyline per term, and a message for an empty curve', () => {
  const svg = lossCurveSvg([row(0, 1, 0.6, 0.4, 1, 1), row(1, 0.5, 0.3, 0.2, 1, 1)], 'a < b');
  assert.equal((svg.match(/<polyline/g) ?? []).length, 3);
  assert.ok(svg.includes('a &lt; b'));
  assert.ok(lossCurveSvg([], 'x').includes('no DDCL epochs'));
});

function blobs(n: number, d: number, K: number, seed: number): { X: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const C = Float32Array.from({ length: K * d }, () => 8 * rng.normal());
  const X = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % K;
    for (let j = 0; j < d; j++) X[i * d + j] = C[y[i]! * d + j]! + 0.5 * rng.normal();
  }
  return { X, y };
}

test('runClusteringBench on separable blobs: all six methods, JSON fields, report and figure', async () => {
  const { X, y } = blobs(120, 6, 3, 1);
  const tiny = (c: ReturnType<typeof clusteringConfig>): ReturnType<typeof clusteringConfig> => ({
    ...c,
    train: { ...c.train, widths: [8], m: 4, pretrainEpochs: 3, batchSize: 60 },
    fineTune: c.fineTune && { ...c.fineTune, epochs: 3, batchSize: 60 },
    knn: 3,
    deepcluster: { ...c.deepcluster, widths: [8], m: 4, epochs: 2, batchSize: 60 },
    manifold: c.manifold && { ...c.manifold, knn: 5, umapEpochs: 30 },
    head: c.head && { ...c.head, epochs: 3, batchSize: 60 },
  });
  const r = await runClusteringBench('blobs', X, 120, 6, y, {
    seeds: 2,
    K: 3,
    engine: 'cpu',
    override: tiny,
  });
  assert.deepEqual(
    r.results.map((m) => m.method),
    ['ddcl', 'ddcl-ols', 'ddcl-stopgrad', 'deepcluster', 'kmeans-raw', 'kmeans-embed'],
  );
  for (const m of r.results) {
    assert.equal(m.runs.length, 2);
    assert.ok(m.acc_mean >= 1 / 3 && m.acc_mean <= 1, `${m.method} acc ${m.acc_mean}`);
    assert.ok(m.seconds >= 0);
  }
  // Well-separated blobs: k-means on the raw inputs finds them exactly.
  assert.equal(r.results.find((m) => m.method === 'kmeans-raw')!.acc_mean, 1);
  assert.ok(r.diagnostics !== null);
  assert.ok(r.diagnostics.maxRelativeViolation < 1e-4, `violation ${r.diagnostics.maxRelativeViolation}`);
  assert.equal(r.diagnostics.negativeV, 0);
  assert.equal(r.curve.length, 3);
  const dir = mkdtempSync(join(tmpdir(), 'ddcl-bench-'));
  try {
    const files = writeReport(r, dir, 'test');
    const md = readFileSync(files.report, 'utf8');
    assert.ok(md.includes('| kmeans-raw |'));
    assert.ok(existsSync(files.figure));
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as {
      dataset: string;
      n: number;
      k: number;
      results: Record<string, unknown>[];
    };
    assert.equal(json.dataset, 'blobs');
    assert.equal(json.n, 120);
    assert.equal(json.k, 3);
    for (const key of ['method', 'acc_mean', 'acc_std', 'nmi_mean', 'ari_mean', 'seconds'])
      assert.ok(key in json.results[0]!, key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runClusteringBench rejects bad settings with typed errors', async () => {
  const { X, y } = blobs(40, 2, 2, 2);
  await assert.rejects(runClusteringBench('b', X, 40, 2, y, { seeds: 0 }), ClusteringError);
  await assert.rejects(runClusteringBench('b', X, 40, 2, y.subarray(1), {}), ClusteringError);
});

test('runClusteringBench best protocol without the manifold step: autoencoder path still runs', async () => {
  const { X, y } = blobs(90, 6, 3, 2);
  const r = await runClusteringBench('blobs', X, 90, 6, y, {
    seeds: 1,
    K: 3,
    engine: 'cpu',
    methods: ['ddcl', 'kmeans-embed'],
    override: (c) => ({
      ...c,
      train: { ...c.train, widths: [8], m: 4, pretrainEpochs: 2, batchSize: 45 },
      fineTune: c.fineTune && { ...c.fineTune, epochs: 2, batchSize: 45 },
      knn: 3,
      manifold: null,
      head: null,
    }),
  });
  assert.equal(r.curve.length, 2);
  for (const m of r.results) assert.ok(m.acc_mean >= 1 / 3 && m.acc_mean <= 1, `${m.method} ${m.acc_mean}`);
});

/** Two groups of rows on a line, far apart: 0..4 and 100..104. */
function twoGroups(): { X: Float32Array; n: number } {
  const X = Float32Array.from([0, 1, 2, 3, 4, 100, 101, 102, 103, 104]);
  return { X, n: 10 };
}

test('normalisedAffinity: symmetric, no self loops, no edge between disconnected groups', async () => {
  await initEngine('cpu');
  const { X, n } = twoGroups();
  const M = normalisedAffinity(X, n, 1, knnGraph(X, n, 1, 2));
  const w = new Map<string, number>();
  for (let i = 0; i < n; i++)
    for (let p = M.rowStart[i]!; p < M.rowStart[i + 1]!; p++) {
      const j = M.col[p]!;
      assert.notEqual(i, j);
      assert.equal(i < 5, j < 5, `edge ${i}-${j} crosses the groups`);
      w.set(`${i},${j}`, M.val[p]!);
    }
  for (const [key, v] of w) {
    const [i, j] = key.split(',');
    assert.ok(Math.abs(v - w.get(`${j},${i}`)!) < 1e-12, key);
    assert.ok(v > 0 && v <= 1);
  }
});

test('laplacianEigenmap: two disconnected groups map to two orthogonal unit directions', async () => {
  await initEngine('cpu');
  const { X, n } = twoGroups();
  const E = laplacianEigenmap(normalisedAffinity(X, n, 1, knnGraph(X, n, 1, 2)), { dims: 2, seed: 3 });
  const row = (i: number): number[] => [E.Y[2 * i]!, E.Y[2 * i + 1]!];
  const dot = (a: number[], b: number[]): number => a[0]! * b[0]! + a[1]! * b[1]!;
  for (let i = 0; i < n; i++) assert.ok(Math.abs(dot(row(i), row(i)) - 1) < 1e-5);
  // Within a group the rows coincide (cosine 1); across groups they are orthogonal.
  assert.ok(dot(row(0), row(4)) > 0.999, `${dot(row(0), row(4))}`);
  assert.ok(dot(row(5), row(9)) > 0.999);
  assert.ok(Math.abs(dot(row(0), row(7))) < 1e-3, `${dot(row(0), row(7))}`);
  assert.throws(
    () => laplacianEigenmap(normalisedAffinity(X, n, 1, knnGraph(X, n, 1, 2)), { dims: 10 }),
    ClusteringError,
  );
});

test('symmetricEigen: a known 2 x 2 and a diagonal', () => {
  // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1) and (1, -1) / sqrt 2.
  const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
  const order = values[0]! > values[1]! ? [0, 1] : [1, 0];
  assert.ok(Math.abs(values[order[0]!]! - 3) < 1e-12 && Math.abs(values[order[1]!]! - 1) < 1e-12);
  const v = [vectors[order[0]!]!, vectors[2 + order[0]!]!];
  assert.ok(Math.abs(Math.abs(v[0]!) - Math.SQRT1_2) < 1e-12 && Math.abs(v[0]! - v[1]!) < 1e-12);
  const d = symmetricEigen(Float64Array.from([5, 0, 0, 0, -1, 0, 0, 0, 2]), 3);
  assert.deepEqual(
    Array.from(d.values).sort((a, b) => a - b),
    [-1, 2, 5],
  );
});

test('laplacianEigenmap with Ritz steps: same span as the plain iteration; skipTrivial gives the Fiedler split', async () => {
  await initEngine('cpu');
  const { X, n } = twoGroups();
  const M = normalisedAffinity(X, n, 1, knnGraph(X, n, 1, 2));
  const E = laplacianEigenmap(M, { dims: 2, seed: 3, oversample: 2, tol: 1e-8 });
  const dot = (i: number, j: number): number => E.Y[2 * i]! * E.Y[2 * j]! + E.Y[2 * i + 1]! * E.Y[2 * j + 1]!;
  assert.ok(dot(0, 4) > 0.999 && dot(5, 9) > 0.999);
  assert.ok(Math.abs(dot(0, 7)) < 1e-3, `${dot(0, 7)}`);
  // A path of 20 points: after the trivial vector, the first eigenvector changes sign once, in the middle.
  const P = Float32Array.from({ length: 20 }, (_, i) => i);
  const F = laplacianEigenmap(normalisedAffinity(P, 20, 1, knnGraph(P, 20, 1, 2)), {
    dims: 1,
    seed: 1,
    oversample: 3,
    skipTrivial: true,
    tol: 1e-8,
  });
  const signs = Array.from(F.Y, (v) => Math.sign(v));
  assert.ok(
    signs.slice(0, 10).every((s) => s === signs[0]) && signs.slice(10).every((s) => s === -signs[0]!),
  );
});

test('fuzzyGraph and umapLayout: weights in [0, 1], each pair once, groups stay apart', async () => {
  await initEngine('cpu');
  const { X, n } = twoGroups();
  const g = knnGraph(X, n, 1, 3);
  const F = fuzzyGraph(X, n, 1, g);
  const seen = new Set<string>();
  for (let t = 0; t < F.w.length; t++) {
    assert.ok(F.from[t]! < F.to[t]!);
    assert.ok(F.w[t]! >= 0 && F.w[t]! <= 1 + 1e-12);
    const key = `${F.from[t]},${F.to[t]}`;
    assert.ok(!seen.has(key), key);
    seen.add(key);
  }
  const init = Float32Array.from(
    { length: n * 2 },
    (_, i) => (Math.floor(i / 2) < 5 ? -1 : 1) + 0.01 * (i % 3),
  );
  const Y = umapLayout(init, n, 2, F, { epochs: 50, seed: 1 });
  const centre = (a: number, b: number): number[] => {
    const c = [0, 0];
    for (let i = a; i < b; i++) for (let j = 0; j < 2; j++) c[j]! += Y[2 * i + j]! / (b - a);
    return c;
  };
  const [c0, c1] = [centre(0, 5), centre(5, 10)];
  const spread = Math.max(
    ...Array.from({ length: n }, (_, i) => {
      const c = i < 5 ? c0 : c1;
      return Math.hypot(Y[2 * i]! - c[0]!, Y[2 * i + 1]! - c[1]!);
    }),
  );
  assert.ok(Math.hypot(c0[0]! - c1[0]!, c0[1]! - c1[1]!) > 2 * spread, 'groups merged');
});

test('standardiseRows: unit rows; trainDdclHead recovers separable blobs with L_q = L_OLS + V', async () => {
  await initEngine('cpu');
  const { X, y } = blobs(150, 5, 3, 4);
  const H = standardiseRows(X, 150, 5);
  for (let i = 0; i < 150; i++) {
    let s = 0;
    for (let j = 0; j < 5; j++) s += H[i * 5 + j]! ** 2;
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
  const r = trainDdclHead(
    H,
    150,
    5,
    {
      K: 3,
      epochs: 5,
      batchSize: 50,
      lr: 5e-3,
      tau: 1,
      initScale: 20,
      kmeansInit: 3,
      usageWeight: 1,
      temperature: { start: 0.3, end: 0.1, schedule: 'geometric' },
    },
    'lq',
    0,
  );
  assert.equal(r.history.length, 5);
  assert.equal(r.prototypes.length, 15);
  assert.equal(clusterScores(y, r.labels).acc, 1);
  for (const h of r.history)
    assert.ok(h.identityGap < 1e-4 * Math.max(1, Math.abs(h.Lq)), `${h.identityGap}`);
  const E = manifoldEmbedding(X, 150, 5, { knn: 10, dims: 3, layout: 'umap', umapEpochs: 20, mix: 1 }, 0);
  assert.equal(E.length, 150 * 3);
  assert.ok(E.every((v) => Number.isFinite(v)));
});

test('fuzzyGraph mix = 0 keeps only mutual neighbours, mix = 1 every listed pair', async () => {
  await initEngine('cpu');
  // 0, 1, 2 are close; 10 lists 2 among its two nearest, but 2 does not list 10.
  const X = Float32Array.from([0, 1, 2, 10]);
  const g = knnGraph(X, 4, 1, 2);
  const listed = (i: number, j: number): boolean =>
    Array.from(g.index.subarray(i * 2, i * 2 + 2)).includes(j);
  const inter = fuzzyGraph(X, 4, 1, g, 0);
  for (let t = 0; t < inter.w.length; t++) {
    const [i, j] = [inter.from[t]!, inter.to[t]!];
    assert.ok(listed(i, j) && listed(j, i), `${i}-${j} is not mutual`);
  }
  const union = fuzzyGraph(X, 4, 1, g, 1);
  assert.ok(union.w.length > inter.w.length);
  assert.ok(Array.from(union.to).some((j, t) => j === 3 && union.from[t] === 2));
  assert.throws(() => fuzzyGraph(X, 4, 1, g, 2), ClusteringError);
});
