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
