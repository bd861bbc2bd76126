import { unzipSync } from 'fflate';
import { DataError } from './errors.js';
import { defaultColumnNames, type DataMatrix } from './matrix.js';

/** The header of an .npy array. */
export interface NpyHeader {
  /** numpy dtype string, e.g. '<f8', '|u1'. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data in the buffer. */
  dataOffset: number;
  /** Format major version (1, 2 or 3). */
  version: number;
}

/** A decoded npy array as doubles in C (row-major) order, whatever its stored order. */
export interface NpyArray {
  descr: string;
  shape: number[];
  data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

/** Parses the magic, version and Python-dict header of an npy file. */
export function readNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (!isNpy(bytes)) throw new DataError(file, 'not an npy array (bad magic)');
  const version = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number;
  let start: number;
  if (version === 1) {
    hlen = dv.getUint16(8, true);
    start = 10;
  } else if (version === 2 || version === 3) {
    hlen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw new DataError(file, `unsupported npy version ${version}.${bytes[7]}`);
  }
  if (start + hlen > bytes.length) throw new DataError(file, 'truncated npy header');
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + start, hlen).toString(
    version === 3 ? 'utf8' : 'latin1',
  );
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DataError(file, 'malformed npy header', { value: header.trim() });
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new DataError(file, 'bad npy shape', { value: shapeText });
      }
      return v;
    });
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset: start + hlen, version };
}

type Reader = (dv: DataView, off: number) => number;

/** Item size and element reader for a dtype; the supported kinds are float, signed, unsigned, bool. */
function dtypeReader(descr: string, file: string): { size: number; read: Reader } {
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (m === null) throw new DataError(file, 'unsupported npy dtype', { value: descr });
  const le = m[1] !== '>';
  const kind = m[2]!;
  const size = Number(m[3]);
  const key = `${kind}${size}`;
  const readers: Record<string, Reader> = {
    f8: (dv, o) => dv.getFloat64(o, le),
    f4: (dv, o) => dv.getFloat32(o, le),
    i8: (dv, o) => Number(dv.getBigInt64(o, le)),
    i4: (dv, o) => dv.getInt32(o, le),
    i2: (dv, o) => dv.getInt16(o, le),
    i1: (dv, o) => dv.getInt8(o),
    u8: (dv, o) => Number(dv.getBigUint64(o, le)),
    u4: (dv, o) => dv.getUint32(o, le),
    u2: (dv, o) => dv.getUint16(o, le),
    u1: (dv, o) => dv.getUint8(o),
    b1: (dv, o) => (dv.getUint8(o) !== 0 ? 1 : 0),
  };
  const read = readers[key];
  if (read === undefined) throw new DataError(file, 'unsupported npy dtype', { value: descr });
  return { size, read };
}

/** Decodes values in stored order into doubles, with fast paths for little-endian dtypes. */
function decodeValues(
  bytes: Uint8Array,
  off: number,
  count: number,
  descr: string,
  file: string,
): Float64Array {
  const { size, read } = dtypeReader(descr, file);
  if (off + count * size > bytes.length) {
    throw new DataError(
      file,
      `truncated npy data: ${count} items of ${descr} need ${count * size} bytes, ${bytes.length - off} present`,
    );
  }
  const little = descr[0] !== '>';
  if (little) {
    // Copy into a fresh buffer (offset 0, so aligned) and view it as the dtype. Not slice():
    // on a Node Buffer that is a view of the shared pool.
    const copy = new Uint8Array(count * size);
    copy.set(bytes.subarray(off, off + count * size));
    const buf = copy.buffer;
    switch (descr.slice(1)) {
      case 'f8':
        return new Float64Array(buf);
      case 'f4':
        return Float64Array.from(new Float32Array(buf));
      case 'i4':
        return Float64Array.from(new Int32Array(buf));
      case 'i2':
        return Float64Array.from(new Int16Array(buf));
      case 'u1':
        return Float64Array.from(new Uint8Array(buf));
      case 'u2':
        return Float64Array.from(new Uint16Array(buf));
      case 'u4':
        return Float64Array.from(new Uint32Array(buf));
      case 'i1':
        return Float64Array.from(new Int8Array(buf));
      default:
        break;
    }
  }
  const out = new Float64Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0, o = off; i < count; i++, o += size) out[i] = read(dv, o);
  return out;
}

/** Reorders a Fortran-ordered (column-major) array into C order. */
function fortranToC(src: Float64Array, shape: number[]): Float64Array {
  const nd = shape.length;
  if (nd < 2) return src;
  const out = new Float64Array(src.length);
  if (nd === 2) {
    const n = shape[0]!;
    const d = shape[1]!;
    let k = 0;
    for (let j = 0; j < d; j++) for (let i = 0; i < n; i++) out[i * d + j] = src[k++]!;
    return out;
  }
  // General case: source index sum_a idx_a * prod_{b<a} shape_b; walk the C order.
  const fStride = new Array<number>(nd);
  fStride[0] = 1;
  for (let a = 1; a < nd; a++) fStride[a] = fStride[a - 1]! * shape[a - 1]!;
  const idx = new Array<number>(nd).fill(0);
  for (let k = 0; k < out.length; k++) {
    let s = 0;
    for (let a = 0; a < nd; a++) s += idx[a]! * fStride[a]!;
    out[k] = src[s]!;
    for (let a = nd - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Parses a whole .npy file into a C-ordered array of doubles. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const h = readNpyHeader(bytes, file);
  const count = h.shape.reduce((a, b) => a * b, 1);
  let data = decodeValues(bytes, h.dataOffset, count, h.descr, file);
  if (h.fortranOrder) data = fortranToC(data, h.shape);
  return { descr: h.descr, shape: h.shape, data };
}

/** An npy array as an n x d float32 matrix: 1-D is n x 1, N-D flattens the trailing axes. */
export function npyToMatrix(arr: NpyArray, file: string): DataMatrix {
  if (arr.shape.length === 0) throw new DataError(file, 'npy array is a scalar, expected a matrix');
  const n = arr.shape[0]!;
  const d = arr.shape.slice(1).reduce((a, b) => a * b, 1);
  if (n === 0) throw new DataError(file, 'no data rows');
  if (d === 0) throw new DataError(file, 'no feature columns');
  const X = new Float32Array(arr.data.length);
  const src = arr.data;
  for (let k = 0; k < src.length; k++) {
    const f = Math.fround(src[k]!);
    if (!Number.isFinite(f)) {
      throw new DataError(
        file,
        Number.isFinite(src[k]!) ? 'value out of float32 range' : 'non-finite value',
        { row: Math.floor(k / d) + 1, column: `col${k % d}`, value: String(src[k]) },
      );
    }
    X[k] = f;
  }
  return { X, n, d, columns: defaultColumnNames(d) };
}

/** An npy array of labels (shape (n,) or (n, 1)) as integers. */
export function npyToLabels(arr: NpyArray, file: string): Int32Array {
  const n = arr.shape[0] ?? 0;
  if (arr.shape.length === 0 || arr.data.length !== n) {
    throw new DataError(file, `labels must have shape (n,) or (n, 1), found (${arr.shape.join(', ')})`);
  }
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = arr.data[i]!;
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new DataError(file, 'label is not a 32-bit integer', { row: i + 1, value: String(v) });
    }
    y[i] = v;
  }
  return y;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
}

/** Reads all .npy entries of an .npz archive (stored or deflated), keyed by name without `.npy`. */
export function readNpz(bytes: Uint8Array, file: string): Map<string, NpyArray> {
  if (!isZip(bytes)) throw new DataError(file, 'not an npz (zip) archive');
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (f) => f.name.endsWith('.npy') });
  } catch (e) {
    throw new DataError(file, `corrupt npz archive (${(e as Error).message})`);
  }
  const out = new Map<string, NpyArray>();
  for (const [name, data] of Object.entries(entries)) {
    out.set(name.replace(/\.npy$/, ''), parseNpy(data, `${file}/${name}`));
  }
  return out;
}

/**
 * Parses an .npz holding `X` (features) and optionally `y` (integer labels, same length). When
 * there is no `X` but exactly one array, that array is X.
 */
export function parseNpz(bytes: Uint8Array, file: string): DataMatrix {
  const arrays = readNpz(bytes, file);
  let X = arrays.get('X');
  if (X === undefined) {
    if (arrays.size === 1) X = [...arrays.values()][0]!;
    else {
      throw new DataError(file, `npz has no array "X" (arrays: ${[...arrays.keys()].join(', ') || 'none'})`);
    }
  }
  const m = npyToMatrix(X, `${file}/X.npy`);
  const yArr = arrays.get('y');
  if (yArr !== undefined && yArr !== X) {
    const y = npyToLabels(yArr, `${file}/y.npy`);
    if (y.length !== m.n) {
      throw new DataError(file, `X has ${m.n} rows but y has ${y.length} labels`);
    }
    m.y = y;
  }
  return m;
}
