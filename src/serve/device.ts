// Where the model runs: `device: auto | cpu | cuda | webgpu`. What actually runs is decided here
// from what the machine has, and reported (log and metric), never assumed:
//  - cuda:   ONNX Runtime's CUDA execution provider. Its provider library is not bundled with
//            onnxruntime-node's npm package: a default install on a machine with internet access
//            downloads it (CUDA 12 + cuDNN 9 needed); this project installs with
//            onnxruntime-node-install=skip, so a user adds it by installing onnxruntime-node
//            without that setting. It needs an NVIDIA driver.
//  - webgpu: ONNX Runtime's WebGPU provider, bundled in the linux-x64 build, over Vulkan: it needs
//            the Vulkan loader (libvulkan.so.1) and a GPU device.
//  - auto:   cuda if it can start, else webgpu if it can, else cpu; a fall back says so.
//  - an explicit cuda or webgpu that cannot start is an error, not a silent CPU run.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda' | 'webgpu';

export interface DeviceProbe {
  /** libonnxruntime_providers_cuda.so next to the ONNX Runtime binding. */
  cudaProvider: boolean;
  /** An NVIDIA driver is loaded (/proc/driver/nvidia/version or /dev/nvidia0). */
  nvidiaDriver: boolean;
  /** ONNX Runtime lists webgpu as a bundled backend. */
  webgpuBundled: boolean;
  /** The Vulkan loader is present. */
  vulkanLoader: boolean;
  /** A GPU device node exists (/dev/nvidia0 or /dev/dri/renderD*). */
  gpuDevice: boolean;
}

export class DeviceUnavailableError extends Error {
  override readonly name = 'DeviceUnavailableError';
  constructor(
    readonly device: DeviceRequest,
    readonly reason: string,
  ) {
    super(`device "${device}" cannot start: ${reason}`);
  }
}

export interface DevicePlan {
  requested: DeviceRequest;
  /** Execution providers to try, in order. */
  providers: string[];
  /** Why providers were skipped (for the log when auto falls back). */
  skipped: { provider: string; reason: string }[];
}

const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib/x86_64-linux-gnu',
  '/usr/local/lib',
];

function ortBinDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = dirname(req.resolve('onnxruntime-node/package.json'));
    const base = join(pkg, 'bin');
    for (const napi of existsSync(base) ? readdirSync(base) : []) {
      const d = join(base, napi, process.platform, process.arch);
      if (existsSync(d)) return d;
    }
  } catch {
    // onnxruntime-node missing: the scorer itself will fail with a clear error.
  }
  return undefined;
}

export async function probeDevices(): Promise<DeviceProbe> {
  const bin = ortBinDir();
  let webgpuBundled = false;
  try {
    const ort = (await import('onnxruntime-node')) as unknown as {
      listSupportedBackends?: () => { name: string; bundled: boolean }[];
    };
    webgpuBundled = (ort.listSupportedBackends?.() ?? []).some((b) => b.name === 'webgpu' && b.bundled);
  } catch {
    webgpuBundled = false;
  }
  const extraLibDirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const hasLib = (name: string) => [...extraLibDirs, ...LIB_DIRS].some((d) => existsSync(join(d, name)));
  let render = false;
  try {
    render = readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  } catch {
    render = false;
  }
  const nvidiaDriver = existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidia0');
  return {
    cudaProvider: bin !== undefined && existsSync(join(bin, 'libonnxruntime_providers_cuda.so')),
    nvidiaDriver,
    webgpuBundled,
    vulkanLoader: hasLib('libvulkan.so.1'),
    gpuDevice: nvidiaDriver || render,
  };
}

function cudaReason(p: DeviceProbe): string | undefined {
  if (!p.nvidiaDriver) return 'no NVIDIA driver (/proc/driver/nvidia/version missing)';
  if (!p.cudaProvider)
    return 'ONNX Runtime CUDA provider library (libonnxruntime_providers_cuda.so) is not installed; install onnxruntime-node without onnxruntime-node-install=skip on a machine with internet access (needs CUDA 12 and cuDNN 9)';
  return undefined;
}

function webgpuReason(p: DeviceProbe): string | undefined {
  if (!p.webgpuBundled) return 'this onnxruntime-node build has no bundled WebGPU provider';
  if (!p.vulkanLoader)
    return 'the Vulkan loader (libvulkan.so.1) is missing (Debian: apt-get install libvulkan1)';
  if (!p.gpuDevice) return 'no GPU device (/dev/nvidia0 or /dev/dri/renderD*)';
  return undefined;
}

/** Pure planning from a probe: which providers to try for a request. Throws for an impossible explicit request. */
export function planDevice(requested: DeviceRequest, probe: DeviceProbe): DevicePlan {
  const skipped: DevicePlan['skipped'] = [];
  if (requested === 'cpu') return { requested, providers: ['cpu'], skipped };
  if (requested === 'cuda') {
    const why = cudaReason(probe);
    if (why) throw new DeviceUnavailableError('cuda', why);
    return { requested, providers: ['cuda'], skipped };
  }
  if (requested === 'webgpu') {
    const why = webgpuReason(probe);
    if (why) throw new DeviceUnavailableError('webgpu', why);
    return { requested, providers: ['webgpu'], skipped };
  }
  const providers: string[] = [];
  const c = cudaReason(probe);
  if (c) skipped.push({ provider: 'cuda', reason: c });
  else providers.push('cuda');
  const w = webgpuReason(probe);
  if (w) skipped.push({ provider: 'webgpu', reason: w });
  else providers.push('webgpu');
  providers.push('cpu');
  return { requested, providers, skipped };
}

/** What ran where, for logs and the ddcl_device_info metric. */
export interface DeviceReport {
  stage: 'serve' | 'train';
  requested: DeviceRequest;
  actual: string;
  fellBack: boolean;
  reasons: string[];
}

export function describeOutcome(
  stage: DeviceReport['stage'],
  plan: DevicePlan,
  actual: string,
  failures: readonly { provider: string; error: string }[],
): DeviceReport {
  const reasons = [
    ...plan.skipped.map((s) => `${s.provider}: ${s.reason}`),
    ...failures.map((f) => `${f.provider}: ${f.error}`),
  ];
  const gpuWanted = plan.requested !== 'cpu';
  return { stage, requested: plan.requested, actual, fellBack: gpuWanted && actual === 'cpu', reasons };
}
