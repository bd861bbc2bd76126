// Where training runs: `device: auto | cpu | cuda | webgpu` mapped onto a tfjs engine (engine.ts).
// What actually runs is decided from what this machine and install have, and reported (log and
// the ddcl_device_info{stage="train"} metric), never assumed:
//  - cuda:   @tensorflow/tfjs-node-gpu (native TensorFlow with CUDA). Not a dependency of this
//            project: the user installs it, and its install downloads libtensorflow with GPU
//            support, which needs network access and the CUDA libraries that build expects. It
//            counts as cuda only when TensorFlow reports a GPU device (isUsingGpuDevice).
//  - webgpu: @tensorflow/tfjs-backend-webgpu over a WebGPU implementation for Node (navigator.gpu;
//            the `webgpu` package, Dawn, over Vulkan), with an adapter that navigator.gpu finds.
//  - cpu:    wasm (SIMD), else plain JS: the native packages are not loaded, so a
//            tfjs-node-gpu install cannot put a cpu run on the GPU.
//  - auto:   cuda if it starts, else webgpu if it starts, else the engine's own 'auto' (native
//            TensorFlow on CPU if installed, else wasm, else cpu); a fall back says why.
//  - an explicit cuda or webgpu that cannot start is a DeviceUnavailableError, not a CPU run.
import * as tf from '@tensorflow/tfjs';
import {
  initEngine,
  isNotInstalled,
  probeWebgpuAdapter,
  type EngineInfo,
  type EnginePreference,
} from './engine.js';
import { DeviceUnavailableError, type DeviceReport, type DeviceRequest } from '../serve/device.js';

export { DeviceUnavailableError } from '../serve/device.js';

export const NODE_GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';

/** A device a training run can end up on. */
export type TrainDevice = 'cuda' | 'webgpu' | 'cpu';

/** What each device starts tfjs with, and the tfjs backend it must then run on. */
export const DEVICE_ENGINE: Readonly<Record<TrainDevice, EnginePreference>> = {
  cuda: 'tensorflow',
  webgpu: 'webgpu',
  cpu: 'wasm',
};
const EXPECTED_BACKEND: Readonly<Record<Exclude<TrainDevice, 'cpu'>, string>> = {
  cuda: 'tensorflow',
  webgpu: 'webgpu',
};

/** The devices to try, in order, for a request (pure). */
export function planTrainDevice(requested: DeviceRequest): TrainDevice[] {
  switch (requested) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return ['cuda'];
    case 'webgpu':
      return ['webgpu'];
    case 'auto':
      return ['cuda', 'webgpu', 'cpu'];
    default: {
      const never: never = requested;
      throw new DeviceUnavailableError(never, 'unknown device');
    }
  }
}

/**
 * The machine-facing steps, injectable so that the selection and its fallbacks are testable on a
 * machine without a GPU. Each probe returns null when the device can run, else why not.
 */
export interface TrainDeviceDeps {
  /** Load tfjs-node-gpu and check that TensorFlow sees a CUDA device. */
  probeCuda(): Promise<string | null>;
  /** Check that a WebGPU adapter exists (navigator.gpu, installing Dawn's if needed). */
  probeWebgpu(): Promise<string | null>;
  /** Start tfjs with an engine preference (engine.ts initEngine). */
  startEngine(pref: EnginePreference): Promise<EngineInfo>;
}

/** What ran where: the serving DeviceReport's fields plus the tfjs side of it. */
export interface TrainDeviceReport extends DeviceReport {
  stage: 'train';
  actual: TrainDevice;
  /** The engine preference to hand to training (TrainConfig.engine). */
  engine: EnginePreference;
  /** The tfjs backend now running ('tensorflow', 'webgpu', 'wasm' or 'cpu'). */
  backend: string;
  /** The WebGPU adapter, on webgpu. */
  adapter?: string;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

/** Real probe for cuda: imports tfjs-node-gpu (loading libtensorflow) and asks it for a GPU. */
export async function probeCudaTraining(): Promise<string | null> {
  try {
    await import(NODE_GPU_PACKAGE);
  } catch (e) {
    if (isNotInstalled(e, NODE_GPU_PACKAGE))
      return `${NODE_GPU_PACKAGE} is not installed (install it next to this project: its install downloads libtensorflow with GPU support, so it needs network access, an NVIDIA driver and the CUDA libraries that TensorFlow build expects)`;
    return `${NODE_GPU_PACKAGE} failed to load: ${message(e)}`;
  }
  if (tf.findBackendFactory('tensorflow') == null)
    return `${NODE_GPU_PACKAGE} loaded but did not register on this @tensorflow/tfjs (a second copy of tfjs-core?)`;
  const before = tf.getBackend();
  try {
    if (!(await tf.setBackend('tensorflow'))) return "setBackend('tensorflow') failed";
    const gpu = (tf.backend() as unknown as { isUsingGpuDevice?: unknown }).isUsingGpuDevice;
    if (gpu !== true)
      return `${NODE_GPU_PACKAGE} loaded, but TensorFlow found no CUDA GPU (isUsingGpuDevice is ${String(gpu)})`;
    return null;
  } catch (e) {
    return `setBackend('tensorflow') failed: ${message(e)}`;
  } finally {
    if (before && before !== tf.getBackend()) await tf.setBackend(before);
  }
}

/** Real probe for webgpu: a WebGPU adapter must exist (the backend package is checked on start). */
export async function probeWebgpuTraining(): Promise<string | null> {
  const p = await probeWebgpuAdapter();
  return 'reason' in p ? p.reason : null;
}

export const realTrainDeviceDeps: TrainDeviceDeps = {
  probeCuda: probeCudaTraining,
  probeWebgpu: probeWebgpuTraining,
  startEngine: initEngine,
};

/**
 * Starts tfjs for a training device request and says what runs where. Throws
 * DeviceUnavailableError when an explicit cuda or webgpu cannot start; `auto` falls back to the
 * CPU engines and lists the reasons.
 */
export async function selectTrainDevice(
  requested: DeviceRequest,
  deps: TrainDeviceDeps = realTrainDeviceDeps,
): Promise<TrainDeviceReport> {
  const reasons: string[] = [];
  for (const dev of planTrainDevice(requested)) {
    if (dev === 'cpu') {
      // Explicit cpu: wasm/cpu only. auto after the GPUs: the engine's own auto order.
      const engine: EnginePreference = requested === 'cpu' ? DEVICE_ENGINE.cpu : 'auto';
      const info = await deps.startEngine(engine);
      if (info.reason && requested === 'auto') reasons.push(`engine: ${info.reason}`);
      return {
        stage: 'train',
        requested,
        actual: 'cpu',
        fellBack: requested !== 'cpu',
        reasons,
        engine,
        backend: info.backend,
      };
    }
    let why = dev === 'cuda' ? await deps.probeCuda() : await deps.probeWebgpu();
    let info: EngineInfo | undefined;
    if (why === null) {
      info = await deps.startEngine(DEVICE_ENGINE[dev]);
      if (info.backend !== EXPECTED_BACKEND[dev])
        why = `tfjs started on '${info.backend}' instead of '${EXPECTED_BACKEND[dev]}'${info.reason ? ` (${info.reason})` : ''}`;
    }
    if (why === null && info) {
      const report: TrainDeviceReport = {
        stage: 'train',
        requested,
        actual: dev,
        fellBack: false,
        reasons,
        engine: DEVICE_ENGINE[dev],
        backend: info.backend,
      };
      if (info.adapter !== undefined) report.adapter = info.adapter;
      return report;
    }
    if (requested !== 'auto') throw new DeviceUnavailableError(dev, why ?? 'did not start');
    reasons.push(`${dev}: ${why}`);
  }
  // planTrainDevice always ends 'auto' with 'cpu', and explicit requests return or throw above.
  throw new DeviceUnavailableError(requested, reasons.join('; ') || 'no device could start');
}
