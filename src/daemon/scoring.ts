// The scoring terms a daemon's models are built with (config `scoring`), in the form buildModel,
// the retrainer and the training worker take. One place, so that the first model, every retrained
// model and `ddcl train --config` grade the same way.
import type { DdclConfig } from '../config/config.js';
import type { BuildOptions, ScoreTermOptions } from '../train/buildModel.js';

export type ScoringBuild = Pick<BuildOptions, 'calibration'> & ScoreTermOptions;

export function scoringBuild(s: DdclConfig['scoring']): ScoringBuild {
  return {
    calibration: {
      rawScore: s.rawScore,
      ...(s.combine === 'sum' ? { combine: { mode: 'sum' as const, weights: { ...s.weights } } } : {}),
    },
    inputDeviation: s.inputDeviation,
    inputMixture: s.inputMixture,
    globalDeviation: s.globalDeviation,
  };
}
