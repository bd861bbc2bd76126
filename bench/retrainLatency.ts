// Scoring latency while a retraining runs, against outside it (issue 6: p99 at most 2x).
// The daemon's processor scores pre-encoded payment events in micro-batches at a fixed rate on the
// main thread; a Retrainer trains on a window in its worker thread meanwhile (the daemon's path:
// worker, gate, registry). Per-batch processing latency, p50/p99 per phase:
// before (no training), during (until the retraining finished), after (no training).
//   node --import tsx bench/retrainLatency.ts [--rate 5000] [--batch 250] [--window 30000] [--phase-s 15] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { AvroCodec, loadSchemaJson } from '../src/codec/index.js';
import { DEMO_TRAIN, demoFeatureSpec } from '../src/daemon/demo.js';
import { ScoringProcessor } from '../src/daemon/processor.js';
import { PaymentGenerator } from '../src/demo/generator.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { ServingModel } from '../src/serve/servingModel.js';
import type { ConsumedRecord } from '../src/stream/types.js';
import { buildModel } from '../src/train/buildModel.js';
import { Retrainer } from '../src/train/retrain/retrainer.js';
import { InlierWindow } from '../src/train/retrain/window.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const rate = opt('rate', 5000);
const batch = opt('batch', 250);
const windowEvents = opt('window', 30000);
const phaseS = opt('phase-s', 15);
const json = args.includes('--json');
const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};

const schema = loadSchemaJson('payment');
const codec = new AvroCodec(schema);
const gen = new PaymentGenerator({ seed: 5, anomalyRate: 0.002, peakPerHour: windowEvents / (24 * 0.31) });
const root = mkdtempSync(join(os.tmpdir(), 'ddcl-bench-lat-'));
try {
  const registry = new ModelRegistry(root);
  const first = gen.take(10000).map((g) => g.event);
  const built = await buildModel(demoFeatureSpec(), first, { train: DEMO_TRAIN });
  const v1 = await registry.write('bench', built.parts);
  await registry.setCurrent('bench', v1);
  const model = await ServingModel.fromArtifact(await registry.load('bench', v1), {
    device: 'cpu',
    threads: 1,
  });
  const processor = new ScoringProcessor({
    codec,
    sinks: { enrichedSuffix: '.ddcl.enriched', alertsTopic: 'a', dlqTopic: 'd', enriched: true },
    alertThreshold: 0.999,
    topFeatures: 3,
    timeField: 'event_time',
  });
  processor.setModel(model);
  const window = new InlierWindow({ maxEvents: windowEvents, maxAgeMs: 30 * 86_400_000 });
  window.add(
    gen
      .take(windowEvents)
      .map((g) => ({ value: codec.encode(g.event as never), timestamp: g.event.event_time })),
  );
  const stream = gen.take(20000).map((g, i): ConsumedRecord => ({
    topic: 'p',
    partition: 0,
    offset: String(i),
    key: null,
    value: codec.encode(g.event as never),
    headers: {},
    timestamp: g.event.event_time,
  }));
  let cursor = 0;
  const nextBatch = (): ConsumedRecord[] => {
    const out: ConsumedRecord[] = [];
    for (let i = 0; i < batch; i++) out.push(stream[cursor++ % stream.length]!);
    return out;
  };
  /** Scores at the fixed rate until `until()` is true; returns per-batch latencies in ms. */
  const scoreWhile = async (until: () => boolean): Promise<number[]> => {
    const lat: number[] = [];
    const start = performance.now();
    let n = 0;
    while (!until()) {
      const recs = nextBatch();
      const t0 = performance.now();
      await processor.process({ topic: 'p', partition: 0, records: recs, highWatermark: '-1' });
      lat.push(performance.now() - t0);
      n += recs.length;
      const wait = start + (n / rate) * 1000 - performance.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
    return lat;
  };
  const timed = (s: number) => {
    const end = performance.now() + s * 1000;
    return () => performance.now() >= end;
  };
  const before = await scoreWhile(timed(phaseS));
  const retrainer = new Retrainer({
    name: 'bench',
    registry,
    window,
    codec: { format: 'avro', readerSchema: schema },
    spec: demoFeatureSpec(),
    train: DEMO_TRAIN,
    minEvents: 1000,
    serving: () => processor.current,
  });
  let done = false;
  const t0 = performance.now();
  const outcome = retrainer.retrain().finally(() => (done = true));
  const during = await scoreWhile(() => done);
  const trainSeconds = (performance.now() - t0) / 1000;
  const result = (await outcome).result;
  const after = await scoreWhile(timed(phaseS));
  await model.release();
  const phase = (l: number[]) => ({
    batches: l.length,
    p50_ms: Number(q(l, 0.5).toFixed(2)),
    p99_ms: Number(q(l, 0.99).toFixed(2)),
  });
  const outside = [...before, ...after];
  const report = {
    command: `node --import tsx bench/retrainLatency.ts ${args.join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      load: os.loadavg().map((x) => Number(x.toFixed(2))),
    },
    rate,
    batch,
    window: windowEvents,
    retraining: { seconds: Number(trainSeconds.toFixed(1)), result },
    outside: phase(outside),
    during: phase(during),
    p99_ratio: Number((q(during, 0.99) / q(outside, 0.99)).toFixed(2)),
    target_ratio: 2,
  };
  if (json) console.log(JSON.stringify(report));
  else {
    console.log(`$ ${report.command}`);
    console.log(
      `machine: ${report.machine.cpus} x ${report.machine.model}, node ${report.machine.node}, load ${report.machine.load.join(' ')}`,
    );
    console.log(
      `scoring ${rate} events/s in batches of ${batch}; retraining on ${windowEvents} events took ${report.retraining.seconds} s (${result})`,
    );
    console.log(
      `per-batch latency outside training: p50 ${report.outside.p50_ms} ms, p99 ${report.outside.p99_ms} ms (${report.outside.batches} batches)`,
    );
    console.log(
      `per-batch latency during training:  p50 ${report.during.p50_ms} ms, p99 ${report.during.p99_ms} ms (${report.during.batches} batches)`,
    );
    console.log(`p99 ratio during/outside: ${report.p99_ratio} (target <= 2)`);
    console.log(JSON.stringify(report));
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
