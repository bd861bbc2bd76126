// Backend selection: the native packages are not installed here, so 'auto' falls back to wasm
// (SIMD) and says why; the choice is idempotent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initEngine, wasmSimd } from '../../../src/model/engine.js';

test('auto picks a working backend and reports what runs', async () => {
  const info = await initEngine('auto');
  assert.equal(info.backend, tf.getBackend());
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(info.backend));
  if (info.backend !== 'tensorflow') assert.match(info.reason ?? '', /tfjs-node/);
  if (info.backend === 'wasm') assert.equal(typeof (await wasmSimd()), 'boolean');
  const again = await initEngine('auto');
  assert.deepEqual(again, info);
});

test('cpu preference runs on cpu, and auto returns to its first choice', async () => {
  const first = await initEngine('auto');
  assert.equal((await initEngine('cpu')).backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal((await initEngine('auto')).backend, first.backend);
});
