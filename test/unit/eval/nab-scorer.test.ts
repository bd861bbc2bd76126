// NAB scorer on small hand-built files: values worked out from NAB's definitions (written with
// tanh, an independent form of the scaled sigmoid), tie handling of the sweep, typed errors and
// results-file I/O.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NabInputError,
  loadNabCorpus,
  normalizedScore,
  optimizeThreshold,
  probationaryLength,
  readNabResultsFile,
  readNabScoresCsv,
  readSeriesCsv,
  scaledSigmoid,
  scoreCorpus,
  scoreFile,
  sweepThresholds,
  windowsToRows,
  writeNabResults,
  writeNabScoresCsv,
  type CostMatrix,
  type SweepFile,
} from '../../../src/eval/nab/index.js';

const STANDARD: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
const close = (a: number, b: number, tol = 1e-12, msg?: string): void =>
  assert.ok(Math.abs(a - b) <= tol, msg ?? `${a} vs ${b}`);

test('scaledSigmoid matches the values in NAB sweeper.py docstring', () => {
  close(scaledSigmoid(-1), 0.98661, 1e-5);
  close(scaledSigmoid(-0.5), 0.84828, 1e-5);
  assert.equal(scaledSigmoid(0), 0);
  close(scaledSigmoid(1), -0.98661, 1e-5);
  assert.equal(scaledSigmoid(3.0001), -1);
  for (const x of [-1, -0.37, 0.2, 2.9]) close(scaledSigmoid(x), -Math.tanh(2.5 * x), 1e-15);
});

test('probationary length is min(floor(0.15 n), 750)', () => {
  assert.equal(probationaryLength(4032), 604);
  assert.equal(probationaryLength(1624), 243);
  assert.equal(probationaryLength(5000), 750);
  assert.equal(probationaryLength(22695), 750);
  assert.equal(probationaryLength(20), 3);
  assert.equal(probationaryLength(0), 0);
});

// 20 rows, probation 3, one window on rows 8..11 (width 4).
const W = [{ startRow: 8, endRow: 11 }];
function scoresAt(rows: number[], n = 20, hi = 0.9, lo = 0.1): Float64Array {
  const s = new Float64Array(n).fill(lo);
  for (const r of rows) s[r] = hi;
  return s;
}

test('scoreFile: FP before the window, earliest TP counts, FP after the window by distance', () => {
  const s = scoreFile(20, W, scoresAt([1, 5, 9, 10, 14, 19]), STANDARD, 0.5);
  const tpValue = Math.tanh(2.5 * 0.75) / Math.tanh(2.5); // y = -(11 - 9 + 1)/4
  const fpAfter1 = -Math.tanh(2.5 * 1) * 0.11; // d = (14 - 11)/3
  const fpAfter2 = -Math.tanh(2.5 * (8 / 3)) * 0.11; // d = (19 - 11)/3
  close(s.rawScore, -0.11 + tpValue + fpAfter1 + fpAfter2);
  // Row 1 is in probation; rows 3..19 are scored: 4 window rows, 13 others.
  assert.deepEqual([s.tp, s.fn, s.fp, s.tn], [2, 2, 3, 10]);
  assert.equal(s.totalCount, 20);
  assert.equal(s.scoredCount, 17);
  // Published-results layout: window value on its first row, each FP on its row.
  const expectRow = new Float64Array(20);
  expectRow[5] = -0.11;
  expectRow[8] = tpValue;
  expectRow[14] = fpAfter1;
  expectRow[19] = fpAfter2;
  for (let i = 0; i < 20; i++) close(s.perRowS[i]!, expectRow[i]!, 1e-12, `row ${i}`);
  assert.deepEqual([...s.windowDetections], [9]);
  // The sweeper's per-row score is defined on every row.
  close(s.sweepScore[8]!, 1, 1e-15); // left edge: sigma(-1)/sigma(-1)
  close(s.sweepScore[11]!, Math.tanh(2.5 / 4) / Math.tanh(2.5));
  close(s.sweepScore[0]!, -0.11, 0);
});

test('scoreFile: a missed window costs fnWeight; detections on the threshold count (>=)', () => {
  const none = scoreFile(20, W, scoresAt([]), STANDARD, 0.5);
  assert.equal(none.rawScore, -1);
  assert.equal(none.perRowS[8], -1);
  const lowFN: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 };
  assert.equal(scoreFile(20, W, scoresAt([]), lowFN, 0.5).rawScore, -2);
  const onThr = scoreFile(20, W, scoresAt([8], 20, 0.5), STANDARD, 0.5);
  close(onThr.rawScore, 1, 1e-15);
  assert.equal(onThr.tp, 1);
});

test('scoreFile: a window wholly in probation is not counted; rows before the first window cost -fpWeight', () => {
  const n = 100; // probation 15
  const s = scoreFile(
    n,
    [
      { startRow: 2, endRow: 6 },
      { startRow: 50, endRow: 59 },
    ],
    scoresAt([20, 99], n),
    STANDARD,
    0.5,
  );
  // Row 20 is after window 1 by 14 rows of width 5: d = 14/4 > 3 -> -1 * fpWeight.
  // Row 99: d = 40/9 > 3 -> -fpWeight. Window 2 missed: -1. Window 1: not scored at all.
  close(s.rawScore, -0.11 - 0.11 - 1);
  assert.equal(s.fn, 10);
  assert.equal(s.perRowS[2], 0);
  assert.equal(s.perRowS[50], -1);
});

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

test('sweepThresholds agrees with scoreFile at every threshold (random files with ties)', () => {
  const rnd = lcg(7);
  const files: SweepFile[] = [];
  for (let f = 0; f < 4; f++) {
    const n = 300 + f * 50;
    // Scores on a grid of 40 values, so many ties within and across files.
    const scores = Array.from({ length: n }, () => Math.floor(rnd() * 40) / 40);
    const windows =
      f === 3
        ? []
        : [
            { startRow: 80 + f, endRow: 110 + f },
            { startRow: 200, endRow: 200 + 10 * f },
          ];
    files.push({ name: `f${f}`, rows: n, windows, scores });
  }
  const c = sweepThresholds(files, STANDARD);
  assert.equal(c.thresholds[0], 1.1);
  assert.ok(c.thresholds.length <= 41);
  for (let i = 1; i < c.thresholds.length; i++) assert.ok(c.thresholds[i]! < c.thresholds[i - 1]!);
  for (let i = 0; i < c.thresholds.length; i++) {
    let raw = 0;
    let tp = 0;
    let tn = 0;
    let fp = 0;
    let fn = 0;
    for (const f of files) {
      const s = scoreFile(f.rows, f.windows, f.scores, STANDARD, c.thresholds[i]!);
      raw += s.rawScore;
      tp += s.tp;
      tn += s.tn;
      fp += s.fp;
      fn += s.fn;
    }
    close(raw, c.scores[i]!, 1e-9, `threshold ${c.thresholds[i]}`);
    assert.deepEqual([tp, tn, fp, fn], [c.tp[i], c.tn[i], c.fp[i], c.fn[i]]);
  }
  // The incremental sum (used when the exact re-sum would be too slow) gives the same curve.
  const inc = sweepThresholds(files, STANDARD, { exactSumBudget: 0 });
  for (let i = 0; i < c.scores.length; i++) close(inc.scores[i]!, c.scores[i]!, 1e-9);
  const best = optimizeThreshold(files, STANDARD);
  assert.equal(best.score, Math.max(...c.scores));
});

test('optimizeThreshold: among equal scores the highest threshold wins (stable sort, as NAB)', () => {
  // Window rows 8..11. Row 8 at 0.9 is the best possible detection; rows 9..11 at 0.7 and 0.6
  // add nothing (only the earliest detection counts), so thresholds 0.9, 0.7, 0.6 tie.
  const s = new Float64Array(20).fill(0.1);
  s[8] = 0.9;
  s[9] = 0.7;
  s[10] = 0.6;
  const c = sweepThresholds([{ name: 'a', rows: 20, windows: W, scores: s }], STANDARD);
  assert.deepEqual([...c.thresholds], [1.1, 0.9, 0.7, 0.6, 0.1]);
  assert.deepEqual([...c.scores.slice(0, 4)], [-1, 1, 1, 1]);
  const best = optimizeThreshold([{ name: 'a', rows: 20, windows: W, scores: s }], STANDARD);
  assert.equal(best.threshold, 0.9);
  assert.deepEqual([best.tp, best.fp, best.fn], [1, 0, 3]);
  // Nothing worth detecting: the optimum is NAB's starting threshold 1.1 (no detections).
  const flat = optimizeThreshold(
    [{ name: 'b', rows: 20, windows: [], scores: new Float64Array(20).fill(0.5) }],
    STANDARD,
  );
  assert.equal(flat.threshold, 1.1);
  assert.equal(flat.score, 0);
});

test('normalizedScore: null detector -> 0, perfect -> 100; scoreCorpus uses it', () => {
  assert.equal(normalizedScore(-3, 3, STANDARD), 0);
  assert.equal(normalizedScore(3, 3, STANDARD), 100);
  assert.equal(normalizedScore(0, 4, { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 }), (100 * 8) / 12);
  const s = new Float64Array(20).fill(0.1);
  s[8] = 0.9; // perfect detection at the window's left edge
  const r = scoreCorpus([{ name: 'a', rows: 20, windows: W, scores: s }], { standard: STANDARD });
  assert.equal(r.thresholds.standard, 0.9);
  close(r.scores.standard, 100, 1e-12);
  const given = scoreCorpus(
    [{ name: 'a', rows: 20, windows: W, scores: s }],
    { standard: STANDARD },
    { thresholds: { standard: 0.95 } },
  );
  assert.equal(given.scores.standard, 0);
  assert.equal(given.perFile.standard[0]!.fn, 4);
});

test('typed errors: missing files, bad CSV rows, windows off the rows, NaN scores, length mismatch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nab-'));
  try {
    assert.throws(
      () => loadNabCorpus(join(dir, 'nope')),
      (e: unknown) =>
        e instanceof NabInputError &&
        e.problem === 'missing-file' &&
        e.file.endsWith('combined_windows.json'),
    );
    const csv = join(dir, 's.csv');
    writeFileSync(csv, 'timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n');
    assert.throws(
      () => readSeriesCsv(csv),
      (e: unknown) => e instanceof NabInputError && e.problem === 'bad-row' && e.line === 3 && e.file === csv,
    );
    writeFileSync(csv, 'timestamp,value\n2014-01-01 00:00:00,1,2\n');
    assert.throws(
      () => readSeriesCsv(csv),
      (e: unknown) => e instanceof NabInputError && e.problem === 'bad-row' && e.line === 2,
    );
    writeFileSync(csv, 'timestamp,val\n2014-01-01 00:00:00,1\n');
    assert.throws(
      () => readSeriesCsv(csv),
      (e: unknown) => e instanceof NabInputError && e.problem === 'bad-header',
    );
    writeFileSync(csv, 'timestamp,value\n2014-13-01 00:00:00,1\n');
    assert.throws(
      () => readSeriesCsv(csv),
      (e: unknown) => e instanceof NabInputError && e.problem === 'bad-timestamp',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const times = Float64Array.from([0, 1, 2, 3, 4, 5], (i) => Date.UTC(2014, 0, 1, 0, 5 * i) * 1000);
  const win: [string, string][] = [['2014-01-01 00:07:00.000000', '2014-01-01 00:16:00.000000']];
  assert.throws(
    () => windowsToRows('x.csv', times, win),
    (e: unknown) => e instanceof NabInputError && e.problem === 'bad-window',
  );
  const loose = windowsToRows('x.csv', times, win, false);
  assert.deepEqual([loose[0]!.startRow, loose[0]!.endRow], [2, 3]);
  const exact = windowsToRows('x.csv', times, [['2014-01-01 00:05:00.000000', '2014-01-01 00:20:00.000000']]);
  assert.deepEqual([exact[0]!.startRow, exact[0]!.endRow, exact[0]!.start], [1, 4, '2014-01-01 00:05:00']);
  assert.throws(
    () =>
      windowsToRows('x.csv', times, [
        ['2014-01-01 00:10:00', '2014-01-01 00:15:00'],
        ['2014-01-01 00:15:00', '2014-01-01 00:20:00'],
      ]),
    (e: unknown) => e instanceof NabInputError && e.problem === 'bad-window',
  );
  const nan = scoresAt([]);
  nan[4] = Number.NaN;
  assert.throws(
    () => scoreFile(20, W, nan, STANDARD, 0.5, { name: 'f.csv' }),
    (e: unknown) => e instanceof NabInputError && e.file === 'f.csv' && e.problem === 'bad-argument',
  );
  assert.throws(
    () => scoreFile(21, W, scoresAt([]), STANDARD, 0.5),
    (e: unknown) => e instanceof NabInputError && e.problem === 'length-mismatch',
  );
  assert.throws(
    () => scoreFile(10, W, scoresAt([], 10), STANDARD, 0.5),
    (e: unknown) => e instanceof NabInputError && e.problem === 'bad-window',
  );
});

test('a NAB tree on disk: load, score, write results and scores files, read them back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nab-'));
  try {
    mkdirSync(join(dir, 'data', 'cat'), { recursive: true });
    mkdirSync(join(dir, 'labels'));
    mkdirSync(join(dir, 'config'));
    const lines = ['timestamp,value'];
    for (let i = 0; i < 20; i++)
      lines.push(
        `2014-01-01 ${String(Math.floor(i / 12)).padStart(2, '0')}:${String((i % 12) * 5).padStart(2, '0')}:00,${i * 1.5}`,
      );
    writeFileSync(join(dir, 'data', 'cat', 'f.csv'), lines.join('\n') + '\n');
    writeFileSync(
      join(dir, 'labels', 'combined_windows.json'),
      JSON.stringify({ 'cat/f.csv': [['2014-01-01 00:40:00.000000', '2014-01-01 00:55:00.000000']] }),
    );
    writeFileSync(
      join(dir, 'config', 'profiles.json'),
      JSON.stringify({ standard: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11, tnWeight: 1 } } }),
    );
    const c = loadNabCorpus(dir);
    assert.equal(c.files.length, 1);
    const f = c.files[0]!;
    assert.deepEqual([f.windows[0]!.startRow, f.windows[0]!.endRow], [8, 11]);
    assert.deepEqual(c.thresholds, {});
    const scores = scoresAt([5, 9, 14]);
    const s = scoreFile(f.times, f.windows, scores, c.profiles['standard']!, 0.5);
    const [path] = writeNabResults(join(dir, 'results'), 'det', [
      { series: f, anomalyScores: scores, perRowS: { standard: s.perRowS } },
    ]);
    assert.equal(path, join(dir, 'results', 'det', 'cat', 'det_f.csv'));
    assert.equal(
      readFileSync(path!, 'utf8').split('\n')[0],
      'timestamp,value,anomaly_score,label,S(t)_standard',
    );
    const back = readNabResultsFile(path!);
    assert.deepEqual([...back.anomalyScores], [...scores]);
    assert.deepEqual([...back.values], [...f.values]);
    assert.deepEqual([...back.labels!], [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...back.columns.get('S(t)_standard')!], [...s.perRowS]);
    const sp = writeNabScoresCsv(join(dir, 'results'), 'det', 'standard', [
      {
        file: f.key,
        threshold: 0.5,
        score: s.rawScore,
        tp: s.tp,
        tn: s.tn,
        fp: s.fp,
        fn: s.fn,
        totalCount: s.totalCount,
      },
    ]);
    const read = readNabScoresCsv(sp);
    assert.equal(read.rows.length, 1);
    assert.equal(read.rows[0]!.score, s.rawScore);
    assert.deepEqual([read.rows[0]!.tp, read.rows[0]!.fp, read.totals!.tp], [s.tp, s.fp, s.tp]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
