import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activation, ScoreBatch } from '../../../src/model/types.js';
import { exportScoringModel, ModelShapeError } from '../../../src/serve/onnx/export.js';
import { readGraphIO } from '../../../src/serve/onnx/proto.js';
import { erf, scoreReference, type ReferenceScores } from '../../../src/serve/reference.js';
import { OnnxScorer, ScoreInputError } from '../../../src/serve/scorer.js';
import { randomInputs, randomModel } from './randomModel.js';
import { nearestMismatches, relErr } from './parity.js';

const TOL = 1e-4;
const ACTIVATIONS: Activation[] = ['relu', 'tanh', 'elu', 'leaky_relu', 'gelu', 'linear'];

function assertParity(got: ScoreBatch, want: ReferenceScores, label: string): void {
  const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
    ['D', got.D, want.D],
    ['q', got.q, want.q],
    ['sMin', got.sMin, want.sMin],
    ['sQ', got.sQ, want.sQ],
    ['r', got.r, want.r],
    ['v', got.v, want.v],
  ];
  if (want.recon !== undefined) {
    assert.ok(got.recon !== undefined, `${label}: recon missing`);
    pairs.push(['recon', got.recon, want.recon]);
  } else {
    assert.equal(got.recon, undefined, `${label}: unexpected recon`);
  }
  for (const [name, a, b] of pairs) {
    const e = relErr(a, b);
    assert.ok(e <= TOL, `${label} ${name}: relative error ${e.toExponential(2)} > ${TOL}`);
  }
  assert.equal(nearestMismatches(got.nearest, want.nearest, want.D, want.K, TOL), 0, `${label}: nearest`);
}

test('erf matches tabulated values to 1e-15', () => {
  // Values from Abramowitz & Stegun table 7.1 / mpmath.
  const table: [number, number][] = [
    [0, 0],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [-1.5, -0.9661051464753108],
    [2.5, 0.999593047982555],
    [3, 0.9999779095030014],
  ];
  for (const [x, want] of table) assert.ok(Math.abs(erf(x) - want) < 1e-15, `erf(${x}) = ${erf(x)}`);
});

test('ONNX Runtime scores match the float64 reference for every activation, norm and decoder', async () => {
  let seed = 1;
  for (const activation of ACTIVATIONS) {
    for (const embedNorm of ['none', 'l2'] as const) {
      for (const decoder of [false, true]) {
        const model = randomModel({ seed: seed++, activation, embedNorm, decoder, hidden: [16, 8] });
        const scorer = await OnnxScorer.create(exportScoringModel(model), { intraOpThreads: 1 });
        assert.equal(scorer.inputDim, model.inputDim);
        assert.equal(scorer.K, model.prototypes.K);
        assert.equal(scorer.executionProvider, 'cpu');
        for (const n of [1, 7, 256]) {
          const X = randomInputs(seed * 1000 + n, n, model.inputDim);
          const got = await scorer.score(X, n);
          assert.equal(got.n, n);
          assertParity(got, scoreReference(model, X, n), `${activation}/${embedNorm}/dec=${decoder}/n=${n}`);
        }
        await scorer.release();
      }
    }
  }
});

test('a large batch (4096) of a default-sized model matches the reference', async () => {
  const model = randomModel({ seed: 99, inputDim: 32, hidden: [64, 32], m: 16, K: 10, decoder: true });
  const scorer = await OnnxScorer.create(exportScoringModel(model), { intraOpThreads: 1 });
  const n = 4096;
  const X = randomInputs(7, n, 32);
  assertParity(await scorer.score(X, n), scoreReference(model, X, n), 'n=4096');
  await scorer.release();
});

test('score refuses an input whose length is not n * inputDim', async () => {
  const model = randomModel({ seed: 3 });
  const scorer = await OnnxScorer.create(exportScoringModel(model), { intraOpThreads: 1 });
  await assert.rejects(scorer.score(new Float32Array(model.inputDim * 2 + 1), 2), (e: unknown) => {
    assert.ok(e instanceof ScoreInputError);
    assert.equal(e.length, model.inputDim * 2 + 1);
    assert.equal(e.inputDim, model.inputDim);
    return true;
  });
  await scorer.release();
});

test('an empty batch scores to empty arrays without calling the runtime', async () => {
  const model = randomModel({ seed: 3, decoder: true });
  const scorer = await OnnxScorer.create(exportScoringModel(model), { intraOpThreads: 1 });
  const b = await scorer.score(new Float32Array(0), 0);
  assert.equal(b.n, 0);
  assert.equal(b.D.length, 0);
  assert.equal(b.recon?.length, 0);
  await scorer.release();
});

test('an unavailable execution provider falls back to the next one and says so', async () => {
  const model = randomModel({ seed: 4 });
  const scorer = await OnnxScorer.create(exportScoringModel(model), {
    intraOpThreads: 1,
    executionProviders: ['no-such-provider', 'cpu'],
  });
  assert.equal(scorer.executionProvider, 'cpu');
  assert.equal(scorer.providerFailures.length, 1);
  assert.equal(scorer.providerFailures[0]!.provider, 'no-such-provider');
  await scorer.release();
});

test('the exported graph declares input x [N, inputDim] and outputs with K columns', () => {
  const model = randomModel({ seed: 6, inputDim: 9, K: 4, decoder: true });
  const io = readGraphIO(exportScoringModel(model));
  assert.equal(io.opsetVersion, 17);
  assert.deepEqual(io.inputs, [{ name: 'x', type: 'float32', shape: ['N', 9] }]);
  assert.deepEqual(
    io.outputs.map((o) => o.name),
    ['h', 'D', 'q', 's_min', 's_q', 'r', 'v', 'nearest', 'recon'],
  );
  assert.deepEqual(io.outputs.find((o) => o.name === 'D')!.shape, ['N', 4]);
  assert.equal(io.outputs.find((o) => o.name === 'nearest')!.type, 'int64');
});

test('export refuses inconsistent shapes, naming the field', () => {
  const model = randomModel({ seed: 8 });
  model.prototypes = {
    ...model.prototypes,
    P: new Float32Array(model.prototypes.K * model.prototypes.m - 1),
  };
  assert.throws(
    () => exportScoringModel(model),
    (e: unknown) => {
      assert.ok(e instanceof ModelShapeError);
      assert.equal(e.path, 'prototypes.P.length');
      return true;
    },
  );
});
