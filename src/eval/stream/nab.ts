// NAB with the streaming protocol: each series of the corpus is a stream of events
// {series, ts, value}; features are per-key shingles of the value and hour/day-of-week of the
// timestamp; the first model trains on NAB's probation rows, later ones on trailing inliers (see
// detector.ts). Scores go through the verified NAB scorer port, with NAB's optimised threshold per
// profile and with the daemon's own label-free alert threshold.
import type { FeatureSpec } from '../../features/index.js';
import type { ScoreCombine } from '../../serve/calibration.js';
import type { ScoreTermOptions } from '../../train/buildModel.js';
import type { TrainConfig } from '../../train/config.js';
import {
  NAB_PROFILES,
  loadNabCorpus,
  probationaryLength,
  scoreCorpus,
  writeNabResults,
  type CorpusScore,
  type NabCorpus,
  type NabProfileName,
  type NabSeries,
  type SweepFile,
} from '../nab/index.js';
import { runStream, type StreamConfig, type StreamResult } from './detector.js';

/** The one configuration used for every file (chosen as described in README "Detection quality"). */
export interface NabDetectorConfig {
  /** Shingle window (events) over the value. */
  window: number;
  diffs: boolean;
  /** hour and day-of-week features of the event time. */
  time: boolean;
  train: Partial<TrainConfig>;
  rawScore: 's_min' | 's_q' | 's_mix';
  /** Score terms beside the raw score (StreamConfig.terms) and how they combine. */
  terms?: ScoreTermOptions;
  combine?: ScoreCombine;
  likelihood: { shortWindow: number; longWindow: number };
  retrainEvery: number;
  trainWindow: number;
  /** The daemon's alert threshold on the grade: the label-free threshold. */
  alertGrade: number;
  cooldown: number;
  cooldownFactor: number;
  /** Range check on the value (detector.ts StreamConfig.spatial); tolerance 0: off. */
  spatialTolerance: number;
  spatialWindow: number;
}

export const defaultNabConfig: Readonly<NabDetectorConfig> = Object.freeze({
  window: 8,
  diffs: true,
  time: true,
  train: { widths: [32, 16], m: 8, K: 8, epochs: 10, batchSize: 128, pretrainEpochs: 0, lambda: 0, seed: 0 },
  rawScore: 's_min',
  likelihood: { shortWindow: 10, longWindow: 1000 },
  retrainEvery: 2000,
  trainWindow: 2000,
  alertGrade: 0.9999,
  cooldown: 100,
  cooldownFactor: 0,
  spatialTolerance: 0.05,
  spatialWindow: 1000,
});

export function nabFeatureSpec(cfg: NabDetectorConfig): FeatureSpec {
  return {
    version: 1,
    key: 'series',
    fields: [
      { kind: 'shingle', path: 'value', window: cfg.window, diffs: cfg.diffs },
      ...(cfg.time ? [{ kind: 'timestamp' as const, path: 'ts', unit: 'ms' as const }] : []),
    ],
  };
}

export function streamConfig(cfg: NabDetectorConfig): StreamConfig {
  return {
    spec: nabFeatureSpec(cfg),
    train: { engine: 'auto', ...cfg.train },
    calibration: {
      rawScore: cfg.rawScore,
      likelihood: cfg.likelihood,
      ...(cfg.combine ? { combine: cfg.combine } : {}),
    },
    ...(cfg.terms ? { terms: cfg.terms } : {}),
    retrainEvery: cfg.retrainEvery,
    trainWindow: cfg.trainWindow,
    alertGrade: cfg.alertGrade,
    cooldown: cfg.cooldown,
    cooldownFactor: cfg.cooldownFactor,
    ...(cfg.spatialTolerance > 0
      ? { spatial: { field: 'value', tolerance: cfg.spatialTolerance, window: cfg.spatialWindow } }
      : {}),
    scoreBatch: 512,
  };
}

/** Events of one NAB series, in order. */
export function seriesRecords(s: NabSeries): { series: string; ts: number; value: number }[] {
  const out: { series: string; ts: number; value: number }[] = [];
  for (let i = 0; i < s.values.length; i++)
    out.push({ series: s.key, ts: s.times[i]! / 1000, value: s.values[i]! });
  return out;
}

/** Surprise (unbounded, >= 0) -> NAB anomaly score in [0, 1), monotone, no saturation. */
export function nabScore(surprise: number): number {
  return surprise / (1 + surprise);
}

export interface NabFileReport {
  file: string;
  rows: number;
  windows: number;
  models: number;
  seconds: number;
  /** Normalised per-file contribution is not defined by NAB; raw scores per profile. */
  raw: Record<NabProfileName, number>;
  raw_label_free: Record<NabProfileName, number>;
  /** Windows with a detection, windows missed, and detections outside windows (standard profile). */
  counts: { detected: number; missed: number; fp: number };
  counts_label_free: { detected: number; missed: number; fp: number };
}

export interface NabReport {
  files: number;
  windows: number;
  scores: Record<NabProfileName, number>;
  thresholds: Record<NabProfileName, number>;
  label_free: Record<NabProfileName, number> & { threshold: number; grade: number };
  per_file: NabFileReport[];
  seconds: number;
  build_seconds: number;
  models: number;
  config: NabDetectorConfig;
}

export interface NabRunOptions {
  config?: NabDetectorConfig;
  /** Only these `<category>/<file>.csv` keys. */
  only?: readonly string[];
  /** Write NAB-format result files under `<resultsDir>/<detector>/`. */
  resultsDir?: string;
  detector?: string;
  onFile?: (key: string, r: StreamResult, seconds: number) => void;
}

export async function runNab(dir: string, opts: NabRunOptions = {}): Promise<NabReport> {
  const cfg = opts.config ?? defaultNabConfig;
  const corpus: NabCorpus = loadNabCorpus(dir, opts.only ? { only: opts.only } : {});
  const sc = streamConfig(cfg);
  const t0 = performance.now();
  const outputs: SweepFile[] = [];
  const results: { series: NabSeries; scores: Float64Array; r: StreamResult; seconds: number }[] = [];
  for (const s of corpus.files) {
    const t1 = performance.now();
    const r = await runStream(seriesRecords(s), Math.floor(probationaryLength(s.values.length)), sc);
    const scores = Float64Array.from(r.scores, nabScore);
    const seconds = (performance.now() - t1) / 1000;
    opts.onFile?.(s.key, r, seconds);
    results.push({ series: s, scores, r, seconds });
    outputs.push({ name: s.key, rows: s.values.length, windows: s.windows, scores });
  }
  const profiles = {} as Record<NabProfileName, (typeof corpus.profiles)[string]>;
  for (const p of NAB_PROFILES) profiles[p] = corpus.profiles[p]!;
  const optimised: CorpusScore<NabProfileName> = scoreCorpus(outputs, profiles);
  const surpriseAt = -Math.log10(1 - cfg.alertGrade);
  const lf = nabScore(surpriseAt);
  const fixed = { reward_low_FP_rate: lf, reward_low_FN_rate: lf, standard: lf };
  const labelFree: CorpusScore<NabProfileName> = scoreCorpus(outputs, profiles, { thresholds: fixed });
  if (opts.resultsDir) {
    writeNabResults(
      opts.resultsDir,
      opts.detector ?? 'ddcl',
      results.map((x) => ({ series: x.series, anomalyScores: x.scores })),
    );
  }
  const perFile: NabFileReport[] = results.map((x, i) => {
    const raw = {} as Record<NabProfileName, number>;
    const rawLf = {} as Record<NabProfileName, number>;
    for (const p of NAB_PROFILES) {
      raw[p] = optimised.perFile[p][i]!.rawScore;
      rawLf[p] = labelFree.perFile[p][i]!.rawScore;
    }
    const o = optimised.perFile.standard[i]!;
    const l = labelFree.perFile.standard[i]!;
    return {
      file: x.series.key,
      rows: x.series.values.length,
      windows: x.series.windows.length,
      models: x.r.models,
      seconds: x.seconds,
      raw,
      raw_label_free: rawLf,
      counts: windowCounts(o),
      counts_label_free: windowCounts(l),
    };
  });
  return {
    files: corpus.files.length,
    windows: corpus.windowCount,
    scores: optimised.scores,
    thresholds: optimised.thresholds,
    label_free: { ...labelFree.scores, threshold: lf, grade: cfg.alertGrade },
    per_file: perFile,
    seconds: (performance.now() - t0) / 1000,
    build_seconds: results.reduce((a, x) => a + x.r.buildSeconds, 0),
    models: results.reduce((a, x) => a + x.r.models, 0),
    config: cfg,
  };
}

function windowCounts(f: { windowDetections: Int32Array; fp: number }): {
  detected: number;
  missed: number;
  fp: number;
} {
  let detected = 0;
  for (const r of f.windowDetections) if (r >= 0) detected++;
  return { detected, missed: f.windowDetections.length - detected, fp: f.fp };
}
