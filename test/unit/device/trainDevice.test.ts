// Training-device selection: the order and the fallbacks through fake probes (any machine), and
// the real probes' failure paths on a machine without tfjs-node-gpu or a WebGPU adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { EngineInfo, EnginePreference } from '../../../src/model/engine.js';
import {
  DEVICE_ENGINE,
  DeviceUnavailableError,
  NODE_GPU_PACKAGE,
  planTrainDevice,
  probeCudaTraining,
  probeWebgpuTraining,
  selectTrainDevice,
  type TrainDeviceDeps,
} from '../../../src/model/trainDevice.js';

interface Fake extends TrainDeviceDeps {
  started: EnginePreference[];
  probed: string[];
}

/** Probes that answer as given; startEngine runs what each preference would on such a machine. */
function fake(opts: {
  cuda: string | null;
  webgpu: string | null;
  backendFor?: Partial<Record<EnginePreference, EngineInfo>>;
}): Fake {
  const started: EnginePreference[] = [];
  const probed: string[] = [];
  const defaults: Record<EnginePreference, EngineInfo> = {
    tensorflow: { backend: 'tensorflow' },
    webgpu: { backend: 'webgpu', adapter: 'fake vendor / fake gpu' },
    wasm: { backend: 'wasm' },
    cpu: { backend: 'cpu' },
    auto: { backend: 'wasm', reason: 'tensorflow: not installed' },
  };
  return {
    started,
    probed,
    probeCuda: async () => {
      probed.push('cuda');
      return opts.cuda;
    },
    probeWebgpu: async () => {
      probed.push('webgpu');
      return opts.webgpu;
    },
    startEngine: async (pref) => {
      started.push(pref);
      return opts.backendFor?.[pref] ?? defaults[pref];
    },
  };
}

test('plan: auto tries cuda, webgpu, then cpu; explicit requests try only themselves', () => {
  assert.deepEqual(planTrainDevice('auto'), ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(planTrainDevice('cuda'), ['cuda']);
  assert.deepEqual(planTrainDevice('webgpu'), ['webgpu']);
  assert.deepEqual(planTrainDevice('cpu'), ['cpu']);
});

test('cpu never probes a GPU and runs the wasm engine', async () => {
  const f = fake({ cuda: null, webgpu: null });
  const r = await selectTrainDevice('cpu', f);
  assert.deepEqual(f.probed, []);
  assert.deepEqual(f.started, [DEVICE_ENGINE.cpu]);
  assert.equal(r.actual, 'cpu');
  assert.equal(r.fellBack, false);
  assert.equal(r.backend, 'wasm');
  assert.equal(r.stage, 'train');
});

test('auto with a working CUDA runs on tfjs-node-gpu without probing WebGPU', async () => {
  const f = fake({ cuda: null, webgpu: null });
  const r = await selectTrainDevice('auto', f);
  assert.equal(r.actual, 'cuda');
  assert.equal(r.engine, 'tensorflow');
  assert.equal(r.backend, 'tensorflow');
  assert.equal(r.fellBack, false);
  assert.deepEqual(f.probed, ['cuda']);
});

test('auto without CUDA runs on WebGPU and keeps the CUDA reason and the adapter', async () => {
  const f = fake({ cuda: `${NODE_GPU_PACKAGE} is not installed`, webgpu: null });
  const r = await selectTrainDevice('auto', f);
  assert.equal(r.actual, 'webgpu');
  assert.equal(r.backend, 'webgpu');
  assert.equal(r.adapter, 'fake vendor / fake gpu');
  assert.equal(r.fellBack, false);
  assert.deepEqual(r.reasons, [`cuda: ${NODE_GPU_PACKAGE} is not installed`]);
});

test('auto without any GPU falls back to the cpu engines and says why for each device', async () => {
  const f = fake({ cuda: 'no tfjs-node-gpu', webgpu: 'no adapter' });
  const r = await selectTrainDevice('auto', f);
  assert.equal(r.actual, 'cpu');
  assert.equal(r.fellBack, true);
  assert.equal(r.engine, 'auto');
  assert.deepEqual(f.started, ['auto']);
  assert.deepEqual(r.reasons, [
    'cuda: no tfjs-node-gpu',
    'webgpu: no adapter',
    'engine: tensorflow: not installed',
  ]);
});

test('a probe that passes but an engine that lands elsewhere counts as a failure', async () => {
  const f = fake({
    cuda: 'none',
    webgpu: null,
    backendFor: {
      webgpu: { backend: 'wasm', reason: 'webgpu: @tensorflow/tfjs-backend-webgpu is not installed' },
    },
  });
  const r = await selectTrainDevice('auto', f);
  assert.equal(r.actual, 'cpu');
  assert.match(
    r.reasons[1]!,
    /^webgpu: tfjs started on 'wasm' instead of 'webgpu' \(.*tfjs-backend-webgpu is not installed\)$/,
  );
  await assert.rejects(
    selectTrainDevice('webgpu', f),
    (e: unknown) =>
      e instanceof DeviceUnavailableError && e.device === 'webgpu' && /tfjs-backend-webgpu/.test(e.reason),
  );
});

test('an explicit GPU request that cannot start is an error naming the device and the reason', async () => {
  const f = fake({
    cuda: `${NODE_GPU_PACKAGE} is not installed`,
    webgpu: 'navigator.gpu.requestAdapter() found no adapter',
  });
  await assert.rejects(
    selectTrainDevice('cuda', f),
    (e: unknown) =>
      e instanceof DeviceUnavailableError &&
      e.device === 'cuda' &&
      e.message === `device "cuda" cannot start: ${NODE_GPU_PACKAGE} is not installed`,
  );
  await assert.rejects(
    selectTrainDevice('webgpu', f),
    /device "webgpu" cannot start: navigator\.gpu\.requestAdapter\(\) found no adapter/,
  );
  assert.deepEqual(f.started, [], 'no engine is started for a request that cannot run');
});

// ---- Real probes: on a machine without tfjs-node-gpu / a WebGPU adapter they fail with a reason ----

test('real: cuda probe names tfjs-node-gpu when it cannot run', async () => {
  const why = await probeCudaTraining();
  if (why === null) return; // a CUDA machine with tfjs-node-gpu: nothing to check here
  assert.match(why, /@tensorflow\/tfjs-node-gpu/);
});

test('real: webgpu probe says what is missing when it cannot run', async () => {
  const why = await probeWebgpuTraining();
  if (why === null) return; // navigator.gpu has an adapter here
  assert.match(why, /navigator\.gpu|'webgpu'/);
});

test('real: auto reports the backend tfjs actually runs, and explicit cuda fails clearly', async () => {
  const r = await selectTrainDevice('auto');
  assert.equal(r.backend, tf.getBackend());
  if (r.actual === 'cpu') {
    assert.equal(r.fellBack, true);
    assert.ok(r.reasons.some((s) => s.startsWith('cuda: ')));
    assert.ok(r.reasons.some((s) => s.startsWith('webgpu: ')));
  }
  if ((await probeCudaTraining()) !== null) {
    await assert.rejects(
      selectTrainDevice('cuda'),
      (e: unknown) => e instanceof DeviceUnavailableError && /tfjs-node-gpu/.test(e.message),
    );
  }
});
