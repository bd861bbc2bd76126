// Retraining time of the default (demo) model on a 50,000-event window of generated payments:
// the whole run a trigger starts (pack, worker start, decode, fit features, train, ONNX export,
// calibration, gate on the held-back slice, registry write + promote), median of N runs.
//   node --import tsx bench/retrain.ts [--events 50000] [--runs 3] [--in-process] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { AvroCodec, loadSchemaJson } from '../src/codec/index.js';
import { DEMO_TRAIN, demoFeatureSpec } from '../src/daemon/demo.js';
import { PaymentGenerator } from '../src/demo/generator.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { runTrainJob } from '../src/train/retrain/job.js';
import { Retrainer } from '../src/train/retrain/retrainer.js';
import { InlierWindow } from '../src/train/retrain/window.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const nEvents = opt('events', 50_000);
const runs = opt('runs', 3);
const inProcess = args.includes('--in-process');
const json = args.includes('--json');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const schema = loadSchemaJson('payment');
const codec = new AvroCodec(schema);
const gen = new PaymentGenerator({ seed: 1, anomalyRate: 0, peakPerHour: nEvents / (24 * 0.31) });
const window = new InlierWindow({ maxEvents: nEvents, maxAgeMs: 30 * 86_400_000 });
window.add(
  gen.take(nEvents).map((g) => ({ value: codec.encode(g.event as never), timestamp: g.event.event_time })),
);
const root = mkdtempSync(join(os.tmpdir(), 'ddcl-bench-retrain-'));
const registry = new ModelRegistry(root);
const seconds: number[] = [];
const results: string[] = [];
let train = { s: 0, rows: 0 };
try {
  for (let r = 0; r < runs; r++) {
    // Each run trains from scratch (no serving model): the slowest case, the one the target is for.
    const retrainer = new Retrainer({
      name: 'bench',
      registry,
      window,
      codec: { format: 'avro', readerSchema: schema },
      spec: demoFeatureSpec(),
      train: { ...DEMO_TRAIN, seed: r + 1 },
      minEvents: 1000,
      mode: 'fresh',
      serving: () => undefined,
      ...(inProcess ? { trainer: runTrainJob } : {}),
    });
    const out = await retrainer.retrain();
    if (out.result === 'failed') throw out.error ?? new Error(out.reason);
    seconds.push(out.seconds);
    results.push(out.result === 'rejected' ? `rejected: ${out.reason}` : out.result);
    train = { s: out.summary?.seconds ?? NaN, rows: out.summary?.rows.train ?? 0 };
    if (!json)
      console.error(
        `run ${r + 1}: ${out.seconds.toFixed(2)} s (${results[results.length - 1]}; in the trainer ${train.s.toFixed(2)} s, ${train.rows} training rows)`,
      );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const report = {
  command: `node --import tsx bench/retrain.ts ${args.join(' ')}`.trim(),
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  },
  events: nEvents,
  runs,
  where: inProcess ? 'in-process' : 'worker',
  seconds: seconds.map((s) => Number(s.toFixed(2))),
  median_s: Number(median(seconds).toFixed(2)),
  target_s: 30,
  results,
};
if (json) console.log(JSON.stringify(report));
else {
  console.log(`$ ${report.command}`);
  console.log(
    `machine: ${report.machine.cpus} x ${report.machine.model}, node ${report.machine.node}, ${report.machine.platform}`,
  );
  console.log(
    `retraining on a ${nEvents}-event window (${report.where}), median of ${runs}: ${report.median_s} s (runs ${report.seconds.join(', ')}; target <= 30 s)`,
  );
}
