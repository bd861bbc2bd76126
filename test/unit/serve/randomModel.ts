// Seeded random ScoringModels and inputs for the serving and registry tests.

import type { Activation, BackboneWeights, EmbedNorm, ScoringModel } from '../../../src/model/types.js';

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box-Muller. */
export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export function randn(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gauss(r) * scale;
  return out;
}

function mlp(r: () => number, activation: Activation, widths: number[]): BackboneWeights {
  const layers = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const inn = widths[i]!;
    const out = widths[i + 1]!;
    // He-like scale keeps activations O(1) through the layers.
    layers.push({ in: inn, out, W: randn(r, inn * out, Math.sqrt(2 / inn)), b: randn(r, out, 0.1) });
  }
  return { activation, layers };
}

export interface RandomModelSpec {
  seed: number;
  inputDim?: number;
  hidden?: number[];
  m?: number;
  K?: number;
  activation?: Activation;
  embedNorm?: EmbedNorm;
  decoder?: boolean;
  T?: number;
}

export function randomModel(spec: RandomModelSpec): ScoringModel {
  const r = rng(spec.seed);
  const inputDim = spec.inputDim ?? 12;
  const m = spec.m ?? 6;
  const K = spec.K ?? 5;
  const activation = spec.activation ?? 'relu';
  const embedNorm = spec.embedNorm ?? 'none';
  const backbone = mlp(r, activation, [inputDim, ...(spec.hidden ?? [16]), m]);
  // Prototypes on the scale of the embeddings (unit sphere when normalised).
  const P = randn(r, K * m, embedNorm === 'l2' ? 1 / Math.sqrt(m) : 1);
  const model: ScoringModel = {
    inputDim,
    backbone,
    embedNorm,
    prototypes: { K, m, P, T: spec.T ?? 0.5, distScale: embedNorm === 'l2' ? 1 : m },
  };
  if (spec.decoder === true) model.decoder = mlp(r, activation, [m, 16, inputDim]);
  return model;
}

export function randomInputs(seed: number, n: number, d: number): Float32Array {
  return randn(rng(seed), n * d);
}
