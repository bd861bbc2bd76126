import { RecordError } from '../codec/errors.js';

/** A decoded record whose field cannot be turned into features (route it to the DLQ). */
export class FeaturizeError extends RecordError {
  override readonly name = 'FeaturizeError';
}

/** A feature spec (config or features.json) that is malformed or not fitted. */
export class FeatureSpecError extends Error {
  override readonly name = 'FeatureSpecError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`feature spec ${path}: ${reason}`);
  }
}
