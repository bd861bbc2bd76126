// features.json: the fitted spec in the model artifact, with what a loader checks before use.
import { FeatureSpecError } from './errors.js';
import { Featurizer, type FeaturizerOptions } from './featurize.js';
import type { FeatureSpec } from './spec.js';

export const FEATURES_FORMAT = 'ddcl.features';

export interface FeaturesFile {
  format: typeof FEATURES_FORMAT;
  version: 1;
  fingerprint: string;
  dim: number;
  names: string[];
  spec: FeatureSpec;
}

/** The text of features.json for a fitted featurizer. */
export function serializeFeatures(f: Featurizer): string {
  const file: FeaturesFile = {
    format: FEATURES_FORMAT,
    version: 1,
    fingerprint: f.fingerprint,
    dim: f.dim,
    names: [...f.names],
    spec: f.toJSON(),
  };
  return JSON.stringify(file, null, 1) + '\n';
}

/**
 * Read features.json; refuses (FeatureSpecError) a file that is not one, is of another version,
 * or whose spec no longer gives the recorded fingerprint, width and column names.
 */
export function parseFeatures(text: string, opts?: FeaturizerOptions): Featurizer {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (e) {
    throw new FeatureSpecError('features.json', `not JSON: ${(e as Error).message}`);
  }
  const file = x as Partial<FeaturesFile> | null;
  if (!file || typeof file !== 'object' || file.format !== FEATURES_FORMAT)
    throw new FeatureSpecError('features.json', `not a ${FEATURES_FORMAT} file`);
  if (file.version !== 1)
    throw new FeatureSpecError(
      'features.json',
      `version ${String(file.version)} is not supported (this build reads 1)`,
    );
  const f = Featurizer.fromJSON(file.spec, opts);
  if (f.fingerprint !== file.fingerprint)
    throw new FeatureSpecError(
      'features.json',
      `fingerprint mismatch: file says ${String(file.fingerprint)}, spec gives ${f.fingerprint}`,
    );
  if (f.dim !== file.dim || JSON.stringify(f.names) !== JSON.stringify(file.names))
    throw new FeatureSpecError('features.json', 'recorded columns differ from what the spec produces');
  return f;
}
