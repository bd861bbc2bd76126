// Export a ScoringModel (backbone, frozen prototypes, optional decoder) to an ONNX graph that any
// ONNX runtime can serve. The math is docs/DDCL.md "Anomaly scoring"; src/serve/reference.ts is
// the same math in float64 JS, and the parity tests hold the two together.

import type { Activation, BackboneWeights, ScoringModel } from '../../model/types.js';
import {
  encodeModel,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './proto.js';

export const OPSET_VERSION = 17;
/** IR version 8 is the one that goes with opset 17. */
export const IR_VERSION = 8;
/** Slope of leaky_relu for x < 0: ONNX's default, as src/model/backbone.ts trains with. */
export const LEAKY_RELU_ALPHA = 0.01;
/** ELU's alpha (ONNX and tfjs default). */
export const ELU_ALPHA = 1.0;
/** L2 normalisation: h / sqrt(||h||^2 + eps), the form src/model/loss.ts trains with. */
export const L2_EPS = 1e-12;

export const INPUT_NAME = 'x';
/** Symbolic batch dimension of every input and output. */
export const BATCH_DIM = 'N';
export const OUTPUT_NAMES = ['h', 'D', 'q', 's_min', 's_q', 'r', 'v', 'nearest'] as const;
export const RECON_OUTPUT = 'recon';

export interface ExportOptions {
  /** Recorded as ModelProto.doc_string. */
  docString?: string;
  producerVersion?: string;
}

/** A ScoringModel that cannot be exported: `path` names the offending field. */
export class ModelShapeError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly value: unknown,
  ) {
    super(`${path}: ${problem} (got ${JSON.stringify(value)})`);
    this.name = 'ModelShapeError';
  }
}

const ACTIVATIONS: readonly Activation[] = ['relu', 'tanh', 'gelu', 'elu', 'leaky_relu', 'linear'];

function checkMlp(mlp: BackboneWeights, path: string, inDim: number, outDim?: number): number {
  if (!ACTIVATIONS.includes(mlp.activation)) {
    throw new ModelShapeError(`${path}.activation`, 'unknown activation', mlp.activation);
  }
  if (mlp.layers.length === 0) throw new ModelShapeError(`${path}.layers`, 'no layers', 0);
  let d = inDim;
  mlp.layers.forEach((l, i) => {
    const p = `${path}.layers[${i}]`;
    if (l.in !== d) throw new ModelShapeError(`${p}.in`, `expected ${d} (previous width)`, l.in);
    if (!Number.isInteger(l.out) || l.out <= 0) {
      throw new ModelShapeError(`${p}.out`, 'must be a positive integer', l.out);
    }
    if (l.W.length !== l.in * l.out) {
      throw new ModelShapeError(`${p}.W.length`, `expected in*out = ${l.in * l.out}`, l.W.length);
    }
    if (l.b.length !== l.out) {
      throw new ModelShapeError(`${p}.b.length`, `expected out = ${l.out}`, l.b.length);
    }
    d = l.out;
  });
  if (outDim !== undefined && d !== outDim) {
    throw new ModelShapeError(`${path}.layers[-1].out`, `expected ${outDim}`, d);
  }
  return d;
}

/** Check every shape of a ScoringModel; returns the embedding width m. */
export function validateScoringModel(model: ScoringModel): number {
  if (!Number.isInteger(model.inputDim) || model.inputDim <= 0) {
    throw new ModelShapeError('inputDim', 'must be a positive integer', model.inputDim);
  }
  if (model.embedNorm !== 'none' && model.embedNorm !== 'l2') {
    throw new ModelShapeError('embedNorm', "must be 'none' or 'l2'", model.embedNorm);
  }
  const m = checkMlp(model.backbone, 'backbone', model.inputDim);
  const p = model.prototypes;
  if (p.m !== m) throw new ModelShapeError('prototypes.m', `expected embedding width ${m}`, p.m);
  if (!Number.isInteger(p.K) || p.K <= 0) {
    throw new ModelShapeError('prototypes.K', 'must be a positive integer', p.K);
  }
  if (p.P.length !== p.K * p.m) {
    throw new ModelShapeError('prototypes.P.length', `expected K*m = ${p.K * p.m}`, p.P.length);
  }
  if (!(p.T > 0) || !Number.isFinite(p.T)) {
    throw new ModelShapeError('prototypes.T', 'must be finite and > 0', p.T);
  }
  if (!(p.distScale > 0) || !Number.isFinite(p.distScale)) {
    throw new ModelShapeError('prototypes.distScale', 'must be finite and > 0', p.distScale);
  }
  if (model.decoder !== undefined) checkMlp(model.decoder, 'decoder', m, model.inputDim);
  return m;
}

/** Builds nodes and initializers with fresh names. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private n = 0;

  fresh(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }

  op(opType: string, inputs: string[], attributes?: OnnxAttribute[], output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, inputs, outputs: [out], name: `${opType}_${this.nodes.length}`, attributes });
    return out;
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, type: 'float32', data });
    return name;
  }

  scalar(prefix: string, v: number): string {
    return this.floats(this.fresh(prefix), [], Float32Array.of(v));
  }

  int64s(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], type: 'int64', data });
    return name;
  }

  /** Identity nodes let an internal value also be a named graph output. */
  rename(from: string, to: string): string {
    return this.op('Identity', [from], undefined, to);
  }
}

function activation(g: GraphBuilder, a: Activation, x: string): string {
  switch (a) {
    case 'linear':
      return x;
    case 'relu':
      return g.op('Relu', [x]);
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'elu':
      return g.op('Elu', [x], [{ name: 'alpha', kind: 'float', value: ELU_ALPHA }]);
    case 'leaky_relu':
      return g.op('LeakyRelu', [x], [{ name: 'alpha', kind: 'float', value: LEAKY_RELU_ALPHA }]);
    case 'gelu': {
      // Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). ONNX's own Gelu op needs opset 20.
      const e = g.op('Erf', [g.op('Mul', [x, g.scalar('inv_sqrt2', Math.SQRT1_2)])]);
      const onePlus = g.op('Add', [e, g.scalar('one', 1)]);
      return g.op('Mul', [g.op('Mul', [x, onePlus]), g.scalar('half', 0.5)]);
    }
  }
}

function mlp(g: GraphBuilder, w: BackboneWeights, prefix: string, x: string): string {
  let h = x;
  w.layers.forEach((l, i) => {
    const W = g.floats(`${prefix}.${i}.W`, [l.in, l.out], l.W);
    const b = g.floats(`${prefix}.${i}.b`, [l.out], l.b);
    h = g.op('Add', [g.op('MatMul', [h, W]), b]);
    if (i < w.layers.length - 1) h = activation(g, w.activation, h);
  });
  return h;
}

const axes1: OnnxAttribute = { name: 'axes', kind: 'ints', value: [1] };
const keep = (k: 0 | 1): OnnxAttribute => ({ name: 'keepdims', kind: 'int', value: k });

/** The scoring graph as a serialised ONNX ModelProto (opset 17). */
export function exportScoringModel(model: ScoringModel, opts: ExportOptions = {}): Uint8Array {
  const m = validateScoringModel(model);
  const { K, P, T, distScale } = model.prototypes;
  const g = new GraphBuilder();

  let h = mlp(g, model.backbone, 'backbone', INPUT_NAME);
  if (model.embedNorm === 'l2') {
    const ss = g.op('ReduceSumSquare', [h], [axes1, keep(1)]);
    const norm = g.op('Sqrt', [g.op('Add', [ss, g.scalar('l2_eps', L2_EPS)])]);
    h = g.op('Div', [h, norm]);
  }
  h = g.rename(h, 'h');

  // D = ||h||^2 - 2 h P*^T + ||p||^2, clamped at 0 (rounding can push it just below).
  const PT = new Float32Array(m * K);
  const pn = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let j = 0; j < m; j++) {
      const v = P[k * m + j]!;
      PT[j * K + k] = v;
      s += v * v;
    }
    pn[k] = s;
  }
  const hn = g.op('ReduceSumSquare', [h], [axes1, keep(1)]);
  const hp = g.op('MatMul', [h, g.floats('prototypes.PT', [m, K], PT)]);
  const cross = g.op('Mul', [hp, g.scalar('minus_two', -2)]);
  const D0 = g.op('Add', [g.op('Add', [hn, cross]), g.floats('prototypes.norm2', [1, K], pn)]);
  const D = g.op('Relu', [D0], undefined, 'D');

  const logits = g.op('Mul', [D, g.scalar('neg_inv_temp', -1 / (distScale * T))]);
  const q = g.op('Softmax', [logits], [{ name: 'axis', kind: 'int', value: 1 }], 'q');
  g.op('ReduceMin', [D], [axes1, keep(0)], 's_min');
  // ReduceSum takes its axes as an input from opset 13; the other reductions still as attributes.
  const sQ = g.op('ReduceSum', [g.op('Mul', [q, D]), g.int64s('axes_1', [1])], [keep(0)], 's_q');
  const hq = g.op('MatMul', [q, g.floats('prototypes.P', [K, m], P)]);
  const r = g.op('ReduceSumSquare', [g.op('Sub', [h, hq])], [axes1, keep(0)], 'r');
  g.op('Relu', [g.op('Sub', [sQ, r])], undefined, 'v');
  g.op(
    'ArgMin',
    [D],
    [
      { name: 'axis', kind: 'int', value: 1 },
      { name: 'keepdims', kind: 'int', value: 0 },
    ],
    'nearest',
  );

  const outputs: OnnxValueInfo[] = [
    { name: 'h', type: 'float32', shape: [BATCH_DIM, m] },
    { name: 'D', type: 'float32', shape: [BATCH_DIM, K] },
    { name: 'q', type: 'float32', shape: [BATCH_DIM, K] },
    { name: 's_min', type: 'float32', shape: [BATCH_DIM] },
    { name: 's_q', type: 'float32', shape: [BATCH_DIM] },
    { name: 'r', type: 'float32', shape: [BATCH_DIM] },
    { name: 'v', type: 'float32', shape: [BATCH_DIM] },
    { name: 'nearest', type: 'int64', shape: [BATCH_DIM] },
  ];

  if (model.decoder !== undefined) {
    const xhat = mlp(g, model.decoder, 'decoder', h);
    const e = g.op('Sub', [INPUT_NAME, xhat]);
    g.op('ReduceMean', [g.op('Mul', [e, e])], [axes1, keep(0)], RECON_OUTPUT);
    outputs.push({ name: RECON_OUTPUT, type: 'float32', shape: [BATCH_DIM] });
  }

  return encodeModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET_VERSION,
    producerName: 'ddcl',
    producerVersion: opts.producerVersion ?? '0.1.0',
    docString: opts.docString,
    graph: {
      name: 'ddcl_scoring',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: INPUT_NAME, type: 'float32', shape: [BATCH_DIM, model.inputDim] }],
      outputs,
    },
  });
}
