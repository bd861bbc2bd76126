// The backbone f: an MLP x -> h whose last layer is linear (the embedding), and its mirror
// decoder h -> xhat. Weights live in tf.Variables while training and convert to and from the
// plain BackboneWeights of types.ts (W row-major [in][out]) for export and resume.
import * as tf from '@tensorflow/tfjs';
import type { Activation, BackboneWeights, DenseWeights } from './types.js';
import { dense, denseBuiltin } from './dense.js';
import { Rng } from './rng.js';
import { ConfigError, ShapeError } from './errors.js';

/** Negative slope of leaky_relu: ONNX LeakyRelu's default, so the serving graph needs no attribute. */
export const LEAKY_RELU_ALPHA = 0.01;
/** gelu is the exact erf form, as the ONNX serving graph computes it (Erf, opset 17). */
export const GELU_APPROXIMATION = 'none';

export function activate(x: tf.Tensor2D, a: Activation): tf.Tensor2D {
  switch (a) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    case 'leaky_relu':
      return tf.leakyRelu(x, LEAKY_RELU_ALPHA);
    case 'gelu': {
      // 0.5 x (1 + erf(x / sqrt 2)); tfjs has no gelu kernel, but erf has a gradient.
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    }
    case 'linear':
      return x;
    default: {
      const never: never = a;
      throw new ConfigError('activation', never, 'unknown activation');
    }
  }
}

interface Layer {
  W: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
}

export interface MlpOptions {
  /** Layer sizes including input and output, e.g. [d, 64, 32, m]. */
  sizes: number[];
  activation: Activation;
  /** Whether the last layer has a trainable bias (false: it stays 0, Deep SVDD's guard). */
  lastBias?: boolean;
  seed: number;
}

/** An MLP with `activation` after every layer except the last. */
export class Mlp {
  readonly layers: Layer[];
  readonly activation: Activation;
  private readonly lastBias: boolean;

  private constructor(layers: Layer[], activation: Activation, lastBias: boolean) {
    this.layers = layers;
    this.activation = activation;
    this.lastBias = lastBias;
  }

  static create(opts: MlpOptions): Mlp {
    const { sizes, activation } = opts;
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new ConfigError('sizes', sizes, 'need at least two positive integer layer sizes');
    }
    const rng = new Rng(opts.seed);
    const gain = activation === 'tanh' || activation === 'linear' ? 1 : 2;
    const layers: Layer[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const nin = sizes[l]!;
      const nout = sizes[l + 1]!;
      // Variance-preserving uniform init (He for the relu family, Glorot-like for tanh).
      const lim = Math.sqrt((3 * gain) / nin);
      const W = new Float32Array(nin * nout);
      for (let i = 0; i < W.length; i++) W[i] = (2 * rng.next() - 1) * lim;
      layers.push(
        Mlp.makeLayer(W, new Float32Array(nout), nin, nout, l === sizes.length - 2 && !opts.lastBias),
      );
    }
    return new Mlp(layers, activation, opts.lastBias ?? false);
  }

  private static makeLayer(
    W: Float32Array,
    b: Float32Array,
    nin: number,
    nout: number,
    frozenBias: boolean,
  ): Layer {
    return {
      W: tf.variable(tf.tensor2d(W, [nin, nout]), true),
      b: tf.variable(tf.tensor1d(b), !frozenBias),
    };
  }

  static fromWeights(w: BackboneWeights, lastBias = true): Mlp {
    const layers = w.layers.map((L, i) => {
      if (L.W.length !== L.in * L.out) throw new ShapeError(`layer ${i} W`, L.in * L.out, L.W.length);
      if (L.b.length !== L.out) throw new ShapeError(`layer ${i} b`, L.out, L.b.length);
      if (i > 0 && L.in !== w.layers[i - 1]!.out)
        throw new ShapeError(`layer ${i} in`, w.layers[i - 1]!.out, L.in);
      return Mlp.makeLayer(L.W, L.b, L.in, L.out, i === w.layers.length - 1 && !lastBias);
    });
    if (layers.length === 0) throw new ShapeError('backbone layers', '>= 1', 0);
    return new Mlp(layers, w.activation, lastBias);
  }

  get inputDim(): number {
    return this.layers[0]!.W.shape[0];
  }

  get outputDim(): number {
    return this.layers[this.layers.length - 1]!.W.shape[1];
  }

  /** Layer sizes [in, hidden..., out]. */
  get sizes(): number[] {
    return [this.inputDim, ...this.layers.map((l) => l.W.shape[1])];
  }

  /** Forward pass; `builtin` uses tfjs's default matMul gradient (benchmark comparison). */
  apply(x: tf.Tensor2D, builtin = false): tf.Tensor2D {
    let y = x;
    const last = this.layers.length - 1;
    this.layers.forEach((L, i) => {
      y = builtin ? denseBuiltin(y, L.W, L.b) : dense(y, L.W, L.b);
      if (i < last) y = activate(y, this.activation);
    });
    return y;
  }

  /** The variables an optimiser should update. */
  trainable(): tf.Variable[] {
    return this.layers.flatMap((L) => (L.b.trainable ? [L.W, L.b] : [L.W]));
  }

  toWeights(): BackboneWeights {
    const layers: DenseWeights[] = this.layers.map((L) => ({
      in: L.W.shape[0],
      out: L.W.shape[1],
      W: L.W.dataSync().slice() as Float32Array,
      b: L.b.dataSync().slice() as Float32Array,
    }));
    return { activation: this.activation, layers };
  }

  /** Whether the last layer's bias trains. */
  get hasLastBias(): boolean {
    return this.lastBias;
  }

  dispose(): void {
    for (const L of this.layers) {
      L.W.dispose();
      L.b.dispose();
    }
  }
}

/** The decoder mirrors the encoder's sizes: [m, ..., d]. */
export function mirrorSizes(encoderSizes: number[]): number[] {
  return [...encoderSizes].reverse();
}

/**
 * Folds an affine map h = (z - mean) / std applied after the last layer into that layer's W, b,
 * so that scoring needs no extra op: W'_{:,j} = W_{:,j} / std_j, b'_j = (b_j - mean_j) / std_j.
 */
export function foldStandardisation(
  w: BackboneWeights,
  mean: Float32Array,
  std: Float32Array,
): BackboneWeights {
  const last = w.layers[w.layers.length - 1]!;
  if (mean.length !== last.out) throw new ShapeError('fold mean', last.out, mean.length);
  if (std.length !== last.out) throw new ShapeError('fold std', last.out, std.length);
  const W = new Float32Array(last.W.length);
  const b = new Float32Array(last.out);
  for (let i = 0; i < last.in; i++) {
    for (let j = 0; j < last.out; j++) W[i * last.out + j] = last.W[i * last.out + j]! / std[j]!;
  }
  for (let j = 0; j < last.out; j++) b[j] = (last.b[j]! - mean[j]!) / std[j]!;
  return {
    activation: w.activation,
    layers: [...w.layers.slice(0, -1), { in: last.in, out: last.out, W, b }],
  };
}
