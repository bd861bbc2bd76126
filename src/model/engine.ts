// Chooses the tfjs backend for training: native TensorFlow when the user installed it, else wasm
// (SIMD), else plain JS. What actually runs is reported, never assumed (DESIGN.md "Engines").
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { EngineError } from './errors.js';

export type EnginePreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface EngineInfo {
  /** The backend tfjs now runs on ('tensorflow', 'wasm' or 'cpu'). */
  backend: string;
  /** Why a preferred backend was skipped, when one was. */
  reason?: string;
}

const ORDER: Record<EnginePreference, ReadonlyArray<'tensorflow' | 'wasm' | 'cpu'>> = {
  auto: ['tensorflow', 'wasm', 'cpu'],
  tensorflow: ['tensorflow', 'wasm', 'cpu'],
  wasm: ['wasm', 'cpu'],
  cpu: ['cpu'],
};

// Optional native packages: named through a variable so the compiler does not need them.
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

let wasmPathsSet = false;
const started = new Map<EnginePreference, Promise<EngineInfo>>();

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
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
    const why = b === 'tensorflow' ? await tryTensorflow() : await tryWasm();
    if (why === null) break;
    skipped.push(`${b}: ${why}`);
  }
  await tf.ready();
  const info: EngineInfo = { backend: tf.getBackend() };
  if (skipped.length) info.reason = skipped.join(' | ');
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
