// Featurization: decoded records -> Float32 rows, the same in training and serving.
export * from './spec.js';
export { FeaturizeError, FeatureSpecError } from './errors.js';
export {
  Featurizer,
  featureSpecFingerprint,
  stableStringify,
  type FeaturizerOptions,
  type FeaturizedMany,
} from './featurize.js';
export { fitFeatureSpec, robustStats, quantileSorted } from './fit.js';
export {
  deriveSpecFromAvro,
  numericSpecForColumns,
  type DeriveOptions,
  type FieldOverride,
} from './derive.js';
export { serializeFeatures, parseFeatures, FEATURES_FORMAT, type FeaturesFile } from './artifact.js';
export { fnv1a, slog1p } from './read.js';
