import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeOutcome,
  DeviceUnavailableError,
  planDevice,
  probeDevices,
  type DeviceProbe,
} from '../../../src/serve/device.js';

const none: DeviceProbe = {
  cudaProvider: false,
  nvidiaDriver: false,
  webgpuBundled: true,
  vulkanLoader: false,
  gpuDevice: false,
};
const nvidiaFull: DeviceProbe = {
  cudaProvider: true,
  nvidiaDriver: true,
  webgpuBundled: true,
  vulkanLoader: true,
  gpuDevice: true,
};

test('cpu is always cpu', () => {
  assert.deepEqual(planDevice('cpu', nvidiaFull).providers, ['cpu']);
});

test('auto without a GPU falls back to cpu and says why', () => {
  const plan = planDevice('auto', none);
  assert.deepEqual(plan.providers, ['cpu']);
  assert.equal(plan.skipped.length, 2);
  assert.match(plan.skipped[0]!.reason, /NVIDIA driver/);
  assert.match(plan.skipped[1]!.reason, /Vulkan loader/);
  const report = describeOutcome('serve', plan, 'cpu', []);
  assert.equal(report.fellBack, true);
  assert.equal(report.reasons.length, 2);
});

test('auto prefers cuda, then webgpu, then cpu', () => {
  assert.deepEqual(planDevice('auto', nvidiaFull).providers, ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(planDevice('auto', { ...nvidiaFull, cudaProvider: false }).providers, ['webgpu', 'cpu']);
  const r = describeOutcome('serve', planDevice('auto', nvidiaFull), 'cuda', []);
  assert.equal(r.fellBack, false);
});

test('an explicit GPU request that cannot start is an error naming what is missing', () => {
  assert.throws(
    () => planDevice('cuda', none),
    (e: unknown) => e instanceof DeviceUnavailableError && /NVIDIA driver/.test(e.message),
  );
  assert.throws(
    () => planDevice('cuda', { ...nvidiaFull, cudaProvider: false }),
    /libonnxruntime_providers_cuda\.so/,
  );
  assert.throws(() => planDevice('webgpu', none), /Vulkan loader/);
  assert.throws(() => planDevice('webgpu', { ...nvidiaFull, gpuDevice: false }), /no GPU device/);
});

test('a provider that fails at session creation is reported as a fallback', () => {
  const plan = planDevice('auto', { ...nvidiaFull });
  const r = describeOutcome('serve', plan, 'cpu', [
    { provider: 'cuda', error: 'libcudnn missing' },
    { provider: 'webgpu', error: 'no adapter' },
  ]);
  assert.equal(r.fellBack, true);
  assert.deepEqual(r.reasons, ['cuda: libcudnn missing', 'webgpu: no adapter']);
});

test('the probe of this machine is consistent with its plan', async () => {
  const p = await probeDevices();
  const plan = planDevice('auto', p);
  assert.equal(plan.providers[plan.providers.length - 1], 'cpu');
  if (!p.nvidiaDriver) assert.ok(!plan.providers.includes('cuda'));
});
