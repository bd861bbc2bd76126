import assert from 'node:assert/strict';
import type { JsonValue } from '../../../src/registry/artifact.js';
import { describe, it } from 'node:test';
import { ScoringProcessor } from '../../../src/daemon/processor.js';
import { DdclMetrics } from '../../../src/obs/metrics.js';
import type { ModelArtifact } from '../../../src/registry/artifact.js';
import { ModelRegistry } from '../../../src/registry/registry.js';
import { ServingModel } from '../../../src/serve/servingModel.js';
import type { ConsumedRecord } from '../../../src/stream/types.js';
import { gradeRecords } from '../../../src/train/retrain/gate.js';
import { runTrainJob, type TrainJob } from '../../../src/train/retrain/job.js';
import { loadCurrent, validationOf } from '../../../src/train/retrain/retrainer.js';
import { InlierWindow } from '../../../src/train/retrain/window.js';
import { avro, events, retrainer, samplesOf, tempDir } from './fixtures.js';

describe('Retrainer', () => {
  it('trains on the configured device and reports it; an explicit GPU that cannot start fails the run', async (t) => {
    const reg = new ModelRegistry(tempDir(t));
    const window = new InlierWindow({ maxEvents: 5000, maxAgeMs: 7 * 86_400_000 });
    window.add(samplesOf(events(1000, { seed: 7 })));
    const metrics = new DdclMetrics({ collectDefault: false });
    const cpu = await retrainer(reg, window, { metrics, device: 'cpu', minEvents: 200 }).retrain();
    assert.equal(cpu.result, 'accepted', cpu.reason);
    assert.deepEqual(cpu.summary?.device, { requested: 'cpu', actual: 'cpu', fellBack: false, reasons: [] });
    assert.match(await metrics.text(), /ddcl_device_info\{stage="train",requested="cpu",actual="cpu"\} 1/);
    // No @tensorflow/tfjs-node-gpu here: asked for cuda explicitly, the run fails and says why.
    const cuda = await retrainer(reg, window, { metrics, device: 'cuda', minEvents: 200 }).retrain();
    assert.equal(cuda.result, 'failed');
    assert.match(cuda.reason ?? '', /cuda/);
    assert.equal(await reg.current('pay'), cpu.version, 'the failed run left current as it was');
  });

  it('first run: trains, gates, writes, makes current, calls onModel; a restart resumes with it', async (t) => {
    const reg = new ModelRegistry(tempDir(t));
    const window = new InlierWindow({ maxEvents: 5000, maxAgeMs: 7 * 86_400_000 });
    window.add(samplesOf(events(2000, { seed: 1 })));
    const metrics = new DdclMetrics({ collectDefault: false });
    const swapped: ModelArtifact[] = [];
    const r = retrainer(reg, window, { metrics, onModel: (a) => void swapped.push(a) });
    const out = await r.retrain({ reason: 'manual', at: new Date() });
    assert.equal(out.result, 'accepted', out.reason);
    assert.equal(out.version, 'v0001');
    assert.equal(out.mode, 'fresh');
    assert.deepEqual(
      { events: out.window.events, train: out.window.train, holdout: out.window.holdout },
      { events: 2000, train: 1600, holdout: 400 },
    );
    assert.equal(await reg.current('pay'), 'v0001');
    assert.equal(swapped.length, 1);
    assert.equal(swapped[0]!.manifest.version, 'v0001');
    assert.equal(validationOf(swapped[0]!).accepted, true);
    assert.match(await metrics.text(), /ddcl_training_runs_total\{result="accepted"\} 1/);

    // Restart: a new process finds the registry's current version, no cold start.
    const resumed = await loadCurrent(new ModelRegistry(reg.root), 'pay', { device: 'cpu' });
    assert.ok(resumed);
    try {
      assert.equal(resumed.version, 'v0001');
      assert.equal(resumed.dim, swapped[0]!.manifest.inputDim);
    } finally {
      await resumed.release();
    }
    assert.equal(await loadCurrent(reg, 'nothing-here'), undefined);
  });

  it('fine-tunes from the serving model; rejected and failed runs leave current as it was', async (t) => {
    const reg = new ModelRegistry(tempDir(t));
    const window = new InlierWindow({ maxEvents: 5000, maxAgeMs: 7 * 86_400_000 });
    window.add(samplesOf(events(2000, { seed: 2 })));
    let serving: ModelArtifact | undefined;
    const swaps: string[] = [];
    const first = await retrainer(reg, window, {
      onModel: (a) => void swaps.push(a.manifest.version),
    }).retrain();
    assert.equal(first.result, 'accepted', first.reason);
    serving = await reg.load('pay');

    const tuned = await retrainer(reg, window, {
      serving: () => serving,
      onModel: (a) => void swaps.push(a.manifest.version),
    }).retrain();
    assert.equal(tuned.result, 'accepted', tuned.reason);
    assert.equal(tuned.mode, 'fine-tune');
    assert.equal(tuned.parentVersion, 'v0001');
    const v2 = await reg.load('pay', 'v0002');
    assert.equal(v2.manifest.parentVersion, 'v0001');
    assert.deepEqual(v2.features, serving.features, 'fine-tuning keeps the fitted features');
    serving = v2;

    // A run whose training diverged (NaN loss terms): recorded, never current.
    const nanTrainer = async (job: TrainJob) => {
      const r = await runTrainJob(job);
      const hist = r.parts.trainingMetrics as { [k: string]: JsonValue }[];
      hist[hist.length - 1]!.V = null;
      return r;
    };
    const rejected = await retrainer(reg, window, {
      serving: () => serving,
      trainer: nanTrainer,
      onModel: (a) => void swaps.push(a.manifest.version),
    }).retrain();
    assert.equal(rejected.result, 'rejected');
    assert.equal(rejected.version, 'v0003');
    assert.deepEqual(
      rejected.decision?.reasons.map((x) => x.code),
      ['non-finite-loss'],
    );
    assert.equal(validationOf(await reg.load('pay', 'v0003')).accepted, false);
    assert.equal(await reg.current('pay'), 'v0002');

    const failed = await retrainer(reg, window, {
      serving: () => serving,
      trainer: async () => {
        throw new Error('worker ran out of memory');
      },
    }).retrain();
    assert.equal(failed.result, 'failed');
    assert.match(failed.reason ?? '', /out of memory/);
    assert.equal(await reg.current('pay'), 'v0002');
    assert.deepEqual(swaps, ['v0001', 'v0002']);
    assert.deepEqual(await reg.list('pay'), ['v0001', 'v0002', 'v0003']);
  });

  it('skips a window below minEvents and an overlapping call', async (t) => {
    const reg = new ModelRegistry(tempDir(t));
    const window = new InlierWindow({ maxEvents: 5000, maxAgeMs: 7 * 86_400_000 });
    const evs = samplesOf(events(1000, { seed: 9 }));
    window.add(evs.slice(0, 100));
    const r = retrainer(reg, window);
    const small = await r.retrain();
    assert.equal(small.result, 'skipped');
    assert.match(small.reason ?? '', /100 events, fewer than 500/);
    window.add(evs.slice(100));
    const a = r.retrain();
    const b = await r.retrain();
    assert.equal(b.result, 'skipped');
    assert.match(b.reason ?? '', /in progress/);
    assert.notEqual((await a).result, 'skipped');
  });

  it('poisoning: anomalies in the stream are kept out of the window by inlier gating and stay anomalous', async (t) => {
    const reg = new ModelRegistry(tempDir(t));
    // Model A from a clean window.
    const clean = new InlierWindow({ maxEvents: 10_000, maxAgeMs: 30 * 86_400_000 });
    clean.add(samplesOf(events(2500, { seed: 31 })));
    const first = await retrainer(reg, clean, { minEvents: 1000 }).retrain();
    assert.equal(first.result, 'accepted', first.reason);
    const A = await ServingModel.fromArtifact(await reg.load('pay'), { device: 'cpu' });
    t.after(() => A.release());

    // A poisoned stream (10% anomalies) scored by A; only its inliers enter the training window.
    const gen = events(5000, { seed: 32, anomalyRate: 0.1, startTime: Date.UTC(2025, 5, 1) });
    const anomalous = new Set(gen.filter((g) => g.anomaly).map((g) => g.event.event_id));
    const window = new InlierWindow({ maxEvents: 10_000, maxAgeMs: 30 * 86_400_000 });
    const processor = new ScoringProcessor({
      codec: avro(),
      sinks: { enrichedSuffix: '.e', alertsTopic: 'a', dlqTopic: 'd', enriched: false },
      alertThreshold: 0.99,
      topFeatures: 1,
      onInliers: (s) => window.add(s),
    });
    processor.setModel(A);
    for (let s = 0; s < gen.length; s += 500) {
      const records: ConsumedRecord[] = gen.slice(s, s + 500).map((g, i) => ({
        topic: 'p',
        partition: 0,
        offset: String(s + i),
        key: null,
        value: avro().encode(g.event as never),
        headers: {},
        timestamp: g.event.event_time,
      }));
      await processor.process({ topic: 'p', partition: 0, records, highWatermark: '-1' });
    }
    const inWindow = window.snapshot().map((x) => avro().decode(x.value) as { event_id: string });
    const poisoned = inWindow.filter((r) => anomalous.has(r.event_id)).length;
    const streamRate = anomalous.size / gen.length;
    const windowRate = poisoned / inWindow.length;
    assert.ok(
      windowRate < streamRate / 2,
      `gating kept ${poisoned} anomalies (${(100 * windowRate).toFixed(1)}% of the window, stream ${(100 * streamRate).toFixed(1)}%)`,
    );

    const serving = A.artifact;
    const out = await retrainer(reg, window, { minEvents: 1000, serving: () => serving }).retrain();
    assert.equal(out.result, 'accepted', out.reason);
    const B = await reg.load('pay', out.version);

    // Fresh anomalies of the same kinds: the retrained model still grades them high.
    const probe = events(4000, { seed: 33, anomalyRate: 0.05, startTime: Date.UTC(2025, 6, 1) });
    const recall = async (
      m: ModelArtifact,
    ): Promise<{ recall: number; medianAnomaly: number; medianNormal: number }> => {
      const { grades } = await gradeRecords(
        m,
        probe.map((g) => g.event),
      );
      const an: number[] = [];
      const no: number[] = [];
      probe.forEach((g, i) => (g.anomaly ? an : no).push(grades[i]!));
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      return {
        recall: an.filter((x) => x >= 0.99).length / an.length,
        medianAnomaly: med(an),
        medianNormal: med(no),
      };
    };
    const ra = await recall(A.artifact);
    const rb = await recall(B);
    t.diagnostic(
      `window ${inWindow.length} events, ${poisoned} anomalous (${(100 * windowRate).toFixed(2)}%, stream ${(100 * streamRate).toFixed(2)}%); recall@0.99 A ${ra.recall.toFixed(3)} B ${rb.recall.toFixed(3)}; median grade anomalies/normal B ${rb.medianAnomaly.toFixed(3)}/${rb.medianNormal.toFixed(3)}`,
    );
    assert.ok(rb.recall >= 0.75 * ra.recall, `recall A ${ra.recall.toFixed(3)} B ${rb.recall.toFixed(3)}`);
    assert.ok(
      rb.medianAnomaly > rb.medianNormal + 0.2,
      `B grades anomalies ${rb.medianAnomaly.toFixed(3)} vs normal ${rb.medianNormal.toFixed(3)}`,
    );
  });
});
