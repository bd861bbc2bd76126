// Chooses the tfjs backend for training: native TensorFlow when the user installed it, else wasm
// (SIMD), else plain JS; or, asked for 'webgpu', tfjs's WebGPU backend over a WebGPU
// implementation for Node (navigator.gpu, e.g. the `webgpu` package, Dawn over Vulkan). What
// actually runs is reported, never assumed (DESIGN.md "Engines"). Device choice (auto | cpu | cuda
// | webgpu) on top of this: trainDevice.ts.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { EngineError } from './errors.js';

export type EnginePreference = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface EngineInfo {
  /** The backend tfjs now runs on ('tensorflow', 'webgpu', 'wasm' or 'cpu'). */
  backend: string;
  /** Why a preferred backend was skipped, when one was. */
  reason?: string;
  /** On 'webgpu': the adapter that runs it (vendor, architecture, device, description). */
  adapter?: string;
}

type Backend = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

// 'auto' keeps its meaning (native TensorFlow if installed, else wasm, else cpu): WebGPU is only
// used when asked for, by name or through trainDevice.ts.
const ORDER: Record<EnginePreference, ReadonlyArray<Backend>> = {
  auto: ['tensorflow', 'wasm', 'cpu'],
  tensorflow: ['tensorflow', 'wasm', 'cpu'],
  webgpu: ['webgpu', 'wasm', 'cpu'],
  wasm: ['wasm', 'cpu'],
  cpu: ['cpu'],
};

// Optional packages: named through a variable so the compiler does not need them.
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
export const WEBGPU_BACKEND_PACKAGE = '@tensorflow/tfjs-backend-webgpu';
/** A WebGPU implementation for Node (Dawn); it exports `create(flags)` and `globals`. */
export const WEBGPU_NODE_PACKAGE = 'webgpu';

let wasmPathsSet = false;
const started = new Map<EnginePreference, Promise<EngineInfo>>();

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

/** Whether an import failed because the package is not installed (not because it broke loading). */
export function isNotInstalled(e: unknown, name: string): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    e instanceof Error &&
    e.message.includes(`'${name}'`)
  );
}

// ---- WebGPU: the minimum of the WebGPU API this file touches (no DOM types in this project) ----

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
}
interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'high-performance' | 'low-power';
  }): Promise<GpuAdapterLike | null>;
}
interface WebgpuNodeModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

function navigatorGpu(): GpuLike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu ?? undefined;
}

/**
 * Makes `navigator.gpu` exist in Node: already there (a runtime that has WebGPU), or from the
 * optional `webgpu` package (Dawn). Returns null when it exists, else why not. Must run before
 * @tensorflow/tfjs-backend-webgpu is imported: that package registers its backend only if
 * navigator.gpu exists at import time.
 */
export async function installNavigatorGpu(): Promise<string | null> {
  if (navigatorGpu()) return null;
  let mod: WebgpuNodeModule;
  try {
    mod = (await import(WEBGPU_NODE_PACKAGE)) as WebgpuNodeModule;
  } catch (e) {
    if (isNotInstalled(e, WEBGPU_NODE_PACKAGE))
      return `navigator.gpu is missing and the '${WEBGPU_NODE_PACKAGE}' package (Dawn, a WebGPU implementation for Node) is not installed`;
    return `'${WEBGPU_NODE_PACKAGE}' failed to load: ${message(e)}`;
  }
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
  const gpu = mod.create([]);
  const nav = g.navigator as object | undefined;
  // Node >= 21 has a navigator object without gpu; Node 20 has none.
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return null;
}

function describeAdapter(a: GpuAdapterLike): string {
  const i = a.info ?? {};
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((x): x is string => !!x);
  return parts.length ? parts.join(' / ') : 'unknown adapter';
}

let webgpuAdapter: string | undefined;

/** The WebGPU adapter navigator.gpu offers (null adapter: a reason), without starting tfjs on it. */
export async function probeWebgpuAdapter(): Promise<{ adapter: string } | { reason: string }> {
  const why = await installNavigatorGpu();
  if (why) return { reason: why };
  let a: GpuAdapterLike | null;
  try {
    a = await navigatorGpu()!.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { reason: `navigator.gpu.requestAdapter() failed: ${message(e)}` };
  }
  if (a === null)
    return {
      reason:
        'navigator.gpu.requestAdapter() found no adapter (no Vulkan loader libvulkan.so.1, no Vulkan driver for the GPU, or no GPU)',
    };
  return { adapter: describeAdapter(a) };
}

async function tryWebgpu(): Promise<string | null> {
  const probe = await probeWebgpuAdapter();
  if ('reason' in probe) return probe.reason;
  try {
    await import(WEBGPU_BACKEND_PACKAGE);
  } catch (e) {
    if (isNotInstalled(e, WEBGPU_BACKEND_PACKAGE)) return `${WEBGPU_BACKEND_PACKAGE} is not installed`;
    return `${WEBGPU_BACKEND_PACKAGE}: ${message(e)}`;
  }
  // A backend package with its own copy of tfjs-core registers on that copy, not ours.
  if (tf.findBackendFactory('webgpu') == null)
    return `${WEBGPU_BACKEND_PACKAGE}: loaded but did not register on this @tensorflow/tfjs`;
  try {
    if (!(await tf.setBackend('webgpu'))) return "setBackend('webgpu') failed";
  } catch (e) {
    return `setBackend('webgpu') failed: ${message(e)}`;
  }
  webgpuAdapter = probe.adapter;
  return null;
}

async function tryTensorflow(): Promise<string | null> {
  const failures: string[] = [];
  for (const name of NATIVE_PACKAGES) {
    try {
      await import(name);
    } catch (e) {
      failures.push(`${name}: ${message(e)}`);
      continue;
    }
    // A native package with its own copy of tfjs-core registers on that copy, not ours.
    if (tf.findBackendFactory('tensorflow') == null) {
      failures.push(`${name}: loaded but did not register on this @tensorflow/tfjs`);
      continue;
    }
    if (await tf.setBackend('tensorflow')) return null;
    failures.push(`${name}: setBackend('tensorflow') failed`);
  }
  return failures.join('; ');
}

/** Folder holding the .wasm binaries of @tensorflow/tfjs-backend-wasm (Node resolution). */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkg), 'dist') + path.sep;
}

async function tryWasm(): Promise<string | null> {
  try {
    if (!wasmPathsSet) {
      setWasmPaths(wasmDistDir());
      wasmPathsSet = true;
    }
    if (await tf.setBackend('wasm')) return null;
    return "setBackend('wasm') returned false";
  } catch (e) {
    return message(e);
  }
}

async function select(pref: EnginePreference): Promise<EngineInfo> {
  const skipped: string[] = [];
  for (const b of ORDER[pref]) {
    if (b === 'cpu') {
      if (!(await tf.setBackend('cpu'))) throw new EngineError('cpu', 'setBackend failed');
      break;
    }
    const why =
      b === 'tensorflow' ? await tryTensorflow() : b === 'webgpu' ? await tryWebgpu() : await tryWasm();
    if (why === null) break;
    skipped.push(`${b}: ${why}`);
  }
  await tf.ready();
  const info: EngineInfo = { backend: tf.getBackend() };
  if (skipped.length) info.reason = skipped.join(' | ');
  if (info.backend === 'webgpu' && webgpuAdapter !== undefined) info.adapter = webgpuAdapter;
  return info;
}

/**
 * Starts tfjs on the best available backend for `pref` and says which one runs. Idempotent: a
 * repeated call with the same preference returns the first answer (and re-selects that backend
 * if something switched it since).
 */
export async function initEngine(pref: EnginePreference = 'auto'): Promise<EngineInfo> {
  let p = started.get(pref);
  if (!p) {
    p = select(pref);
    started.set(pref, p);
  }
  const info = await p;
  if (tf.getBackend() !== info.backend) await tf.setBackend(info.backend);
  return { ...info, backend: tf.getBackend() };
}

/** Whether the wasm backend runs with SIMD (false when not on wasm). */
export async function wasmSimd(): Promise<boolean> {
  if (tf.getBackend() !== 'wasm') return false;
  return (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
}
