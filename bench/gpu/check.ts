// The device check (bench/gpu/README.md): scoring events/s of a large backbone on ONNX Runtime and
// the time of one DDCL training step on tfjs, on the CPU and on whatever GPU path starts. Run in
// parts so that a GPU path that hangs cannot take the CPU figures with it:
//   node check.js --part cpu --out cpu.json
//   node check.js --part gpu --only serve --out gpu-serve.json
//   node check.js --part gpu --only train --out gpu-train.json
//   node check.js --merge cpu.json gpu-serve.json gpu-train.json     (prints the one JSON line)
// (ONNX Runtime's WebGPU provider and Dawn for tfjs are two WebGPU stacks: separate processes keep
// a crash in one from taking the other's figure.)
// Nothing is assumed: every number is measured here, every missing GPU path carries its reason.
import { availableParallelism, cpus } from 'node:os';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { OnnxScorer } from '../../src/serve/scorer.js';
import { exportScoringModel } from '../../src/serve/onnx/export.js';
import { planDevice, probeDevices, type DeviceProbe } from '../../src/serve/device.js';
import type { ScoringModel } from '../../src/model/types.js';
import { Rng } from '../../src/model/rng.js';
import { Mlp } from '../../src/model/backbone.js';
import { DualAttention } from '../../src/model/dcl.js';
import { ddclTerms, standardise } from '../../src/model/loss.js';
import {
  DeviceUnavailableError,
  selectTrainDevice,
  type TrainDeviceReport,
} from '../../src/model/trainDevice.js';

interface Shape {
  inputDim: number;
  width: number;
  layers: number;
  m: number;
  K: number;
  scoreBatch: number;
  trainBatch: number;
}

interface ScoreResult {
  provider: string;
  score_events_per_s: number;
  score_runs: number;
  /** max |s_min - s_min(cpu)| / max(|s_min(cpu)|), GPU part only. */
  s_min_max_rel_diff?: number;
}
interface TrainResult {
  train_device: string;
  train_backend: string;
  train_step_ms: number;
  train_steps: number;
  adapter?: string;
}
interface PartResult {
  part: 'cpu' | 'gpu';
  shape: Shape;
  serve?: ScoreResult;
  serve_error?: string;
  /** Why GPU providers were not tried (serving probe). */
  serve_skipped?: string[];
  providers_tried?: string[];
  train?: TrainResult;
  train_error?: string;
  probe?: DeviceProbe;
}

const DEFAULT_SHAPE: Shape = {
  inputDim: 64,
  width: 1024,
  layers: 4,
  m: 32,
  K: 16,
  scoreBatch: 8192,
  trainBatch: 4096,
};
/** Each measurement runs at least this long (after one warm-up run) and at least `MIN_RUNS` times. */
const MIN_SECONDS = 2;
const MIN_RUNS = 3;
const MAX_RUNS = 50;
/** A training step on a CPU engine takes seconds for the default shape: fewer repeats. */
const MIN_TRAIN_RUNS = 2;

function msg(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return e.message.split('\n')[0]! + (cause instanceof Error ? ` (${cause.message.split('\n')[0]})` : '');
  }
  return String(e);
}

function round(x: number, digits = 3): number {
  const f = 10 ** Math.max(0, digits - Math.ceil(Math.log10(Math.abs(x) + 1e-300)));
  return Math.round(x * f) / f;
}

function uniform(rng: Rng, n: number, lim: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * lim;
  return a;
}

/** Layer sizes d -> width x (layers - 1) -> m: `layers` dense layers. */
function sizesOf(s: Shape): number[] {
  return [s.inputDim, ...Array.from({ length: s.layers - 1 }, () => s.width), s.m];
}

/** A random (He-initialised) scoring model of the given shape: the cost of scoring does not depend on training. */
function randomScoringModel(s: Shape, seed = 1): ScoringModel {
  const rng = new Rng(seed);
  const sizes = sizesOf(s);
  const layers = sizes.slice(0, -1).map((nin, l) => {
    const nout = sizes[l + 1]!;
    return {
      in: nin,
      out: nout,
      W: uniform(rng, nin * nout, Math.sqrt(6 / nin)),
      b: uniform(rng, nout, 0.01),
    };
  });
  return {
    inputDim: s.inputDim,
    backbone: { activation: 'relu', layers },
    embedNorm: 'none',
    prototypes: { K: s.K, m: s.m, P: uniform(rng, s.K * s.m, 1), T: 0.1, distScale: 1 },
  };
}

async function timeRuns(
  run: () => Promise<void>,
  minRuns = MIN_RUNS,
): Promise<{ seconds: number; runs: number }> {
  await run(); // warm-up: session/shader compilation, allocation
  let runs = 0;
  const t0 = performance.now();
  while (runs < MAX_RUNS && (runs < minRuns || performance.now() - t0 < MIN_SECONDS * 1000)) {
    await run();
    runs++;
  }
  return { seconds: (performance.now() - t0) / 1000, runs };
}

async function benchScore(
  bytes: Uint8Array,
  s: Shape,
  X: Float32Array,
  providers: string[],
  ref?: Float32Array,
): Promise<{ res: ScoreResult; tried: string[]; failures: string[]; sMin: Float32Array }> {
  const scorer = await OnnxScorer.create(bytes, { executionProviders: providers });
  const tried = [...scorer.providerFailures.map((f) => f.provider), scorer.executionProvider];
  const failures = scorer.providerFailures.map((f) => `${f.provider}: ${f.error}`);
  try {
    let sMin: Float32Array = new Float32Array(0);
    const t = await timeRuns(async () => {
      sMin = (await scorer.score(X, s.scoreBatch)).sMin;
    });
    const res: ScoreResult = {
      provider: scorer.executionProvider,
      score_events_per_s: Math.round((t.runs * s.scoreBatch) / t.seconds),
      score_runs: t.runs,
    };
    if (ref) {
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < ref.length; i++) {
        diff = Math.max(diff, Math.abs(sMin[i]! - ref[i]!));
        scale = Math.max(scale, Math.abs(ref[i]!));
      }
      res.s_min_max_rel_diff = round(diff / Math.max(scale, 1e-30));
    }
    return { res, tried, failures, sMin };
  } finally {
    await scorer.release();
  }
}

/** One DDCL step as trainDDCL takes it: backbone, batch standardisation, dual-attention DCL, L_q, Adam. */
async function benchTrain(s: Shape, report: TrainDeviceReport): Promise<TrainResult> {
  const rng = new Rng(2);
  const backbone = Mlp.create({ sizes: sizesOf(s), activation: 'relu', seed: 3 });
  const dcl = new DualAttention(s.m, s.K, uniform(rng, s.m * s.K, 1), 1);
  const opt = tf.train.adam(1e-3);
  const xb = tf.tensor2d(uniform(rng, s.trainBatch * s.inputDim, 1), [s.trainBatch, s.inputDim]);
  const vars = [...backbone.trainable(), ...dcl.trainable()];
  let last = NaN;
  try {
    const t = await timeRuns(async () => {
      const cost = opt.minimize(
        () =>
          ddclTerms(standardise(backbone.apply(xb), 1e-5).H, (H) => dcl.prototypes(H), {
            T: 0.1,
            distNorm: 'median',
            objective: 'lq',
          }).objective,
        true,
        vars,
      );
      // Reading the loss waits for the device to finish the step.
      last = (await cost!.data())[0]!;
      cost!.dispose();
    }, MIN_TRAIN_RUNS);
    if (!Number.isFinite(last)) throw new Error(`training step gave a non-finite loss (${last})`);
    const res: TrainResult = {
      train_device: report.actual,
      train_backend: report.backend,
      train_step_ms: round((t.seconds * 1000) / t.runs),
      train_steps: t.runs,
    };
    if (report.adapter !== undefined) res.adapter = report.adapter;
    return res;
  } finally {
    xb.dispose();
    backbone.dispose();
    dcl.dispose();
    opt.dispose();
  }
}

type Only = 'serve' | 'train' | undefined;

async function runPart(part: 'cpu' | 'gpu', s: Shape, only: Only): Promise<PartResult> {
  const out: PartResult = { part, shape: s };
  if (only !== 'train') await runServe(part, s, out);
  if (only !== 'serve') await runTrain(part, s, out);
  return out;
}

async function runServe(part: 'cpu' | 'gpu', s: Shape, out: PartResult): Promise<void> {
  const model = randomScoringModel(s);
  const bytes = exportScoringModel(model);
  const X = uniform(new Rng(4), s.scoreBatch * s.inputDim, 1);
  if (part === 'cpu') {
    try {
      out.serve = (await benchScore(bytes, s, X, ['cpu'])).res;
    } catch (e) {
      out.serve_error = msg(e);
    }
  } else {
    const probe = await probeDevices();
    out.probe = probe;
    const plan = planDevice('auto', probe);
    out.serve_skipped = plan.skipped.map((k) => `${k.provider}: ${k.reason}`);
    const gpuProviders = plan.providers.filter((p) => p !== 'cpu');
    out.providers_tried = [];
    if (gpuProviders.length === 0) {
      out.serve_error = `no GPU execution provider can start: ${out.serve_skipped.join('; ')}`;
    } else {
      try {
        // Reference on the CPU for the agreement figure (one run, short batch is enough).
        const refScorer = await OnnxScorer.create(bytes, { executionProviders: ['cpu'] });
        const ref = (await refScorer.score(X, s.scoreBatch)).sMin;
        await refScorer.release();
        const r = await benchScore(bytes, s, X, gpuProviders, ref);
        out.providers_tried = r.tried;
        out.serve = r.res;
        if (r.failures.length) out.serve_skipped.push(...r.failures);
      } catch (e) {
        out.providers_tried = gpuProviders;
        out.serve_error = msg(e);
      }
    }
  }
}

async function runTrain(part: 'cpu' | 'gpu', s: Shape, out: PartResult): Promise<void> {
  try {
    let report: TrainDeviceReport | undefined;
    if (part === 'cpu') report = await selectTrainDevice('cpu');
    else {
      const errors: string[] = [];
      for (const dev of ['cuda', 'webgpu'] as const) {
        try {
          report = await selectTrainDevice(dev);
          break;
        } catch (e) {
          if (!(e instanceof DeviceUnavailableError)) throw e;
          errors.push(e.message);
        }
      }
      if (!report) throw new Error(errors.join('; '));
    }
    out.train = await benchTrain(s, report);
  } catch (e) {
    out.train_error = msg(e);
  }
}

interface CheckLine {
  device: string;
  node: string;
  vulkan?: string;
  cpu_model: string;
  cores: number;
  shape: Shape;
  providers_tried: string[];
  cpu: {
    provider: string | null;
    score_events_per_s: number | null;
    train_backend: string | null;
    train_step_ms: number | null;
    errors?: string[];
  };
  gpu:
    | {
        provider: string | null;
        score_events_per_s: number | null;
        s_min_max_rel_diff?: number;
        train_device: string | null;
        train_backend: string | null;
        train_step_ms: number | null;
        adapter?: string;
        errors?: string[];
      }
    | { error: string };
  ratio: { score: number | null; train: number | null };
}

function readPart(path: string, part: string): PartResult | { error: string } {
  if (!existsSync(path)) return { error: `the ${part} part wrote no result (crashed or timed out)` };
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PartResult;
  } catch (e) {
    return { error: `the ${part} part's result is unreadable: ${msg(e)}` };
  }
}

/** The GPU part's result from its serve and train processes; `why*` explain a missing one. */
function combineGpu(
  serve: PartResult | { error: string },
  train: PartResult | { error: string },
  whyServe?: string,
  whyTrain?: string,
): PartResult | { error: string } {
  const sv = 'part' in serve ? serve : undefined;
  const tr = 'part' in train ? train : undefined;
  const serveWhy = whyServe ?? ('error' in serve ? serve.error : undefined) ?? 'not run';
  const trainWhy = whyTrain ?? ('error' in train ? train.error : undefined) ?? 'not run';
  if (!sv && !tr) return { error: `serve: ${serveWhy} | train: ${trainWhy}` };
  const out: PartResult = { part: 'gpu', shape: (sv ?? tr)!.shape };
  if (sv) {
    if (sv.serve) out.serve = sv.serve;
    if (sv.serve_error) out.serve_error = sv.serve_error;
    if (sv.serve_skipped) out.serve_skipped = sv.serve_skipped;
    if (sv.providers_tried) out.providers_tried = sv.providers_tried;
    if (sv.probe) out.probe = sv.probe;
  } else out.serve_error = serveWhy;
  if (tr) {
    if (tr.train) out.train = tr.train;
    if (tr.train_error) out.train_error = tr.train_error;
  } else out.train_error = trainWhy;
  return out;
}

/** The one JSON line from the two parts' results. `why` explains a missing part (e.g. a timeout). */
function merge(
  cpu: PartResult | { error: string },
  gpu: PartResult | { error: string },
  env: { device?: string; whyCpu?: string; nodeSource?: string; vulkan?: string } = {},
): CheckLine {
  const c = 'part' in cpu ? cpu : undefined;
  const g = 'part' in gpu ? gpu : undefined;
  const cpuErrors = c
    ? [c.serve_error, c.train_error].filter((x): x is string => !!x)
    : [env.whyCpu ?? (cpu as { error: string }).error];
  const line: CheckLine = {
    device: env.device || g?.train?.adapter || 'no GPU found',
    node: process.version + (env.nodeSource ? ` (${env.nodeSource})` : ''),
    cpu_model: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    shape: c?.shape ?? g?.shape ?? DEFAULT_SHAPE,
    providers_tried: ['cpu', ...(g?.providers_tried ?? [])],
    cpu: {
      provider: c?.serve?.provider ?? null,
      score_events_per_s: c?.serve?.score_events_per_s ?? null,
      train_backend: c?.train?.train_backend ?? null,
      train_step_ms: c?.train?.train_step_ms ?? null,
    },
    gpu: { error: '' },
    ratio: { score: null, train: null },
  };
  if (env.vulkan) line.vulkan = env.vulkan;
  if (cpuErrors.length) line.cpu.errors = cpuErrors;
  if (!g) {
    line.gpu = { error: (gpu as { error: string }).error };
    return line;
  }
  if (!g.serve && !g.train) {
    line.gpu = {
      error: [`serve: ${g.serve_error ?? 'not run'}`, `train: ${g.train_error ?? 'not run'}`].join(' | '),
    };
    return line;
  }
  const errors = [
    g.serve_error && `serve: ${g.serve_error}`,
    g.train_error && `train: ${g.train_error}`,
    ...(g.serve_skipped ?? []).map((s) => `serve skipped ${s}`),
  ].filter((x): x is string => !!x);
  line.gpu = {
    provider: g.serve?.provider ?? null,
    score_events_per_s: g.serve?.score_events_per_s ?? null,
    train_device: g.train?.train_device ?? null,
    train_backend: g.train?.train_backend ?? null,
    train_step_ms: g.train?.train_step_ms ?? null,
  };
  if (g.serve?.s_min_max_rel_diff !== undefined) line.gpu.s_min_max_rel_diff = g.serve.s_min_max_rel_diff;
  if (g.train?.adapter !== undefined) line.gpu.adapter = g.train.adapter;
  if (errors.length) line.gpu.errors = errors;
  const cs = line.cpu.score_events_per_s;
  const gs = line.gpu.score_events_per_s;
  if (cs && gs) line.ratio.score = round(gs / cs);
  const ct = line.cpu.train_step_ms;
  const gt = line.gpu.train_step_ms;
  if (ct && gt) line.ratio.train = round(ct / gt);
  return line;
}

interface Args {
  part?: 'cpu' | 'gpu';
  only?: 'serve' | 'train';
  out?: string;
  merge?: [string, string, string];
  shape: Shape;
}

function parseArgs(argv: string[]): Args {
  const shape = { ...DEFAULT_SHAPE };
  const r: Args = { shape };
  const keys: Record<string, keyof Shape> = {
    '--input': 'inputDim',
    '--width': 'width',
    '--layers': 'layers',
    '--m': 'm',
    '--K': 'K',
    '--batch': 'scoreBatch',
    '--train-batch': 'trainBatch',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--part') {
      const p = argv[++i];
      if (p !== 'cpu' && p !== 'gpu') throw new Error(`--part cpu|gpu, got ${String(p)}`);
      r.part = p;
    } else if (a === '--only') {
      const o = argv[++i];
      if (o !== 'serve' && o !== 'train') throw new Error(`--only serve|train, got ${String(o)}`);
      r.only = o;
    } else if (a === '--out') r.out = argv[++i];
    else if (a === '--merge') {
      const files = argv.slice(i + 1, i + 4);
      if (files.length !== 3) throw new Error('--merge CPU.json GPU-SERVE.json GPU-TRAIN.json');
      r.merge = files as [string, string, string];
      i += 3;
    } else if (keys[a]) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      shape[keys[a]] = v;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (shape.layers < 2) throw new Error('--layers must be >= 2');
  return r;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.merge) {
    const gpu = combineGpu(
      readPart(args.merge[1], 'gpu serve'),
      readPart(args.merge[2], 'gpu train'),
      process.env.GPU_CHECK_GPU_SERVE_WHY || undefined,
      process.env.GPU_CHECK_GPU_TRAIN_WHY || undefined,
    );
    const line = merge(readPart(args.merge[0], 'cpu'), gpu, {
      device: process.env.GPU_CHECK_DEVICE,
      whyCpu: process.env.GPU_CHECK_CPU_WHY || undefined,
      nodeSource: process.env.GPU_CHECK_NODE_SRC || undefined,
      vulkan: process.env.GPU_CHECK_VULKAN || undefined,
    });
    process.stdout.write(JSON.stringify(line) + '\n');
    return;
  }
  if (!args.part)
    throw new Error('need --part cpu|gpu [--only serve|train] or --merge CPU GPU-SERVE GPU-TRAIN');
  const res = await runPart(args.part, args.shape, args.only);
  const text = JSON.stringify(res);
  if (args.out) writeFileSync(args.out, text + '\n');
  else process.stdout.write(text + '\n');
  process.stderr.write(`[check] ${args.part}${args.only ? ` ${args.only}` : ''}: ${text}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`[check] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
