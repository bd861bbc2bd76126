// Scoring throughput with ONNX Runtime for a default-sized model (input 32, backbone [64, 32],
// m = 16, K = 10, relu, random weights) at batch 1, 64 and 1024: median of 5 runs each.
//   node --import tsx bench/score.ts [--threads N] [--ep cpu|webgpu|cuda] [--seconds S]
// The last line of stdout is one JSON object.

import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BackboneWeights, ScoringModel } from '../src/model/types.js';
import { exportScoringModel } from '../src/serve/onnx/export.js';
import { OnnxScorer } from '../src/serve/scorer.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const threads = arg('threads') === undefined ? undefined : Number(arg('threads'));
const ep = arg('ep') ?? 'cpu';
const secondsPerRun = Number(arg('seconds') ?? '0.4');
const BATCHES = [1, 64, 1024];
const RUNS = 5;

let seed = 12345;
function rand(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296 - 0.5;
}
function randArray(n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * scale;
  return a;
}
function mlp(widths: number[]): BackboneWeights {
  const layers = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const a = widths[i]!;
    const b = widths[i + 1]!;
    layers.push({ in: a, out: b, W: randArray(a * b, 2 / Math.sqrt(a)), b: randArray(b, 0.1) });
  }
  return { activation: 'relu', layers };
}

const inputDim = 32;
const m = 16;
const K = 10;
const model: ScoringModel = {
  inputDim,
  backbone: mlp([inputDim, 64, 32, m]),
  embedNorm: 'none',
  prototypes: { K, m, P: randArray(K * m, 2), T: 0.5, distScale: m },
};

const command = [
  'node',
  ...process.execArgv,
  path.relative(process.cwd(), process.argv[1] ?? 'bench/score.ts'),
  ...process.argv.slice(2),
].join(' ');
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
};
console.log(`command: ${command}`);
console.log(`machine: ${JSON.stringify(machine)}`);

const scorer = await OnnxScorer.create(exportScoringModel(model), {
  executionProviders: [ep],
  ...(threads === undefined ? {} : { intraOpThreads: threads }),
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const results: { batch: number; events_per_s: number; batch_ms_p50: number; runs_events_per_s: number[] }[] =
  [];
for (const batch of BATCHES) {
  const X = randArray(batch * inputDim, 2);
  for (let i = 0; i < 20; i++) await scorer.score(X, batch); // warm up
  const runs: number[] = [];
  const lat: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let events = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < secondsPerRun * 1000) {
      const s = performance.now();
      await scorer.score(X, batch);
      t = performance.now();
      lat.push(t - s);
      events += batch;
    }
    runs.push(events / ((t - t0) / 1000));
  }
  const row = {
    batch,
    events_per_s: Math.round(median(runs)),
    batch_ms_p50: Number(median(lat).toFixed(4)),
    runs_events_per_s: runs.map(Math.round),
  };
  results.push(row);
  console.log(`batch ${batch}: ${row.events_per_s} events/s (batch p50 ${row.batch_ms_p50} ms)`);
}
await scorer.release();

console.log(
  JSON.stringify({
    bench: 'score',
    command,
    machine,
    model: { inputDim, hidden: [64, 32], m, K, activation: 'relu' },
    execution_provider: scorer.executionProvider,
    intra_op_threads: threads ?? 'default',
    runs: RUNS,
    results,
  }),
);
