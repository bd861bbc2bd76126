// The six methods of the clustering benchmark, each as one function of (data, config, seed) to a
// hard labelling. The 'best' protocol shares one pretrained autoencoder per seed between
// kmeans-embed, ddcl, ddcl-ols and ddcl-stopgrad; each method's seconds include that stage.
import * as tf from '@tensorflow/tfjs';
import type { Objective } from '../../model/loss.js';
import { kmeans } from '../../model/kmeans.js';
import { embedTf } from '../../model/score.js';
import { trainDDCL } from '../../train/trainer.js';
import type { TrainResult } from '../../train/config.js';
import { trainDeepCluster } from '../../train/deepcluster.js';
import type { ClusteringConfig, MethodName } from './config.js';
import { curveFromEpochs, type CurveRow } from './curves.js';
import type { KnnGraph } from './knn.js';
import { trainNeighbourDdcl } from './neighbourDdcl.js';
import { manifoldEmbedding, trainDdclHead } from './manifoldDdcl.js';

export interface Inputs {
  /** Scaled inputs, n x d row-major. */
  X: Float32Array;
  n: number;
  d: number;
}

export interface MethodRun {
  method: MethodName;
  seed: number;
  labels: Int32Array;
  /** Wall time of this method for this seed, shared stages included. */
  seconds: number;
  /** DDCL health signals per epoch (ddcl, ddcl-ols, ddcl-stopgrad). */
  curve?: CurveRow[];
}

const OBJECTIVE: Partial<Record<MethodName, Objective>> = {
  ddcl: 'lq',
  'ddcl-ols': 'ols',
  'ddcl-stopgrad': 'stopgrad',
};

const now = (): number => performance.now() / 1000;

/** Embeddings of all rows through a trained model (the scoring graph: standardisation folded). */
function embedAll(r: TrainResult, inp: Inputs, chunk = 4096): Float32Array {
  const m = r.model.prototypes.m;
  const H = new Float32Array(inp.n * m);
  for (let s = 0; s < inp.n; s += chunk) {
    const rows = Math.min(chunk, inp.n - s);
    H.set(
      tf.tidy(() =>
        embedTf(
          r.model,
          tf.tensor2d(inp.X.subarray(s * inp.d, (s + rows) * inp.d), [rows, inp.d]),
        ).dataSync(),
      ),
      s * m,
    );
  }
  return H;
}

/**
 * Runs `methods` for one seed. `graph` (with the seconds it took) is needed by the 'best'
 * protocol's DDCL methods; it does not depend on the seed, so the caller builds it once and its
 * time is added to every method that uses it.
 */
export async function runSeed(
  inp: Inputs,
  cfg: ClusteringConfig,
  seed: number,
  methods: readonly MethodName[],
  graph: { graph: KnnGraph; seconds: number } | null,
): Promise<MethodRun[]> {
  const out: MethodRun[] = [];
  const { X, n, d } = inp;
  const want = (m: MethodName): boolean => methods.includes(m);
  if (want('kmeans-raw')) {
    const t = now();
    const labels = kmeans(X, n, d, cfg.K, { nInit: cfg.kmeansInit, seed }).labels;
    out.push({ method: 'kmeans-raw', seed, labels, seconds: now() - t });
  }
  const ddclMethods = methods.filter((m) => OBJECTIVE[m] !== undefined);
  if (cfg.protocol === 'best' && cfg.manifold && cfg.head) {
    if (ddclMethods.length > 0 || want('kmeans-embed')) {
      // The manifold embedding is the shared stage (its graph is seed-free and built once).
      const t = now();
      const g = graph && graph.graph.k === cfg.manifold.knn ? graph : null;
      const H = manifoldEmbedding(X, n, d, cfg.manifold, seed, g?.graph);
      const m = cfg.manifold.dims;
      const embedSeconds = now() - t + (g?.seconds ?? 0);
      if (want('kmeans-embed')) {
        const t1 = now();
        const labels = kmeans(H, n, m, cfg.K, { nInit: cfg.kmeansInit, seed }).labels;
        out.push({ method: 'kmeans-embed', seed, labels, seconds: embedSeconds + now() - t1 });
      }
      for (const method of ddclMethods) {
        const t1 = now();
        const r = trainDdclHead(H, n, m, { ...cfg.head, K: cfg.K }, OBJECTIVE[method]!, seed);
        out.push({ method, seed, labels: r.labels, seconds: embedSeconds + now() - t1, curve: r.history });
      }
    }
  } else if (cfg.protocol === 'best' && cfg.fineTune) {
    if (ddclMethods.length > 0 || want('kmeans-embed')) {
      const t = now();
      const pre = await trainDDCL(X, n, d, { ...cfg.train, seed, epochs: 0 });
      const preSeconds = now() - t;
      if (want('kmeans-embed')) {
        const t1 = now();
        const H = embedAll(pre, inp);
        const labels = kmeans(H, n, pre.model.prototypes.m, cfg.K, { nInit: cfg.kmeansInit, seed }).labels;
        out.push({ method: 'kmeans-embed', seed, labels, seconds: preSeconds + now() - t1 });
      }
      for (const method of ddclMethods) {
        const t1 = now();
        const useGraph = cfg.fineTune.neighbourWeight > 0;
        const r = await trainNeighbourDdcl(X, n, d, pre.weights, useGraph ? (graph?.graph ?? null) : null, {
          ...cfg.fineTune,
          seed,
          objective: OBJECTIVE[method]!,
        });
        const seconds = preSeconds + (useGraph ? (graph?.seconds ?? 0) : 0) + now() - t1;
        out.push({ method, seed, labels: r.labels, seconds, curve: r.history });
      }
    }
  } else {
    let ddclRun: TrainResult | null = null;
    let ddclSeconds = 0;
    for (const method of ddclMethods) {
      const t = now();
      const r = await trainDDCL(X, n, d, { ...cfg.train, seed, objective: OBJECTIVE[method]! });
      const seconds = now() - t;
      if (method === 'ddcl') {
        ddclRun = r;
        ddclSeconds = seconds;
      }
      out.push({ method, seed, labels: r.assignments, seconds, curve: curveFromEpochs(r.history) });
    }
    if (want('kmeans-embed')) {
      // k-means on the embeddings of the jointly trained DDCL backbone.
      const t = now();
      if (!ddclRun) {
        ddclRun = await trainDDCL(X, n, d, { ...cfg.train, seed, objective: 'lq' });
        ddclSeconds = now() - t;
      }
      const t1 = now();
      const H = embedAll(ddclRun, inp);
      const labels = kmeans(H, n, ddclRun.model.prototypes.m, cfg.K, { nInit: cfg.kmeansInit, seed }).labels;
      out.push({ method: 'kmeans-embed', seed, labels, seconds: ddclSeconds + now() - t1 });
    }
  }
  if (want('deepcluster')) {
    const t = now();
    const r = await trainDeepCluster(X, n, d, { ...cfg.deepcluster, seed });
    out.push({ method: 'deepcluster', seed, labels: r.labels, seconds: now() - t });
  }
  return out;
}
