// The streaming evaluation protocol (no look-ahead), `ddcl eval nab|tabular --json` contracts, and
// tabular AUCs on a small synthetic set. Small models, a few seconds in all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { RangeCheck, runStream, type StreamConfig } from '../../../src/eval/stream/detector.js';
import { nabFeatureSpec, defaultNabConfig } from '../../../src/eval/stream/nab.js';
import { rocAuc } from '../../../src/eval/metrics.js';
import { evalTabular } from '../../../src/eval/tabular.js';
import { Rng } from '../../../src/model/rng.js';
import { npy, npz, tempDir } from '../data/helpers.js';

const T0 = Date.UTC(2014, 0, 1);
const FIVE_MIN = 300_000;

function series(n: number, seed: number, spikeAt = -1): { series: string; ts: number; value: number }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    series: 's',
    ts: T0 + i * FIVE_MIN,
    value: 10 + 3 * Math.sin((2 * Math.PI * i) / 288) + 0.2 * rng.normal() + (i === spikeAt ? 12 : 0),
  }));
}

const tiny: StreamConfig = {
  spec: nabFeatureSpec({ ...defaultNabConfig, window: 4 }),
  train: { widths: [8], m: 4, K: 4, epochs: 2, batchSize: 64, engine: 'auto', seed: 0 },
  calibration: { rawScore: 's_min', likelihood: { shortWindow: 5, longWindow: 100 } },
  retrainEvery: 120,
  trainWindow: 200,
  alertGrade: 0.999,
  cooldown: 10,
  cooldownFactor: 0,
  scoreBatch: 64,
};

test('streaming protocol: the scores of the first k rows do not depend on the rows after them', async () => {
  const recs = series(520, 1, 400);
  const full = await runStream(recs, 80, tiny);
  const k = 330; // past two retrains (at 200 and 320): later models must not see later rows either
  const prefix = await runStream(recs.slice(0, k), 80, tiny);
  assert.equal(full.models, 4); // built at rows 80, 200, 320, 440
  assert.equal(prefix.models, 3);
  assert.deepEqual(Array.from(prefix.scores), Array.from(full.scores.subarray(0, k)));
  assert.deepEqual(Array.from(prefix.grades), Array.from(full.grades.subarray(0, k)));
  // Rows before the first model are not scored; the rest are.
  assert.ok(full.scores.subarray(0, 80).every((v) => v === 0));
  assert.ok(full.nearest.subarray(80).every((v) => v >= 0));
  assert.ok(full.grades.subarray(80).every((g) => g >= 0 && g <= 1));
});

test('streaming protocol with the range check: still no look-ahead, and the spike is flagged', async () => {
  const recs = series(520, 1, 400);
  const cfg: StreamConfig = { ...tiny, spatial: { field: 'value', tolerance: 0.05, window: 300 } };
  const full = await runStream(recs, 80, cfg);
  const prefix = await runStream(recs.slice(0, 330), 80, cfg);
  assert.deepEqual(Array.from(prefix.scores), Array.from(full.scores.subarray(0, 330)));
  // The spike (value ~ +12 over a range of ~6) scores at least the alert surprise.
  assert.ok(full.scores[400]! >= -Math.log10(1 - tiny.alertGrade), `score ${full.scores[400]}`);
});

test('RangeCheck: outside the widened range of the previous rows only', () => {
  const recs = [0, 10, 5, 10.4, 11, -1, 3, 100].map((value) => ({ value }));
  const r = new RangeCheck(recs, { field: 'value', tolerance: 0.05, window: 3 });
  assert.equal(r.outside(0), false); // no history
  assert.equal(r.outside(1), false); // one value: no range yet
  assert.equal(r.outside(2), false);
  assert.equal(r.outside(3), false); // range [0, 10] widened by 0.5
  assert.equal(r.outside(4), true); // window 3: rows 1..3 = [5, 10.4] widened by 0.27; 11 above
  assert.equal(r.outside(5), true); // rows 2..4 = [5, 11]: -1 below
  assert.equal(r.outside(6), false); // rows 3..5 = [-1, 11]
  assert.equal(r.outside(7), true);
});

function writeNabTree(dir: string): void {
  mkdirSync(join(dir, 'data', 'synthetic'), { recursive: true });
  mkdirSync(join(dir, 'labels'), { recursive: true });
  mkdirSync(join(dir, 'config'), { recursive: true });
  const fmt = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  const windows: Record<string, [string, string][]> = {};
  for (const [name, spike] of [
    ['a.csv', 300],
    ['b.csv', -1],
  ] as const) {
    const recs = series(400, name === 'a.csv' ? 2 : 3, spike);
    writeFileSync(
      join(dir, 'data', 'synthetic', name),
      'timestamp,value\n' + recs.map((r) => `${fmt(r.ts)},${r.value}`).join('\n') + '\n',
    );
    windows[`synthetic/${name}`] =
      spike < 0 ? [] : [[`${fmt(recs[spike - 20]!.ts)}.000000`, `${fmt(recs[spike + 20]!.ts)}.000000`]];
  }
  writeFileSync(join(dir, 'labels', 'combined_windows.json'), JSON.stringify(windows));
  const prof = (fp: number, fn: number) => ({
    CostMatrix: { tpWeight: 1, fnWeight: fn, fpWeight: fp, tnWeight: 1 },
  });
  writeFileSync(
    join(dir, 'config', 'profiles.json'),
    JSON.stringify({
      standard: prof(0.11, 1),
      reward_low_FP_rate: prof(0.22, 1),
      reward_low_FN_rate: prof(0.11, 2),
    }),
  );
}

/** Runs the CLI in a child process (the test runner owns this process's stdout). */
async function captureJson(argv: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  // main.js: the compiled file under dist/, and main.ts through tsx when the test runs from source.
  const cli = new URL('../../../src/cli/main.js', import.meta.url).href;
  const code = `const { main } = await import(${JSON.stringify(cli)}); process.exitCode = await main(${JSON.stringify(argv)});`;
  const r = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code]);
  const lines = r.stdout.trim().split('\n');
  return { code: r.code, json: JSON.parse(lines[lines.length - 1]!) as Record<string, unknown> };
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else if (err) reject(new Error(`exit ${String(err.code)}: ${stderr}`));
      else resolve({ code: 0, stdout });
    });
  });
}

test('ddcl eval nab --json: the contract fields, NAB result files written', async () => {
  const t = tempDir();
  try {
    writeNabTree(t.dir);
    const out = join(t.dir, 'results');
    const { code, json } = await captureJson(['eval', 'nab', '--data', t.dir, '--results', out, '--json']);
    assert.equal(code, 0);
    assert.equal(json.files, 2);
    assert.equal(json.windows, 1);
    for (const group of ['scores', 'label_free'] as const) {
      const g = json[group] as Record<string, unknown>;
      for (const p of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'])
        assert.equal(typeof g[p], 'number', `${group}.${p}`);
    }
    const th = json.thresholds as Record<string, unknown>;
    assert.equal(typeof th.standard, 'number');
    assert.ok(existsSync(join(out, 'ddcl', 'synthetic', 'ddcl_a.csv')));
  } finally {
    t.cleanup();
  }
});

function blobs(seed: number): { X: Float32Array; y: Int32Array; n: number; d: number } {
  const rng = new Rng(seed);
  const n = 600;
  const d = 4;
  const X = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const out = i % 30 === 0;
    y[i] = out ? 1 : 0;
    const c = i % 2 ? 3 : -3;
    // Outliers scattered on a sphere of radius 12 around the origin, at least 6 from either blob.
    const dir = Array.from({ length: d }, () => rng.normal());
    const len = Math.hypot(...dir);
    for (let j = 0; j < d; j++) X[i * d + j] = out ? (12 * dir[j]!) / len : c + 0.5 * rng.normal();
  }
  return { X, y, n, d };
}

test('tabular: outliers of two gaussian blobs are ranked above the inliers', async () => {
  const { X, y, n, d } = blobs(5);
  const r = await evalTabular(
    'blobs',
    { X, y, n, d, columns: ['a', 'b', 'c', 'd'] },
    {
      train: { widths: [16], m: 4, K: 4, epochs: 5, batchSize: 128, seed: 0, standardize: false },
      rawScore: 's_min',
      models: 1,
      combine: { mode: 'max' },
    },
  );
  assert.equal(r.n, n);
  assert.equal(r.anomalies, 20);
  assert.ok(r.auc_roc > 0.9, `ROC-AUC ${r.auc_roc}`);
  assert.ok(r.auc_pr > 0.5, `PR-AUC ${r.auc_pr}`);
});

test("tabular: combine 'sum' (raw score normed globally, reconstruction, input mixture and global deviation z) ranks the blobs' outliers first", async () => {
  const { X, y, n, d } = blobs(7);
  const r = await evalTabular(
    'blobs',
    { X, y, n, d, columns: ['a', 'b', 'c', 'd'] },
    {
      train: {
        widths: [16],
        m: 4,
        K: 4,
        epochs: 5,
        pretrainEpochs: 2,
        lambda: 1,
        batchSize: 128,
        seed: 0,
        standardize: false,
      },
      rawScore: 's_min',
      models: 2,
      combine: { mode: 'sum', weights: { recon: 0.5, inputMixture: 2 } },
      inputMixture: true,
      globalDeviation: true,
    },
  );
  assert.equal(r.scores.length, n);
  assert.ok(r.auc_roc > 0.9, `ROC-AUC ${r.auc_roc}`);
});

test('ddcl eval tabular --json: the contract fields', async () => {
  const { X, y, n, d } = blobs(6);
  const t = tempDir();
  try {
    // npz stores X column-major, as ADBench's files do.
    const cm: number[] = [];
    for (let j = 0; j < d; j++) for (let i = 0; i < n; i++) cm.push(X[i * d + j]!);
    const file = t.write(
      'blobs.npz',
      npz({ X: npy('<f8', [n, d], cm, { fortran: true }), y: npy('<i8', [n], Array.from(y)) }),
    );
    const { code, json } = await captureJson(['eval', 'tabular', '--file', file, '--json']);
    assert.equal(code, 0);
    assert.equal(json.dataset, 'blobs');
    assert.equal(json.n, n);
    assert.equal(json.d, d);
    for (const k of ['auc_roc', 'auc_pr', 'seconds']) assert.equal(typeof json[k], 'number', k);
    assert.ok((json.auc_roc as number) > 0.8, `ROC-AUC ${String(json.auc_roc)}`);
  } finally {
    t.cleanup();
  }
});

test("ddcl train's default scoring (the daemon's: s_mix, input mixture, global deviation, combine sum): calibration.json carries it, ddcl score grades with it; --terms none --combine max is the legacy grading", async () => {
  const { X, y, n, d } = blobs(8);
  const t = tempDir();
  try {
    let csv = 'a,b,c,d\n';
    for (let i = 0; i < n; i++) csv += Array.from(X.subarray(i * d, (i + 1) * d)).join(',') + '\n';
    const data = t.write('blobs.csv', csv);
    const reg = join(t.dir, 'models');
    const args = ['train', '--data', data, '--out', reg, '--k', '4', '--epochs', '5'];
    const trained = await captureJson([...args, '--weights', 'recon=0.25', '--json']);
    assert.equal(trained.code, 0);
    const version = readFileSync(join(reg, 'default', 'current'), 'utf8').trim();
    const cal = JSON.parse(readFileSync(join(reg, 'default', version, 'calibration.json'), 'utf8')) as {
      combine?: unknown;
      inputMixture?: { proto: number[] };
      globalDeviation?: { mean: number[] };
    };
    assert.deepEqual(cal.combine, {
      mode: 'sum',
      weights: { raw: 1, recon: 0.25, deviation: 1, inputMixture: 1, globalDeviation: 1 },
    });
    assert.ok(cal.inputMixture && cal.inputMixture.proto.length >= 1);
    assert.equal(cal.globalDeviation?.mean.length, d);
    const out = join(t.dir, 'scores.csv');
    const scored = await captureJson(['score', '--model', reg, '--data', data, '--out', out, '--json']);
    assert.equal(scored.code, 0);
    const z = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => /^\d/.test(l))
      .map((l) => Number(l.split(',')[2]));
    assert.equal(z.length, n);
    assert.ok(rocAuc(Array.from(y), z) > 0.9, `ROC-AUC of the graded z ${rocAuc(Array.from(y), z)}`);
    // The legacy grading: no extra terms, the largest z (per-prototype z of s_q).
    const legacy = [
      '--terms',
      'none',
      '--combine',
      'max',
      '--raw-score',
      's_q',
      '--name',
      'legacy',
      '--json',
    ];
    assert.equal((await captureJson([...args, ...legacy])).code, 0);
    const v2 = readFileSync(join(reg, 'legacy', 'current'), 'utf8').trim();
    const cal2 = JSON.parse(readFileSync(join(reg, 'legacy', v2, 'calibration.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(cal2.rawScore, 's_q');
    for (const k of ['combine', 'inputMixture', 'globalDeviation', 'deviation'])
      assert.equal(cal2[k], undefined, k);
    // Bad --weights and --terms are refused with the reason.
    await assert.rejects(
      captureJson([...args, '--weights', 'recon=half', '--json']),
      /--weights: "recon=half" is not TERM=W/,
    );
    await assert.rejects(captureJson([...args, '--weights', 'noise=1', '--json']), /unknown term "noise"/);
    await assert.rejects(
      captureJson([...args, '--terms', 'kmeans', '--json']),
      /--terms: unknown term "kmeans"/,
    );
  } finally {
    t.cleanup();
  }
});
