// The NAB port against NAB's published results (../shared/data/nab): the Numenta HTM per-row
// outputs and every detector's per-file scores. Skips when the data are not there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import {
  NAB_PROFILES,
  loadNabCorpus,
  normalizedScore,
  optimizeThreshold,
  prepareFile,
  probationaryLength,
  readDetectorResults,
  readNabScoresCsv,
  scoreCorpus,
  scoreFile,
  scorePrepared,
  scoresFilePath,
  sweepThresholds,
  windowLabels,
  type NabCorpus,
  type DetectorResults,
  type SweepFile,
} from '../../../src/eval/nab/index.js';

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}
const NAB_DIR = process.env['NAB_DATA_DIR'] ?? resolve(repoRoot(), '..', 'shared', 'data', 'nab');
const RESULTS = join(NAB_DIR, 'results');
const missing = !existsSync(join(NAB_DIR, 'labels', 'combined_windows.json'))
  ? `NAB data not found at ${NAB_DIR} (set NAB_DATA_DIR); skipping`
  : false;
if (missing) console.log(`${missing}`);

let corpus: NabCorpus | undefined;
let numenta: DetectorResults[] | undefined;
function load(): { corpus: NabCorpus; numenta: DetectorResults[] } {
  corpus ??= loadNabCorpus(NAB_DIR);
  numenta ??= readDetectorResults(RESULTS, 'numenta', corpus);
  return { corpus, numenta };
}
function sweepFiles(res: DetectorResults[]): SweepFile[] {
  return res.map(({ series, results }) => ({
    name: series.key,
    rows: series.times,
    windows: series.windows,
    scores: results.anomalyScores,
  }));
}
function publishedThreshold(c: NabCorpus, det: string, prof: string): number {
  const e = c.thresholds[det]?.[prof];
  assert.ok(e, `thresholds.json has ${det}.${prof}`);
  return e.threshold;
}

test(
  'corpus: 24 files, 39 windows, label column of the published outputs = window rows',
  { skip: missing },
  () => {
    const { corpus: c, numenta: res } = load();
    assert.equal(c.files.length, 24);
    assert.equal(c.windowCount, 39);
    assert.equal(res.length, 24);
    for (const { series, results } of res) {
      assert.ok(results.labels, `${series.key} has a label column`);
      assert.deepEqual(windowLabels(series.times.length, series.windows), results.labels, series.key);
      for (const w of series.windows) {
        assert.equal(series.timestamps[w.startRow], w.start);
        assert.equal(series.timestamps[w.endRow], w.end);
      }
    }
  },
);

for (const prof of NAB_PROFILES) {
  test(
    `numenta ${prof}: per-row S(t) and per-file Score/TP/TN/FP/FN reproduce the published results`,
    { skip: missing },
    () => {
      const { corpus: c, numenta: res } = load();
      const cost = c.profiles[prof]!;
      const thr = publishedThreshold(c, 'numenta', prof);
      const pub = readNabScoresCsv(scoresFilePath(RESULTS, 'numenta', prof)).rows;
      assert.equal(pub.length, 24);
      let maxRow = 0;
      let maxFile = 0;
      for (const { series, results } of res) {
        const s = scoreFile(series.times, series.windows, results.anomalyScores, cost, thr, {
          name: series.key,
        });
        const col = results.columns.get(`S(t)_${prof}`);
        assert.ok(col, `${series.key}: S(t)_${prof} column`);
        for (let i = 0; i < col.length; i++) {
          const d = Math.abs(col[i]! - s.perRowS[i]!);
          if (d > maxRow) maxRow = d;
          assert.ok(d <= 1e-6, `${series.key} row ${i}: published S(t) ${col[i]} vs ${s.perRowS[i]}`);
        }
        const p = pub.find((r) => r.file === series.key);
        assert.ok(p, `published row for ${series.key}`);
        assert.deepEqual([s.tp, s.tn, s.fp, s.fn], [p.tp, p.tn, p.fp, p.fn], series.key);
        assert.equal(s.totalCount, p.totalCount, `${series.key} Total_Count`);
        assert.equal(s.scoredCount, series.times.length - Math.ceil(probationaryLength(series.times.length)));
        const d = Math.abs(s.rawScore - p.score);
        if (d > maxFile) maxFile = d;
        assert.ok(d <= 1e-6, `${series.key}: Score ${s.rawScore} vs published ${p.score}`);
      }
      console.log(
        `numenta ${prof}: max |dS(t)| = ${maxRow.toExponential(2)}, max |dScore| = ${maxFile.toExponential(2)}`,
      );
    },
  );
}

test(
  'numenta: normalised corpus score = what the published per-file results imply',
  { skip: missing },
  () => {
    const { corpus: c, numenta: res } = load();
    const thresholds = Object.fromEntries(NAB_PROFILES.map((p) => [p, publishedThreshold(c, 'numenta', p)]));
    const ours = scoreCorpus(sweepFiles(res), c.profiles, { thresholds });
    for (const prof of NAB_PROFILES) {
      const cost = c.profiles[prof]!;
      const pubRaw = readNabScoresCsv(scoresFilePath(RESULTS, 'numenta', prof)).rows.reduce(
        (a, r) => a + r.score,
        0,
      );
      // runner.normalize takes the baseline from the null detector's results.
      const nullRaw = readNabScoresCsv(scoresFilePath(RESULTS, 'null', prof)).rows.reduce(
        (a, r) => a + r.score,
        0,
      );
      assert.ok(Math.abs(nullRaw - -cost.fnWeight * c.windowCount) < 1e-9, `null raw ${nullRaw}`);
      const expected = (100 * (pubRaw - nullRaw)) / (cost.tpWeight * c.windowCount - nullRaw);
      assert.ok(
        Math.abs(ours.rawScores[prof] - pubRaw) < 1e-6,
        `${prof} raw ${ours.rawScores[prof]} vs ${pubRaw}`,
      );
      assert.ok(
        Math.abs(ours.scores[prof] - expected) < 1e-6,
        `${prof} normalised ${ours.scores[prof]} vs ${expected}`,
      );
      assert.ok(Math.abs(normalizedScore(pubRaw, c.windowCount, cost, nullRaw) - expected) < 1e-12);
      console.log(
        `numenta ${prof} on these 24 files: normalised ${ours.scores[prof].toFixed(4)} (from published: ${expected.toFixed(4)})`,
      );
    }
  },
);

test(
  'numenta: the threshold sweep finds a score >= the published threshold, and is the true maximum',
  { skip: missing },
  () => {
    const { corpus: c, numenta: res } = load();
    const files = sweepFiles(res);
    for (const prof of NAB_PROFILES) {
      const cost = c.profiles[prof]!;
      const thr = publishedThreshold(c, 'numenta', prof);
      const pubRaw = readNabScoresCsv(scoresFilePath(RESULTS, 'numenta', prof)).rows.reduce(
        (a, r) => a + r.score,
        0,
      );
      const curve = sweepThresholds(files, cost);
      const best = optimizeThreshold(files, cost);
      assert.ok(best.score >= pubRaw - 1e-9, `${prof}: optimum ${best.score} < published ${pubRaw}`);
      // The sweep entry that holds the published threshold's detections (score >= thr).
      let k = 0;
      while (k + 1 < curve.thresholds.length && curve.thresholds[k + 1]! >= thr) k++;
      assert.ok(
        Math.abs(curve.scores[k]! - pubRaw) < 1e-6,
        `${prof}: sweep at published threshold ${curve.scores[k]} vs ${pubRaw}`,
      );
      // Cross-check the sweep against direct scoring at ~300 thresholds and at the optimum.
      const prepared = files.map((f) => prepareFile(f.name, f.scores.length, f.windows, cost));
      const direct = (t: number): { raw: number; tp: number; fp: number } => {
        let raw = 0;
        let tp = 0;
        let fp = 0;
        prepared.forEach((p, i) => {
          const s = scorePrepared(p, files[i]!.scores, cost, t);
          raw += s.rawScore;
          tp += s.tp;
          fp += s.fp;
        });
        return { raw, tp, fp };
      };
      const step = Math.max(1, Math.floor(curve.thresholds.length / 300));
      for (let i = 0; i < curve.thresholds.length; i += step) {
        const d = direct(curve.thresholds[i]!);
        // Summation order differs (thousands of FP terms at low thresholds): relative 1e-10.
        assert.ok(
          Math.abs(d.raw - curve.scores[i]!) <= 1e-10 * Math.max(1, Math.abs(d.raw)),
          `${prof} t=${curve.thresholds[i]}: ${d.raw} vs ${curve.scores[i]}`,
        );
        assert.equal(d.tp, curve.tp[i]);
        assert.equal(d.fp, curve.fp[i]);
        assert.ok(d.raw <= best.score + 1e-9);
      }
      const atBest = direct(best.threshold);
      assert.ok(Math.abs(atBest.raw - best.score) < 1e-9);
      console.log(
        `numenta ${prof}: published threshold ${thr} -> ${pubRaw.toFixed(9)}; sweep optimum ${best.threshold} -> ${best.score.toFixed(9)} over ${curve.thresholds.length} thresholds`,
      );
    }
  },
);

test(
  'every published detector: TP+TN+FP+FN = N - probation and TP+FN = scored window rows',
  { skip: missing },
  () => {
    const { corpus: c } = load();
    const detectors = readdirSync(RESULTS).filter((d) => existsSync(scoresFilePath(RESULTS, d, 'standard')));
    assert.ok(detectors.length >= 16, `found ${detectors.length} detectors`);
    let checked = 0;
    const newer = new Set<string>();
    const olderProbation: string[] = [];
    const partial = new Set<string>();
    let rowsTotal = 0;
    for (const det of detectors) {
      for (const prof of NAB_PROFILES) {
        const { rows } = readNabScoresCsv(scoresFilePath(RESULTS, det, prof));
        // Every detector's results cover the 24 files, except `random`'s, which cover 15.
        assert.equal(new Set(rows.map((r) => r.file)).size, rows.length, `${det} ${prof}: distinct files`);
        if (rows.length !== 24) partial.add(`${det}(${rows.length})`);
        rowsTotal += rows.length;
        for (const r of rows) {
          const s = c.byKey.get(r.file);
          assert.ok(s, `${det}/${prof}: ${r.file} is a corpus file`);
          const n = s.times.length;
          const p = prepareFile(s.key, n, s.windows, c.profiles[prof]!);
          let inWin = 0;
          for (let i = 0; i < n; i++) if (i >= p.probation && p.windowOf[i]! >= 0) inWin++;
          const scored = n - Math.ceil(p.probation);
          // Total_Count is the file's row count in results made by NAB's older Scorer (e.g. numenta)
          // and the scored-row count (sweeper.ThresholdScore.total) in newer ones (e.g. ARTime).
          assert.ok(
            r.totalCount === n || r.totalCount === scored,
            `${det} ${r.file} Total_Count ${r.totalCount}`,
          );
          if (r.totalCount === scored && scored !== n) newer.add(det);
          const counted = r.tp + r.tn + r.fp + r.fn;
          if (det === 'random' && counted === n - Math.floor(0.15 * n) && counted !== scored) {
            // The published `random` results on the three longest realKnownCause files were scored
            // by a NAB that did not cap probation at 750 rows (and, on machine_temperature, with
            // slightly different windows); nothing else in the set is.
            olderProbation.push(`${det}/${prof}/${r.file}`);
            continue;
          }
          assert.equal(counted, scored, `${det} ${prof} ${r.file}`);
          assert.equal(r.tp + r.fn, inWin, `${det} ${prof} ${r.file}: window rows`);
          if (det === 'null') {
            assert.equal(r.tp + r.fp, 0);
            assert.ok(Math.abs(r.score - -c.profiles[prof]!.fnWeight * s.windows.length) < 1e-9);
          }
          checked++;
        }
      }
    }
    assert.equal(checked + olderProbation.length, rowsTotal);
    assert.ok(checked >= (detectors.length - 1) * 3 * 24);
    assert.ok(olderProbation.length <= 9, olderProbation.join(' '));
    assert.ok(
      [...partial].every((d) => d.startsWith('random(')),
      [...partial].join(' '),
    );
    console.log(
      `# ${detectors.length} detectors x 3 profiles x 24 files checked; Total_Count = scored rows (newer NAB) for: ` +
        `${[...newer].join(', ') || 'none'}; partial: ${[...partial].join(', ')}; uncapped-probation rows: ${olderProbation.length}`,
    );
  },
);
