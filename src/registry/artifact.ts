// A model artifact is one folder, models/<name>/<version>/ (docs/DESIGN.md "Model artifacts"):
//   manifest.json    format version, identity, lineage, hyper-parameters, metrics, and a sha256 and
//                    byte size for every other file
//   model.onnx       the scoring graph (src/serve/onnx/export.ts)
//   weights.json     index of weights.bin (name, shape, byte offset, length) + opaque training meta
//   weights.bin      float32 little-endian tensors, to resume training
//   features.json    opaque: feature spec and normalisation statistics (the featurizer's)
//   prototypes.json  P* (row-major K x m), T, distScale, per-prototype input-space statistics
//   calibration.json opaque: the calibrator's state
// It is written into a temporary folder beside its final place, every file fsynced, then renamed
// into place: a reader sees a whole version or none. Loading checks everything and refuses with
// an ArtifactError that names the file and the problem.

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PrototypeSnapshot } from '../model/types.js';
import { OnnxDecodeError, readGraphIO } from '../serve/onnx/proto.js';

export const ARTIFACT_FORMAT_VERSION = 1;
const WEIGHTS_FORMAT_VERSION = 1;

export const MANIFEST_FILE = 'manifest.json';
export const ARTIFACT_FILES = [
  'model.onnx',
  'weights.json',
  'weights.bin',
  'features.json',
  'prototypes.json',
  'calibration.json',
] as const;
export type ArtifactFile = (typeof ARTIFACT_FILES)[number] | typeof MANIFEST_FILE;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type ArtifactProblem =
  | 'missing' // a file is not there
  | 'io' // it could not be read or written
  | 'invalid-json'
  | 'size' // byte size differs from the manifest's (truncated or extended)
  | 'checksum' // sha256 differs from the manifest's (corrupt)
  | 'format-version' // a format this code does not know
  | 'schema' // a field is missing or of the wrong type
  | 'shape' // sizes disagree between files
  | 'exists'; // the target folder of a write is already there

export class ArtifactError extends Error {
  constructor(
    /** The artifact folder. */
    readonly dir: string,
    /** The file at fault (relative to dir). */
    readonly file: string,
    readonly problem: ArtifactProblem,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`artifact ${dir}: ${file}: ${problem}: ${detail}`, options);
    this.name = 'ArtifactError';
  }
}

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** Training weights, to resume: named float32 tensors plus JSON meta (architecture, step, ...). */
export interface WeightsPart {
  tensors: Record<string, NamedTensor>;
  meta: JsonValue;
}

/** Input-space statistics of the events a prototype represents (for explanations). */
export interface PrototypeStats {
  count: number;
  /** per input feature, length inputDim */
  mean: number[];
  std: number[];
}

export interface PrototypesPart {
  snapshot: PrototypeSnapshot;
  /** one per prototype, K in all */
  stats: PrototypeStats[];
}

/** What a trainer hands over to be stored; the manifest is derived from it. */
export interface ArtifactParts {
  inputDim: number;
  /** Fingerprint of the input schema the features were built from ('' when unknown). */
  inputSchemaFingerprint?: string;
  /** The version this one was trained from (fine-tuning lineage); null for a fresh model. */
  parentVersion?: string | null;
  /** e.g. { fromTs, toTs, rows } */
  trainingWindow?: JsonValue;
  hyperparameters: JsonValue;
  /** Per epoch, e.g. [{ epoch, L_q, L_OLS, V }, ...] */
  trainingMetrics: JsonValue;
  validation: JsonValue;
  onnx: Uint8Array;
  weights: WeightsPart;
  features: JsonValue;
  prototypes: PrototypesPart;
  calibration: JsonValue;
}

export interface FileEntry {
  sha256: string;
  bytes: number;
}

export interface Manifest {
  formatVersion: number;
  name: string;
  version: string;
  parentVersion: string | null;
  /** ISO 8601 */
  created: string;
  inputDim: number;
  inputSchemaFingerprint: string;
  trainingWindow: JsonValue;
  hyperparameters: JsonValue;
  trainingMetrics: JsonValue;
  validation: JsonValue;
  files: Record<(typeof ARTIFACT_FILES)[number], FileEntry>;
}

/** A loaded, validated artifact. */
export interface ModelArtifact {
  dir: string;
  manifest: Manifest;
  onnx: Uint8Array;
  weights: WeightsPart;
  features: JsonValue;
  prototypes: PrototypesPart;
  calibration: JsonValue;
}

export interface WriteOptions {
  /** Defaults to now. */
  created?: Date;
  /** Test seam: called after each file is written and fsynced; a throw aborts the write. */
  afterFile?: (file: ArtifactFile) => void | Promise<void>;
}

// ---------------------------------------------------------------- encoding

interface WeightsIndex {
  format: number;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  meta: JsonValue;
}

function encodeWeights(w: WeightsPart): { index: WeightsIndex; bin: Uint8Array } {
  const names = Object.keys(w.tensors).sort();
  const total = names.reduce((s, n) => s + w.tensors[n]!.data.length, 0);
  const bin = new Uint8Array(total * 4);
  const dv = new DataView(bin.buffer);
  const tensors: WeightsIndex['tensors'] = [];
  let off = 0;
  for (const name of names) {
    const t = w.tensors[name]!;
    for (let i = 0; i < t.data.length; i++) dv.setFloat32(off + i * 4, t.data[i]!, true);
    tensors.push({ name, shape: [...t.shape], offset: off, length: t.data.length });
    off += t.data.length * 4;
  }
  return { index: { format: WEIGHTS_FORMAT_VERSION, tensors, meta: w.meta }, bin };
}

interface PrototypesJson {
  K: number;
  m: number;
  T: number;
  distScale: number;
  /** row-major K x m */
  P: number[];
  stats: PrototypeStats[];
}

function encodePrototypes(p: PrototypesPart): PrototypesJson {
  const s = p.snapshot;
  // float32 -> JS number is exact, and JSON round-trips doubles exactly: P comes back bit for bit.
  return { K: s.K, m: s.m, T: s.T, distScale: s.distScale, P: Array.from(s.P), stats: p.stats };
}

const utf8 = new TextEncoder();
const json = (v: unknown): Uint8Array => utf8.encode(JSON.stringify(v, null, 1) + '\n');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function writeFileSynced(file: string, data: Uint8Array): Promise<void> {
  const fh = await fs.open(file, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a folder so that the names in it (new files, a rename) are durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write an artifact to `dir` (which must not exist) atomically: a temporary sibling folder,
 * every file fsynced, manifest last, then one rename. Returns the manifest written.
 */
export async function writeArtifact(
  dir: string,
  identity: { name: string; version: string },
  parts: ArtifactParts,
  opts: WriteOptions = {},
): Promise<Manifest> {
  checkParts(dir, parts);
  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  if (await exists(dir)) throw new ArtifactError(dir, '.', 'exists', 'target folder already exists');
  const tmp = path.join(
    parent,
    `.tmp-${path.basename(dir)}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await fs.mkdir(tmp);
  try {
    const { index, bin } = encodeWeights(parts.weights);
    const contents: Record<(typeof ARTIFACT_FILES)[number], Uint8Array> = {
      'model.onnx': parts.onnx,
      'weights.json': json(index),
      'weights.bin': bin,
      'features.json': json(parts.features),
      'prototypes.json': json(encodePrototypes(parts.prototypes)),
      'calibration.json': json(parts.calibration),
    };
    const files = {} as Manifest['files'];
    for (const f of ARTIFACT_FILES) {
      await writeFileSynced(path.join(tmp, f), contents[f]);
      files[f] = { sha256: sha256(contents[f]), bytes: contents[f].length };
      await opts.afterFile?.(f);
    }
    const manifest: Manifest = {
      formatVersion: ARTIFACT_FORMAT_VERSION,
      name: identity.name,
      version: identity.version,
      parentVersion: parts.parentVersion ?? null,
      created: (opts.created ?? new Date()).toISOString(),
      inputDim: parts.inputDim,
      inputSchemaFingerprint: parts.inputSchemaFingerprint ?? '',
      trainingWindow: parts.trainingWindow ?? null,
      hyperparameters: parts.hyperparameters,
      trainingMetrics: parts.trainingMetrics,
      validation: parts.validation,
      files,
    };
    await writeFileSynced(path.join(tmp, MANIFEST_FILE), json(manifest));
    await opts.afterFile?.(MANIFEST_FILE);
    await syncDir(tmp);
    try {
      await fs.rename(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new ArtifactError(dir, '.', 'exists', 'target folder appeared during the write', { cause: e });
      }
      throw e;
    }
    await syncDir(parent);
    return manifest;
  } catch (e) {
    // Leave nothing half-written behind; if even that fails, report both.
    try {
      await fs.rm(tmp, { recursive: true, force: true });
    } catch (cleanup) {
      throw new AggregateError([e, cleanup], `write of ${dir} failed and ${tmp} could not be removed`);
    }
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

// ---------------------------------------------------------------- validation

/** Checks on the in-memory parts, shared by write (refuse early) and load (refuse on disk). */
function checkParts(dir: string, parts: Pick<ArtifactParts, 'inputDim' | 'onnx' | 'prototypes'>): void {
  const { snapshot: s, stats } = parts.prototypes;
  const pf = 'prototypes.json';
  const bad = (file: string, detail: string, problem: ArtifactProblem = 'shape'): never => {
    throw new ArtifactError(dir, file, problem, detail);
  };
  if (!Number.isInteger(parts.inputDim) || parts.inputDim <= 0) {
    bad(MANIFEST_FILE, `inputDim must be a positive integer, got ${parts.inputDim}`, 'schema');
  }
  if (!Number.isInteger(s.K) || s.K <= 0) bad(pf, `K must be a positive integer, got ${s.K}`, 'schema');
  if (!Number.isInteger(s.m) || s.m <= 0) bad(pf, `m must be a positive integer, got ${s.m}`, 'schema');
  if (!(s.T > 0) || !(s.distScale > 0) || !Number.isFinite(s.T) || !Number.isFinite(s.distScale)) {
    bad(pf, `T and distScale must be finite and > 0, got T=${s.T} distScale=${s.distScale}`, 'schema');
  }
  if (s.P.length !== s.K * s.m)
    bad(pf, `P has ${s.P.length} values, expected K*m = ${s.K}*${s.m} = ${s.K * s.m}`);
  for (let i = 0; i < s.P.length; i++) {
    if (!Number.isFinite(s.P[i]!)) bad(pf, `P[${i}] is not finite (${s.P[i]})`, 'schema');
  }
  if (stats.length !== s.K) bad(pf, `stats has ${stats.length} entries, expected K = ${s.K}`);
  stats.forEach((st, k) => {
    if (!Number.isFinite(st.count) || st.count < 0)
      bad(pf, `stats[${k}].count invalid (${st.count})`, 'schema');
    for (const key of ['mean', 'std'] as const) {
      const a = st[key];
      if (!Array.isArray(a) || a.length !== parts.inputDim) {
        bad(
          pf,
          `stats[${k}].${key} has ${Array.isArray(a) ? a.length : typeof a} values, expected inputDim = ${parts.inputDim}`,
        );
      }
      if (!a.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        bad(pf, `stats[${k}].${key} holds a non-finite value`, 'schema');
      }
    }
  });
  let io: ReturnType<typeof readGraphIO>;
  try {
    io = readGraphIO(parts.onnx);
  } catch (e) {
    if (e instanceof OnnxDecodeError) {
      throw new ArtifactError(dir, 'model.onnx', 'schema', `not a readable ONNX model: ${e.message}`, {
        cause: e,
      });
    }
    throw e;
  }
  const x = io.inputs.find((v) => v.name === 'x');
  if (x === undefined || x.shape.length !== 2) bad('model.onnx', "graph has no input 'x' of rank 2");
  if (x!.shape[1] !== parts.inputDim) {
    bad('model.onnx', `input x has ${String(x!.shape[1])} features, manifest inputDim is ${parts.inputDim}`);
  }
  const D = io.outputs.find((v) => v.name === 'D');
  if (D === undefined || D.shape.length !== 2) bad('model.onnx', "graph has no output 'D' of rank 2");
  if (D!.shape[1] !== s.K)
    bad('model.onnx', `output D has ${String(D!.shape[1])} columns, prototypes.json K is ${s.K}`);
  const h = io.outputs.find((v) => v.name === 'h');
  if (h !== undefined && h.shape[1] !== s.m) {
    bad('model.onnx', `output h has ${String(h.shape[1])} columns, prototypes.json m is ${s.m}`);
  }
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(
    readonly dir: string,
    readonly file: string,
  ) {}

  fail(detail: string, problem: ArtifactProblem = 'schema'): never {
    throw new ArtifactError(this.dir, this.file, problem, detail);
  }

  obj(v: unknown, where: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${where} must be an object`);
    return v as Obj;
  }

  num(o: Obj, key: string, opts: { int?: boolean; min?: number } = {}): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v))
      this.fail(`${key} must be a finite number, got ${JSON.stringify(v)}`);
    if (opts.int === true && !Number.isInteger(v)) this.fail(`${key} must be an integer, got ${v}`);
    if (opts.min !== undefined && v < opts.min) this.fail(`${key} must be >= ${opts.min}, got ${v}`);
    return v;
  }

  str(o: Obj, key: string): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(`${key} must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  nums(v: unknown, where: string): number[] {
    if (!Array.isArray(v)) this.fail(`${where} must be an array of numbers`);
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== 'number' || !Number.isFinite(v[i]))
        this.fail(`${where}[${i}] is not a finite number`);
    }
    return v as number[];
  }

  has(o: Obj, key: string): JsonValue {
    if (!(key in o)) this.fail(`field ${key} is missing`);
    return o[key] as JsonValue;
  }
}

function parseJson(dir: string, file: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ArtifactError(dir, file, 'invalid-json', (e as Error).message, { cause: e });
  }
}

async function readFile(dir: string, file: string): Promise<Uint8Array> {
  try {
    const b = await fs.readFile(path.join(dir, file));
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ArtifactError(dir, file, 'missing', 'file not found', { cause: e });
    throw new ArtifactError(dir, file, 'io', `cannot read (${code ?? String(e)})`, { cause: e });
  }
}

function parseManifest(dir: string, raw: unknown): Manifest {
  const r = new Reader(dir, MANIFEST_FILE);
  const o = r.obj(raw, 'manifest');
  const formatVersion = r.num(o, 'formatVersion', { int: true });
  if (formatVersion !== ARTIFACT_FORMAT_VERSION) {
    r.fail(
      `formatVersion ${formatVersion} is not supported (this build reads ${ARTIFACT_FORMAT_VERSION})`,
      'format-version',
    );
  }
  const created = r.str(o, 'created');
  if (Number.isNaN(Date.parse(created))) r.fail(`created is not an ISO date: ${JSON.stringify(created)}`);
  const parent = o['parentVersion'];
  if (parent !== null && typeof parent !== 'string') r.fail('parentVersion must be a string or null');
  const filesObj = r.obj(o['files'], 'files');
  const files = {} as Manifest['files'];
  for (const f of ARTIFACT_FILES) {
    const e = filesObj[f];
    if (e === undefined) r.fail(`files has no entry for ${f}`);
    const eo = r.obj(e, `files.${f}`);
    const sha = r.str(eo, 'sha256');
    if (!/^[0-9a-f]{64}$/.test(sha)) r.fail(`files.${f}.sha256 is not a sha256 hex digest`);
    files[f] = { sha256: sha, bytes: r.num(eo, 'bytes', { int: true, min: 0 }) };
  }
  return {
    formatVersion,
    name: r.str(o, 'name'),
    version: r.str(o, 'version'),
    parentVersion: parent as string | null,
    created,
    inputDim: r.num(o, 'inputDim', { int: true, min: 1 }),
    inputSchemaFingerprint: r.str(o, 'inputSchemaFingerprint'),
    trainingWindow: (o['trainingWindow'] ?? null) as JsonValue,
    hyperparameters: r.has(o, 'hyperparameters'),
    trainingMetrics: r.has(o, 'trainingMetrics'),
    validation: r.has(o, 'validation'),
    files,
  };
}

function parseWeights(dir: string, raw: unknown, bin: Uint8Array): WeightsPart {
  const r = new Reader(dir, 'weights.json');
  const o = r.obj(raw, 'weights index');
  const format = r.num(o, 'format', { int: true });
  if (format !== WEIGHTS_FORMAT_VERSION) r.fail(`format ${format} is not supported`, 'format-version');
  if (!Array.isArray(o['tensors'])) r.fail('tensors must be an array');
  const dv = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const tensors: Record<string, NamedTensor> = {};
  (o['tensors'] as unknown[]).forEach((t, i) => {
    const to = r.obj(t, `tensors[${i}]`);
    const name = r.str(to, 'name');
    const shape = r.nums(to['shape'], `tensors[${i}].shape`);
    const offset = r.num(to, 'offset', { int: true, min: 0 });
    const length = r.num(to, 'length', { int: true, min: 0 });
    const product = shape.reduce((a, b) => a * b, 1);
    if (product !== length)
      r.fail(
        `tensor ${name}: shape [${shape.join(', ')}] holds ${product} values, length is ${length}`,
        'shape',
      );
    if (offset % 4 !== 0 || offset + length * 4 > bin.length) {
      r.fail(
        `tensor ${name}: bytes [${offset}, ${offset + length * 4}) lie outside weights.bin (${bin.length} bytes)`,
        'shape',
      );
    }
    if (name in tensors) r.fail(`tensor ${name} appears twice`);
    const data = new Float32Array(length);
    for (let j = 0; j < length; j++) data[j] = dv.getFloat32(offset + j * 4, true);
    tensors[name] = { shape, data };
  });
  return { tensors, meta: (o['meta'] ?? null) as JsonValue };
}

function parsePrototypes(dir: string, raw: unknown): PrototypesPart {
  const r = new Reader(dir, 'prototypes.json');
  const o = r.obj(raw, 'prototypes');
  const K = r.num(o, 'K', { int: true, min: 1 });
  const m = r.num(o, 'm', { int: true, min: 1 });
  const P = Float32Array.from(r.nums(o['P'], 'P'));
  if (!Array.isArray(o['stats'])) r.fail('stats must be an array');
  const stats = (o['stats'] as unknown[]).map((s, k) => {
    const so = r.obj(s, `stats[${k}]`);
    return {
      count: r.num(so, 'count', { min: 0 }),
      mean: r.nums(so['mean'], `stats[${k}].mean`),
      std: r.nums(so['std'], `stats[${k}].std`),
    };
  });
  return { snapshot: { K, m, P, T: r.num(o, 'T'), distScale: r.num(o, 'distScale') }, stats };
}

/** Read and validate the artifact in `dir`; any problem throws an ArtifactError. */
export async function loadArtifact(dir: string): Promise<ModelArtifact> {
  const manifest = parseManifest(dir, parseJson(dir, MANIFEST_FILE, await readFile(dir, MANIFEST_FILE)));
  const bytes = {} as Record<(typeof ARTIFACT_FILES)[number], Uint8Array>;
  for (const f of ARTIFACT_FILES) {
    const b = await readFile(dir, f);
    const want = manifest.files[f];
    if (b.length !== want.bytes) {
      const how = b.length < want.bytes ? 'truncated' : 'longer than written';
      throw new ArtifactError(dir, f, 'size', `${how}: ${b.length} bytes, manifest says ${want.bytes}`);
    }
    const got = sha256(b);
    if (got !== want.sha256) {
      throw new ArtifactError(dir, f, 'checksum', `corrupt: sha256 ${got} != manifest's ${want.sha256}`);
    }
    bytes[f] = b;
  }
  const weights = parseWeights(
    dir,
    parseJson(dir, 'weights.json', bytes['weights.json']),
    bytes['weights.bin'],
  );
  const prototypes = parsePrototypes(dir, parseJson(dir, 'prototypes.json', bytes['prototypes.json']));
  const onnx = bytes['model.onnx'];
  checkParts(dir, { inputDim: manifest.inputDim, onnx, prototypes });
  return {
    dir,
    manifest,
    onnx,
    weights,
    features: parseJson(dir, 'features.json', bytes['features.json']) as JsonValue,
    prototypes,
    calibration: parseJson(dir, 'calibration.json', bytes['calibration.json']) as JsonValue,
  };
}
