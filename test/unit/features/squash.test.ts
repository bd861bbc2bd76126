import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Featurizer,
  FeatureSpecError,
  fitFeatureSpec,
  numericSpecForColumns,
  parseFeatures,
  serializeFeatures,
  validateFeatureSpec,
} from '../../../src/features/index.js';

test("squash 'asinh': asinh of the robust z, before the clip; kept through features.json", () => {
  const rows = [[1], [2], [3], [4], [5]];
  const spec = fitFeatureSpec(numericSpecForColumns(['x'], { squash: 'asinh', clip: 5 }), rows);
  const f = parseFeatures(serializeFeatures(new Featurizer(spec)));
  const out = new Float32Array(1);
  // median 3, IQR 2: z = (x - 3) / 2.
  for (const [x, want] of [
    [3, 0],
    [5, Math.asinh(1)],
    [1, -Math.asinh(1)],
    [23, Math.asinh(10)],
  ] as const) {
    f.featurize([x], out, 0);
    assert.ok(Math.abs(out[0]! - want) < 1e-6, `${x}: ${out[0]} vs ${want}`);
  }
  // Clipped after the squash.
  f.featurize([3 + 2 * Math.sinh(9)], out, 0);
  assert.equal(out[0], 5);
  // Without the option the same fit is linear.
  const plain = new Featurizer(fitFeatureSpec(numericSpecForColumns(['x']), rows));
  plain.featurize([5], out, 0);
  assert.equal(out[0], 1);
  assert.throws(
    () => validateFeatureSpec({ version: 1, fields: [{ kind: 'numeric', path: '0', squash: 'log' }] }),
    FeatureSpecError,
  );
});
