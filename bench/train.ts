// Training throughput of the default DDCL model, and the one-step time of a 64-256-256-32 MLP on
// 4096 rows with the explicit-transpose dense gradient vs tfjs's built-in one.
//   node --import tsx bench/train.ts [--runs 5] [--epochs 5] [--json]
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initEngine, wasmSimd } from '../src/model/engine.js';
import { Mlp } from '../src/model/backbone.js';
import { Rng } from '../src/model/rng.js';
import { trainDDCL } from '../src/train/trainer.js';
import { defaultTrainConfig } from '../src/train/config.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const runs = opt('runs', 5);
const epochs = opt('epochs', 5);
const json = args.includes('--json');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const engine = await initEngine('auto');
const simd = await wasmSimd();

// 1. Default model, n = 4096 rows, d = 32 (8 Gaussian blobs).
const n = 4096;
const d = 32;
const rng = new Rng(0);
const centres = Array.from({ length: 8 * d }, () => 3 * rng.normal());
const X = Float32Array.from(
  { length: n * d },
  (_, t) => centres[(Math.floor(t / d) % 8) * d + (t % d)]! + rng.normal(),
);
const rates: number[] = [];
for (let r = 0; r < runs; r++) {
  const res = await trainDDCL(X, n, d, { epochs, seed: r });
  const s = res.history.reduce((a, h) => a + h.seconds, 0);
  rates.push((n * epochs) / s);
}

// 2. One optimisation step (forward, backward, Adam) of a 64-256-256-32 MLP on 4096 rows.
function stepMs(builtin: boolean, reps: number): number {
  const net = Mlp.create({ sizes: [64, 256, 256, 32], activation: 'relu', seed: 1 });
  const x = tf.randomNormal([4096, 64], 0, 1, 'float32', 1) as tf.Tensor2D;
  const adam = tf.train.adam(1e-3);
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const t0 = performance.now();
    const cost = adam.minimize(
      () => tf.mean(tf.square(net.apply(x, builtin))) as tf.Scalar,
      true,
      net.trainable(),
    );
    cost!.dataSync();
    cost!.dispose();
    if (i >= 2) times.push(performance.now() - t0); // two warm-up steps
  }
  x.dispose();
  adam.dispose();
  net.dispose();
  return median(times);
}
const custom = stepMs(false, 7);
const builtin = stepMs(true, 7);

const out = {
  command: `node --import tsx bench/train.ts --runs ${runs} --epochs ${epochs}`,
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    backend: engine.backend,
    simd,
  },
  default_model: {
    rows: n,
    d,
    epochs,
    config: {
      widths: defaultTrainConfig.widths,
      m: defaultTrainConfig.m,
      K: defaultTrainConfig.K,
      variant: defaultTrainConfig.variant,
      batchSize: defaultTrainConfig.batchSize,
    },
    samples_per_s_median: Math.round(median(rates)),
    samples_per_s_runs: rates.map(Math.round),
  },
  mlp_64_256_256_32_step_ms: {
    rows: 4096,
    custom_dense: +custom.toFixed(1),
    builtin_dense: +builtin.toFixed(1),
    ratio: +(builtin / custom).toFixed(2),
  },
};
if (json) console.log(JSON.stringify(out));
else {
  console.log(`$ ${out.command}`);
  console.log(
    `machine: ${out.machine.cpu} x${out.machine.cores}, node ${out.machine.node}, tfjs backend ${out.machine.backend}${simd ? ' (SIMD)' : ''}`,
  );
  console.log(
    `default model (${n} x ${d}, ${epochs} epochs, median of ${runs}): ${out.default_model.samples_per_s_median} samples/s  [${out.default_model.samples_per_s_runs.join(', ')}]`,
  );
  console.log(
    `64-256-256-32 MLP step on 4096 rows: custom dense ${out.mlp_64_256_256_32_step_ms.custom_dense} ms, built-in ${out.mlp_64_256_256_32_step_ms.builtin_dense} ms, ratio ${out.mlp_64_256_256_32_step_ms.ratio}x`,
  );
}
