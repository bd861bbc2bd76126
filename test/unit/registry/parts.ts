// ArtifactParts for a seeded random model, for the registry tests.

import type { ScoringModel } from '../../../src/model/types.js';
import type { ArtifactParts } from '../../../src/registry/artifact.js';
import { exportScoringModel } from '../../../src/serve/onnx/export.js';
import { randn, randomModel, rng } from '../serve/randomModel.js';

export function makeParts(seed: number): { model: ScoringModel; parts: ArtifactParts } {
  const model = randomModel({ seed, decoder: true });
  const r = rng(seed + 1000);
  const { K } = model.prototypes;
  const d = model.inputDim;
  const tensors: ArtifactParts['weights']['tensors'] = {};
  model.backbone.layers.forEach((l, i) => {
    tensors[`backbone.${i}.W`] = { shape: [l.in, l.out], data: l.W };
    tensors[`backbone.${i}.b`] = { shape: [l.out], data: l.b };
  });
  tensors['dcl.U'] = { shape: [model.prototypes.m, K], data: randn(r, model.prototypes.m * K) };
  const parts: ArtifactParts = {
    inputDim: d,
    inputSchemaFingerprint: `fp-${seed}`,
    trainingWindow: { rows: 1000 },
    hyperparameters: { lr: 1e-3, K, T: [2, 0.5] },
    trainingMetrics: [
      { epoch: 0, L_q: 1.5, L_OLS: 1.0, V: 0.5 },
      { epoch: 1, L_q: 1.2, L_OLS: 0.9, V: 0.3 },
    ],
    validation: { passed: true },
    onnx: exportScoringModel(model),
    weights: { tensors, meta: { activation: model.backbone.activation, step: 42 } },
    features: { spec: [{ name: 'amount', kind: 'numeric' }], mean: [0.5] },
    prototypes: {
      snapshot: model.prototypes,
      stats: Array.from({ length: K }, (_, k) => ({
        count: 10 + k,
        mean: Array.from(randn(r, d)),
        std: Array.from(randn(r, d)).map(Math.abs),
      })),
    },
    calibration: { quantiles: [0.1, 0.5, 0.9] },
  };
  return { model, parts };
}
