// The clustering benchmark (DESIGN.md "Command line": `ddcl bench clustering`).
export {
  clusteringConfig,
  METHODS,
  PROTOCOLS,
  type ClusteringConfig,
  type MethodName,
  type Protocol,
  type InputScaling,
} from './config.js';
export {
  runClusteringBench,
  scaleInputs,
  type ClusteringBenchResult,
  type MethodSummary,
  type Diagnostics,
  type BenchOptions,
} from './runner.js';
export { curveStats, pearson, type CurveRow, type CurveStats } from './curves.js';
export { knnGraph, type KnnGraph } from './knn.js';
export { trainNeighbourDdcl, type NeighbourDdclConfig } from './neighbourDdcl.js';
export { benchJson, markdownReport, writeReport } from './report.js';
export { lossCurveSvg } from './svg.js';
export { ClusteringError } from './errors.js';
export {
  manifoldEmbedding,
  standardiseRows,
  trainDdclHead,
  type ManifoldConfig,
  type DdclHeadConfig,
  type DdclHeadResult,
} from './manifoldDdcl.js';
export {
  fuzzyGraph,
  laplacianEigenmap,
  normalisedAffinity,
  symmetricEigen,
  umapLayout,
  type SparseSym,
  type Eigenmap,
} from './spectral.js';
