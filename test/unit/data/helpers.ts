// Fixture builders for the data-loader tests: temp dirs, npy/npz and idx encoders.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import assert from 'node:assert/strict';
import { DataError } from '../../../src/data/errors.js';

export interface TempDir {
  dir: string;
  /** Writes a file (string or bytes), gzipped when `gz`; returns its path. */
  write(name: string, content: string | Uint8Array, gz?: boolean): string;
  cleanup(): void;
}

export function tempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'ddcl-data-'));
  return {
    dir,
    write(name, content, gz = false) {
      const p = join(dir, name);
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      writeFileSync(p, gz ? gzipSync(bytes) : bytes);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Dtype = '<f8' | '<f4' | '<i8' | '<i4' | '<i2' | '|u1' | '>f8' | '>i4';

/** Encodes values (given in storage order) as an .npy file. */
export function npy(
  dtype: Dtype,
  shape: number[],
  stored: number[],
  opts: { fortran?: boolean; version?: 1 | 2 } = {},
): Uint8Array {
  const version = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${dtype}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header.padEnd(total - pre - 1, ' ') + '\n';
  const size = Number(dtype.slice(2));
  const out = new Uint8Array(total + stored.length * size);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), pre);
  const le = dtype[0] === '<';
  stored.forEach((v, i) => {
    const o = total + i * size;
    switch (dtype.slice(1)) {
      case 'f8':
        dv.setFloat64(o, v, le);
        break;
      case 'f4':
        dv.setFloat32(o, v, le);
        break;
      case 'i8':
        dv.setBigInt64(o, BigInt(v), le);
        break;
      case 'i4':
        dv.setInt32(o, v, le);
        break;
      case 'i2':
        dv.setInt16(o, v, le);
        break;
      case 'u1':
        dv.setUint8(o, v);
        break;
    }
  });
  return out;
}

/** An .npz (zip, deflate level 6) of the given npy entries. */
export function npz(entries: Record<string, Uint8Array>, level: 0 | 6 = 6): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  for (const [k, v] of Object.entries(entries)) files[`${k}.npy`] = [v, { level }];
  return zipSync(files);
}

/** An idx file: type 0x08 (u8) unless given, big-endian dims. */
export function idx(dims: number[], values: ArrayLike<number>, type: 0x08 | 0x0d = 0x08): Uint8Array {
  const size = type === 0x08 ? 1 : 4;
  const off = 4 + 4 * dims.length;
  const out = new Uint8Array(off + values.length * size);
  const dv = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, a) => dv.setUint32(4 + 4 * a, d, false));
  for (let i = 0; i < values.length; i++) {
    if (type === 0x08) out[off + i] = values[i]!;
    else dv.setFloat32(off + i * 4, values[i]!, false);
  }
  return out;
}

/** Asserts that fn throws a DataError whose fields and message match. */
export function assertDataError(
  fn: () => unknown,
  expect: { file?: string; line?: number; row?: number; column?: string; value?: string; message: RegExp },
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    assert.match(e.message, expect.message);
    if (expect.file !== undefined) {
      assert.equal(e.file, expect.file);
      assert.ok(e.message.startsWith(expect.file), `message names the file: ${e.message}`);
    }
    for (const k of ['line', 'row', 'column', 'value'] as const) {
      if (expect[k] !== undefined) assert.equal(e[k], expect[k], `${k} in ${e.message}`);
    }
    if (expect.line !== undefined) assert.ok(e.message.includes(`:${expect.line}:`), e.message);
    if (expect.column !== undefined) assert.ok(e.message.includes(`"${expect.column}"`), e.message);
    if (expect.value !== undefined) assert.ok(e.message.includes(JSON.stringify(expect.value)), e.message);
    return true;
  });
}

/** Async version of assertDataError. */
export async function rejectsDataError(
  p: Promise<unknown>,
  expect: Parameters<typeof assertDataError>[1],
): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assertDataError(() => {
    if (err === undefined) return;
    throw err;
  }, expect);
}
