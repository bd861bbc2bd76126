// ONNX Runtime (serving) against scoreTf (src/model/score.ts, the tfjs twin used in training).
// This file loads tfjs; the serving code itself never does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Activation, ScoreBatch } from '../../../src/model/types.js';
import { scoreTf } from '../../../src/model/score.js';
import { exportScoringModel } from '../../../src/serve/onnx/export.js';
import { OnnxScorer } from '../../../src/serve/scorer.js';
import { randomInputs, randomModel } from './randomModel.js';
import { nearestMismatches, relErr } from './parity.js';

const TOL = 1e-4;

function parityErrors(got: ScoreBatch, want: ScoreBatch): Record<string, number> {
  const e: Record<string, number> = {
    D: relErr(got.D, want.D),
    q: relErr(got.q, want.q),
    sMin: relErr(got.sMin, want.sMin),
    sQ: relErr(got.sQ, want.sQ),
    r: relErr(got.r, want.r),
    v: relErr(got.v, want.v),
    nearest: nearestMismatches(got.nearest, want.nearest, want.D, want.K, TOL),
  };
  if (want.recon !== undefined) e['recon'] = relErr(got.recon!, want.recon);
  return e;
}

async function checkActivation(activation: Activation, seed0: number): Promise<void> {
  await tf.setBackend('cpu');
  let seed = seed0;
  for (const embedNorm of ['none', 'l2'] as const) {
    for (const decoder of [false, true]) {
      const model = randomModel({ seed: seed++, activation, embedNorm, decoder, hidden: [16, 8] });
      const scorer = await OnnxScorer.create(exportScoringModel(model), { intraOpThreads: 1 });
      for (const n of [1, 7, 256]) {
        const X = randomInputs(seed * 1000 + n, n, model.inputDim);
        const errs = parityErrors(await scorer.score(X, n), scoreTf(model, X, n));
        for (const [k, e] of Object.entries(errs)) {
          assert.ok(
            e <= (k === 'nearest' ? 0 : TOL),
            `${activation}/${embedNorm}/dec=${decoder}/n=${n} ${k}: ${e}`,
          );
        }
      }
      await scorer.release();
    }
  }
}

for (const [i, activation] of (['relu', 'tanh', 'elu', 'leaky_relu', 'linear', 'gelu'] as const).entries()) {
  test(`ONNX Runtime matches scoreTf (tfjs) for ${activation}`, () =>
    checkActivation(activation, 100 + 10 * i));
}
