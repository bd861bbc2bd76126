// A hand-written protobuf encoder for the subset of ONNX's ModelProto that the scoring graph
// uses, and a reader for graph inputs/outputs (the registry checks shapes without starting a
// runtime). Field numbers are those of onnx/onnx.proto. No protobuf dependency.

/** Element types we write: TensorProto.DataType FLOAT = 1, INT64 = 7. */
export type OnnxElemType = 'float32' | 'int64';

const DATA_TYPE: Record<OnnxElemType, number> = { float32: 1, int64: 7 };
const DATA_TYPE_NAME: Record<number, OnnxElemType> = { 1: 'float32', 7: 'int64' };

export type OnnxTensor =
  | { name: string; dims: number[]; type: 'float32'; data: Float32Array }
  | { name: string; dims: number[]; type: 'int64'; data: BigInt64Array };

export type OnnxAttribute =
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'ints'; value: number[] }
  | { name: string; kind: 'string'; value: string };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: OnnxAttribute[];
}

/** A tensor value's type: a dimension is a fixed size or a symbolic name (e.g. 'N'). */
export interface OnnxValueInfo {
  name: string;
  type: OnnxElemType;
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: OnnxGraph;
}

/** Raised by the reader on bytes that are not a ModelProto it understands. */
export class OnnxDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = 'OnnxDecodeError';
  }
}

// ---------------------------------------------------------------- encoder

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const utf8 = new TextEncoder();

/** Accumulates one message's bytes. Nested messages are encoded first, then embedded. */
class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(v: bigint): void {
    // int64 fields are two's complement: negative values take 10 bytes.
    let u = BigInt.asUintN(64, v);
    const out: number[] = [];
    while (u >= 0x80n) {
      out.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    out.push(Number(u));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(typeof v === 'bigint' ? v : BigInt(v));
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(BigInt(b.length));
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  // raw_data MUST be little-endian; write through a DataView so a big-endian host is right too.
  const out = new Uint8Array(data.byteLength);
  const dv = new DataView(out.buffer);
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
  } else {
    for (let i = 0; i < data.length; i++) dv.setBigInt64(i * 8, data[i]!, true);
  }
  return out;
}

function encodeTensor(t: OnnxTensor): Uint8Array {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d); // dims (repeated int64, unpacked is valid proto2)
  w.int(2, DATA_TYPE[t.type]); // data_type
  w.string(8, t.name); // name
  w.bytes(9, littleEndianBytes(t.data)); // raw_data
  return w.finish();
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

function encodeAttribute(a: OnnxAttribute): Uint8Array {
  const w = new Writer().string(1, a.name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value).int(20, ATTR_FLOAT);
      break;
    case 'int':
      w.int(3, a.value).int(20, ATTR_INT);
      break;
    case 'string':
      w.string(4, a.value).int(20, ATTR_STRING);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      w.int(20, ATTR_INTS);
      break;
  }
  return w.finish();
}

function encodeNode(n: OnnxNode): Uint8Array {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.bytes(5, encodeAttribute(a));
  return w.finish();
}

function encodeValueInfo(v: OnnxValueInfo): Uint8Array {
  const shape = new Writer();
  for (const d of v.shape) {
    const dim = new Writer();
    if (typeof d === 'number')
      dim.int(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.bytes(1, dim.finish());
  }
  const tensorType = new Writer().int(1, DATA_TYPE[v.type]).bytes(2, shape.finish());
  const typeProto = new Writer().bytes(1, tensorType.finish());
  return new Writer().string(1, v.name).bytes(2, typeProto.finish()).finish();
}

function encodeGraph(g: OnnxGraph): Uint8Array {
  const w = new Writer();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  for (const i of g.inputs) w.bytes(11, encodeValueInfo(i));
  for (const o of g.outputs) w.bytes(12, encodeValueInfo(o));
  return w.finish();
}

/** Serialise a ModelProto (default ONNX domain only). */
export function encodeModel(m: OnnxModel): Uint8Array {
  const opset = new Writer().string(1, '').int(2, m.opsetVersion).finish();
  const w = new Writer().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString !== undefined) w.string(6, m.docString);
  w.bytes(7, encodeGraph(m.graph));
  w.bytes(8, opset);
  return w.finish();
}

// ---------------------------------------------------------------- reader (graph I/O only)

interface Field {
  field: number;
  wire: number;
  /** varint value (wire 0) */
  int: bigint;
  /** payload (wire 2) */
  bytes: Uint8Array;
}

/** Iterate the top-level fields of one message; skips what it does not need to understand. */
function* fields(b: Uint8Array, base = 0): Generator<Field> {
  let o = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (o >= b.length) throw new OnnxDecodeError('truncated varint', base + o);
      const byte = b[o++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return v;
      shift += 7n;
      if (shift > 63n) throw new OnnxDecodeError('varint longer than 10 bytes', base + o);
    }
  };
  const empty = new Uint8Array(0);
  while (o < b.length) {
    const start = o;
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw new OnnxDecodeError('field number 0', base + start);
    switch (wire) {
      case 0:
        yield { field, wire, int: varint(), bytes: empty };
        break;
      case 1:
        o += 8;
        if (o > b.length) throw new OnnxDecodeError('truncated fixed64', base + start);
        break;
      case 2: {
        const len = Number(varint());
        if (o + len > b.length) {
          throw new OnnxDecodeError(`field ${field} length ${len} runs past the end`, base + start);
        }
        yield { field, wire, int: 0n, bytes: b.subarray(o, o + len) };
        o += len;
        break;
      }
      case 5:
        o += 4;
        if (o > b.length) throw new OnnxDecodeError('truncated fixed32', base + start);
        break;
      default:
        throw new OnnxDecodeError(`unsupported wire type ${wire}`, base + start);
    }
  }
}

const utf8d = new TextDecoder('utf-8', { fatal: true });

function decodeValueInfo(b: Uint8Array): OnnxValueInfo {
  let name = '';
  let type: OnnxElemType | undefined;
  const shape: (number | string)[] = [];
  for (const f of fields(b)) {
    if (f.field === 1 && f.wire === 2) name = utf8d.decode(f.bytes);
    if (f.field !== 2 || f.wire !== 2) continue;
    for (const tp of fields(f.bytes)) {
      if (tp.field !== 1 || tp.wire !== 2) continue; // tensor_type only
      for (const tt of fields(tp.bytes)) {
        if (tt.field === 1 && tt.wire === 0) type = DATA_TYPE_NAME[Number(tt.int)];
        if (tt.field !== 2 || tt.wire !== 2) continue;
        for (const dim of fields(tt.bytes)) {
          if (dim.field !== 1 || dim.wire !== 2) continue;
          let d: number | string = '?';
          for (const dv of fields(dim.bytes)) {
            if (dv.field === 1 && dv.wire === 0) d = Number(BigInt.asIntN(64, dv.int));
            if (dv.field === 2 && dv.wire === 2) d = utf8d.decode(dv.bytes);
          }
          shape.push(d);
        }
      }
    }
  }
  if (type === undefined) throw new OnnxDecodeError(`value '${name}' has no supported tensor type`, 0);
  return { name, type, shape };
}

/** Inputs and outputs of a serialised ModelProto's main graph, plus its opset and IR version. */
export function readGraphIO(bytes: Uint8Array): {
  irVersion: number;
  opsetVersion: number;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
} {
  let irVersion = -1;
  let opsetVersion = -1;
  let graph: Uint8Array | undefined;
  for (const f of fields(bytes)) {
    if (f.field === 1 && f.wire === 0) irVersion = Number(f.int);
    if (f.field === 7 && f.wire === 2) graph = f.bytes;
    if (f.field === 8 && f.wire === 2) {
      let domain = '';
      let version = -1;
      for (const o of fields(f.bytes)) {
        if (o.field === 1 && o.wire === 2) domain = utf8d.decode(o.bytes);
        if (o.field === 2 && o.wire === 0) version = Number(o.int);
      }
      if (domain === '' || domain === 'ai.onnx') opsetVersion = version;
    }
  }
  if (graph === undefined) throw new OnnxDecodeError('ModelProto has no graph (field 7)', 0);
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  for (const f of fields(graph)) {
    if (f.field === 11 && f.wire === 2) inputs.push(decodeValueInfo(f.bytes));
    if (f.field === 12 && f.wire === 2) outputs.push(decodeValueInfo(f.bytes));
  }
  return { irVersion, opsetVersion, inputs, outputs };
}
