import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelRegistry } from '../../../src/registry/registry.js';
import { ServingModel } from '../../../src/serve/servingModel.js';
import { RetrainError } from '../../../src/train/retrain/errors.js';
import { gradeRecords } from '../../../src/train/retrain/gate.js';
import type { TrainJob } from '../../../src/train/retrain/job.js';
import { packSamples } from '../../../src/train/retrain/window.js';
import { trainInWorker, trainWorkerUrl, workerExecArgv } from '../../../src/train/retrain/worker.js';
import { codecConfig, events, samplesOf, spec, tempDir, TINY } from './fixtures.js';

describe('training worker', () => {
  it('trains in a worker thread and returns parts that load, serve and score', async (t) => {
    const evs = events(1500, { seed: 3 });
    const samples = samplesOf(evs);
    const job: TrainJob = {
      samples: packSamples(samples),
      codec: codecConfig(),
      spec: spec(),
      specFitted: false,
      train: TINY,
      build: { trainingWindow: { rows: samples.length } },
    };
    const bytes = job.samples.bytes;
    // The event loop keeps turning while the worker trains.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    let out: Awaited<ReturnType<typeof trainInWorker>>;
    try {
      out = await trainInWorker(job);
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 5, `main thread ticked ${ticks} times during training`);
    assert.equal(bytes.byteLength, 0, 'the window was transferred, not copied');
    assert.equal(out.summary.decodeErrors, 0);
    assert.equal(out.summary.rows.total, 1500);
    assert.ok(out.parts.onnx.byteLength > 0);
    const reg = new ModelRegistry(tempDir(t));
    const v = await reg.write('w', out.parts);
    const model = await ServingModel.fromArtifact(await reg.load('w', v), { device: 'cpu' });
    try {
      assert.equal(model.dim, out.parts.inputDim);
      const { grades, nonFinite } = await gradeRecords(
        model.artifact,
        evs.slice(0, 200).map((e) => e.event),
      );
      assert.equal(grades.length, 200);
      assert.equal(nonFinite, 0);
      assert.ok(grades.every((g) => g >= 0 && g <= 1));
    } finally {
      await model.release();
    }
  });

  it('fine-tunes from parent weights and a fitted spec; undecodable samples are counted', async () => {
    const evs = events(1500, { seed: 4 });
    const first = await trainInWorker({
      samples: packSamples(samplesOf(evs)),
      codec: codecConfig(),
      spec: spec(),
      specFitted: false,
      train: TINY,
      build: {},
    });
    const samples = [
      ...samplesOf(events(1500, { seed: 5 })),
      { value: Buffer.from([0xff, 0xff, 0xff]), timestamp: 1 },
    ];
    const tuned = await trainInWorker({
      samples: packSamples(samples),
      codec: codecConfig(),
      spec: first.parts.features as never,
      specFitted: true,
      train: TINY,
      parentWeights: first.parts.weights,
      build: { parentVersion: 'v0001' },
    });
    assert.equal(tuned.summary.decodeErrors, 1);
    assert.equal(tuned.parts.parentVersion, 'v0001');
    assert.deepEqual(tuned.parts.features, first.parts.features, 'same fitted features');
    assert.ok(
      first.parts.weights.tensors['backbone.0.W']!.data.length > 0,
      'parent weights were copied, not detached',
    );
  });

  it('a job that fails in the worker rejects with a typed error carrying the cause', async () => {
    const job: TrainJob = {
      samples: packSamples(samplesOf(events(10))),
      codec: codecConfig(),
      spec: spec(),
      specFitted: false,
      train: TINY,
      build: {},
    };
    await assert.rejects(
      trainInWorker(job),
      (e: unknown) =>
        e instanceof RetrainError &&
        e.problem === 'worker-failed' &&
        /too few usable records/.test(e.message),
    );
  });

  it('resolves the worker file next to its module', () => {
    const url = trainWorkerUrl();
    assert.match(url.pathname, /\/train\/retrain\/trainWorker\.(js|ts)$/);
    // Compiled (dist/) it must be the .js; from source under tsx, the .ts.
    assert.equal(url.pathname.endsWith('.js'), import.meta.url.endsWith('.js'));
  });
});

it('a worker keeps the module-loading flags of its parent and drops per-process ones', () => {
  assert.deepEqual(
    workerExecArgv([
      '--import',
      'tsx',
      '--v8-pool-size=4',
      '--stack-trace-limit=10',
      '--require=./x.cjs',
      '--enable-source-maps',
      '--tls-cipher-list=A:B',
    ]),
    ['--import', 'tsx', '--require=./x.cjs', '--enable-source-maps'],
  );
});
