// scoreTf computes the serving formulas (see score.ts); checked against a float64 JS version.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../../src/model/engine.js';
import { Mlp } from '../../../src/model/backbone.js';
import { scoreTf } from '../../../src/model/score.js';
import { Rng } from '../../../src/model/rng.js';
import type { BackboneWeights, EmbedNorm, ScoringModel } from '../../../src/model/types.js';

before(async () => {
  await initEngine('auto');
});

function jsForward(w: BackboneWeights, x: number[]): number[] {
  let y = x;
  w.layers.forEach((L, l) => {
    const o = Array.from({ length: L.out }, (_, j) => {
      let s = L.b[j]!;
      for (let i = 0; i < L.in; i++) s += y[i]! * L.W[i * L.out + j]!;
      return s;
    });
    y = l < w.layers.length - 1 ? o.map(Math.tanh) : o;
  });
  return y;
}

function model(embedNorm: EmbedNorm): ScoringModel {
  const r = new Rng(5);
  const K = 4;
  const m = 3;
  return {
    inputDim: 5,
    backbone: Mlp.create({ sizes: [5, 7, m], activation: 'tanh', seed: 1, lastBias: true }).toWeights(),
    embedNorm,
    prototypes: { K, m, P: Float32Array.from({ length: K * m }, () => r.normal()), T: 0.5, distScale: 1.7 },
    decoder: Mlp.create({ sizes: [m, 7, 5], activation: 'tanh', seed: 2, lastBias: true }).toWeights(),
  };
}

for (const norm of ['none', 'l2'] as EmbedNorm[]) {
  test(`scoreTf matches the float64 formulas (embedNorm ${norm})`, () => {
    const M = model(norm);
    const n = 30;
    const r = new Rng(8);
    const X = Float32Array.from({ length: n * 5 }, () => r.normal());
    const s = scoreTf(M, X, n);
    const { K, m, P, T, distScale } = M.prototypes;
    for (let i = 0; i < n; i++) {
      const x = Array.from(X.subarray(i * 5, i * 5 + 5));
      let h = jsForward(M.backbone, x);
      if (norm === 'l2') {
        const z = Math.hypot(...h);
        h = h.map((v) => v / z);
      }
      const D = Array.from({ length: K }, (_, k) => h.reduce((a, v, j) => a + (v - P[k * m + j]!) ** 2, 0));
      const mn = Math.min(...D);
      const e = D.map((d) => Math.exp(-(d - mn) / (distScale * T)));
      const q = e.map((v) => v / e.reduce((a, b) => a + b, 0));
      const sQ = q.reduce((a, v, k) => a + v * D[k]!, 0);
      const hat = Array.from({ length: m }, (_, j) => q.reduce((a, v, k) => a + v * P[k * m + j]!, 0));
      const rr = h.reduce((a, v, j) => a + (v - hat[j]!) ** 2, 0);
      const xh = jsForward(M.decoder!, h);
      const recon = x.reduce((a, v, j) => a + (v - xh[j]!) ** 2, 0) / 5;
      for (let k = 0; k < K; k++) {
        assert.ok(Math.abs(s.D[i * K + k]! - D[k]!) < 1e-4);
        assert.ok(Math.abs(s.q[i * K + k]! - q[k]!) < 1e-5);
      }
      assert.ok(Math.abs(s.sMin[i]! - mn) < 1e-4);
      assert.equal(s.nearest[i], D.indexOf(mn));
      assert.ok(Math.abs(s.sQ[i]! - sQ) < 1e-4);
      assert.ok(Math.abs(s.r[i]! - rr) < 1e-4);
      assert.ok(Math.abs(s.v[i]! - (sQ - rr)) < 1e-4);
      assert.ok(Math.abs(s.recon![i]! - recon) < 1e-5);
    }
  });
}

test('without a decoder there is no recon; a prototype scores D = 0 against itself', () => {
  const M = model('none');
  delete M.decoder;
  M.backbone = {
    activation: 'linear',
    layers: [{ in: 3, out: 3, W: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), b: new Float32Array(3) }],
  };
  M.inputDim = 3;
  const s = scoreTf(M, M.prototypes.P.slice(0, 3), 1);
  assert.equal(s.recon, undefined);
  assert.equal(s.nearest[0], 0);
  assert.ok(s.sMin[0]! < 1e-5);
});
