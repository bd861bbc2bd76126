// runClusteringBench: every method over every seed on one labelled data set, scored with ACC
// (Hungarian matching), NMI and ARI against the labels. Labels are read only here, for scoring.
import { initEngine, type EnginePreference } from '../../model/engine.js';
import { clusterScores } from '../cluster.js';
import {
  clusteringConfig,
  METHODS,
  type ClusteringConfig,
  type InputScaling,
  type MethodName,
  type Protocol,
} from './config.js';
import { curveStats, type CurveRow, type CurveStats } from './curves.js';
import { ClusteringError } from './errors.js';
import { knnGraph, type KnnGraph } from './knn.js';
import { runSeed, type MethodRun } from './methods.js';

export interface MethodSummary {
  method: MethodName;
  acc_mean: number;
  acc_std: number;
  nmi_mean: number;
  nmi_std: number;
  ari_mean: number;
  ari_std: number;
  /** Mean wall seconds per seed (shared stages included). */
  seconds: number;
  /** Per-seed scores, in seed order. */
  runs: { seed: number; acc: number; nmi: number; ari: number; seconds: number }[];
}

export interface Diagnostics {
  /** Over every epoch of every DDCL-family run: the largest |L_q - L_OLS - V|. */
  maxViolation: number;
  /** The same relative to |L_q|. */
  maxRelativeViolation: number;
  /** Epochs with V < -1e-6, over every run (0 expected: V >= 0 is a theorem). */
  negativeV: number;
  /** Pearson(separation, force norm) over the epochs of each ddcl run, mean over seeds. */
  separationForcePearson: number;
  /** The same for each seed's ddcl run. */
  separationForcePearsonBySeed: number[];
  epochsChecked: number;
}

export interface ClusteringBenchResult {
  dataset: string;
  n: number;
  d: number;
  k: number;
  protocol: Protocol;
  seeds: number;
  results: MethodSummary[];
  diagnostics: Diagnostics | null;
  /** The ddcl run of the first seed, for the figure (empty when ddcl did not run). */
  curve: CurveRow[];
  config: ClusteringConfig;
  backend: string;
  seconds: number;
}

export interface BenchOptions {
  protocol?: Protocol;
  seeds?: number;
  /** First seed; seeds are firstSeed, firstSeed + 1, ... */
  firstSeed?: number;
  methods?: readonly MethodName[];
  K?: number;
  engine?: EnginePreference;
  /** Replace parts of the configuration (e.g. shorter epochs in tests). */
  override?: (c: ClusteringConfig) => ClusteringConfig;
  onRun?: (r: MethodRun & { acc: number; nmi: number; ari: number }) => void;
}

/** Scales a copy of X as the configuration says (whole-table statistics: an offline benchmark). */
export function scaleInputs(X: Float32Array, n: number, d: number, how: InputScaling): Float32Array {
  if (how === 'none') return Float32Array.from(X);
  if (how === 'global') {
    let mx = 0;
    for (const v of X) mx = Math.max(mx, Math.abs(v));
    const s = mx > 0 ? 1 / mx : 1;
    return Float32Array.from(X, (v) => v * s);
  }
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = X[i * d + j]!;
      if (v < lo[j]!) lo[j] = v;
      if (v > hi[j]!) hi[j] = v;
    }
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const r = hi[j]! - lo[j]!;
      out[i * d + j] = r > 0 ? (X[i * d + j]! - lo[j]!) / r : 0;
    }
  return out;
}

function meanStd(v: number[]): [number, number] {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  // Population std over seeds (numpy's default), as deep-clustering papers report it.
  const s = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  return [m, s];
}

export async function runClusteringBench(
  dataset: string,
  X: Float32Array,
  n: number,
  d: number,
  y: Int32Array,
  opts: BenchOptions = {},
): Promise<ClusteringBenchResult> {
  const seeds = opts.seeds ?? 5;
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new ClusteringError('seeds', seeds, 'must be a whole number >= 1');
  if (y.length !== n) throw new ClusteringError('labels', y.length, `expected one per row (${n})`);
  const methods = opts.methods ?? METHODS;
  for (const m of methods)
    if (!METHODS.includes(m)) throw new ClusteringError('method', m, `one of ${METHODS.join(', ')}`);
  const K = opts.K ?? 10;
  let cfg = clusteringConfig(n, d, opts.protocol ?? 'best', K);
  if (opts.override) cfg = opts.override(cfg);
  const engine = await initEngine(opts.engine ?? 'auto');
  if (opts.engine) {
    cfg = {
      ...cfg,
      train: { ...cfg.train, engine: opts.engine },
      deepcluster: { ...cfg.deepcluster, engine: opts.engine },
    };
  }
  const t0 = performance.now();
  const Xs = scaleInputs(X, n, d, cfg.scaling);
  let graph: { graph: KnnGraph; seconds: number } | null = null;
  const manifold = cfg.protocol === 'best' && cfg.manifold !== null && cfg.head !== null;
  const needsGraph =
    cfg.protocol === 'best' &&
    (manifold
      ? methods.some((m) => m.startsWith('ddcl') || m === 'kmeans-embed')
      : (cfg.fineTune?.neighbourWeight ?? 0) > 0 && methods.some((m) => m.startsWith('ddcl')));
  if (needsGraph) {
    const t = performance.now();
    graph = { graph: knnGraph(Xs, n, d, manifold ? cfg.manifold!.knn : cfg.knn), seconds: 0 };
    graph.seconds = (performance.now() - t) / 1000;
  }
  const runs: (MethodRun & { acc: number; nmi: number; ari: number })[] = [];
  const first = opts.firstSeed ?? 0;
  for (let s = 0; s < seeds; s++) {
    for (const r of await runSeed({ X: Xs, n, d }, cfg, first + s, methods, graph)) {
      const scored = { ...r, ...clusterScores(y, r.labels) };
      runs.push(scored);
      opts.onRun?.(scored);
    }
  }
  const results: MethodSummary[] = methods.map((method) => {
    const mine = runs.filter((r) => r.method === method);
    const [acc_mean, acc_std] = meanStd(mine.map((r) => r.acc));
    const [nmi_mean, nmi_std] = meanStd(mine.map((r) => r.nmi));
    const [ari_mean, ari_std] = meanStd(mine.map((r) => r.ari));
    return {
      method,
      acc_mean,
      acc_std,
      nmi_mean,
      nmi_std,
      ari_mean,
      ari_std,
      seconds: mine.reduce((a, r) => a + r.seconds, 0) / mine.length,
      runs: mine.map((r) => ({ seed: r.seed, acc: r.acc, nmi: r.nmi, ari: r.ari, seconds: r.seconds })),
    };
  });
  const curved = runs.filter((r) => r.curve && r.curve.length > 0);
  let diagnostics: Diagnostics | null = null;
  if (curved.length > 0) {
    const stats: CurveStats[] = curved.map((r) => curveStats(r.curve!));
    const ddcl = curved
      .filter((r) => r.method === 'ddcl')
      .map((r) => curveStats(r.curve!).separationForcePearson);
    const finite = ddcl.filter((v) => Number.isFinite(v));
    diagnostics = {
      maxViolation: Math.max(...stats.map((s) => s.maxViolation)),
      maxRelativeViolation: Math.max(...stats.map((s) => s.maxRelativeViolation)),
      negativeV: stats.reduce((a, s) => a + s.negativeV, 0),
      separationForcePearson: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN,
      separationForcePearsonBySeed: ddcl,
      epochsChecked: stats.reduce((a, s) => a + s.epochs, 0),
    };
  }
  return {
    dataset,
    n,
    d,
    k: K,
    protocol: cfg.protocol,
    seeds,
    results,
    diagnostics,
    curve: runs.find((r) => r.method === 'ddcl')?.curve ?? [],
    config: cfg,
    backend: engine.backend,
    seconds: (performance.now() - t0) / 1000,
  };
}
