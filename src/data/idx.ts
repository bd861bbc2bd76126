import { DataError } from './errors.js';
import { defaultColumnNames, type DataMatrix } from './matrix.js';

/** A decoded idx array (big-endian header: 0, 0, type, ndim, then ndim u32 sizes). */
export interface IdxArray {
  /** 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64. */
  type: number;
  dims: number[];
  /** Values in stored (row-major) order. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const SIZES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/** Magic number as a u32, e.g. 2051 for MNIST images and 2049 for labels; -1 when not idx. */
export function idxMagic(bytes: Uint8Array): number {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) return -1;
  if (SIZES[bytes[2]!] === undefined || bytes[3]! < 1) return -1;
  return (bytes[2]! << 8) | bytes[3]!;
}

export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const magic = idxMagic(bytes);
  if (magic < 0) throw new DataError(file, 'not an idx file (bad magic)');
  const type = bytes[2]!;
  const ndim = bytes[3]!;
  const size = SIZES[type]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const off = 4 + 4 * ndim;
  if (bytes.length < off) throw new DataError(file, 'truncated idx header');
  const dims: number[] = [];
  for (let a = 0; a < ndim; a++) dims.push(dv.getUint32(4 + 4 * a, false));
  const count = dims.reduce((p, q) => p * q, 1);
  if (bytes.length !== off + count * size) {
    throw new DataError(
      file,
      `idx size mismatch: header says ${dims.join(' x ')} (${count * size} data bytes), file has ${bytes.length - off}`,
    );
  }
  let data: IdxArray['data'];
  switch (type) {
    case 0x08:
      data = bytes.subarray(off, off + count);
      break;
    case 0x09:
      data = new Int8Array(bytes.buffer, bytes.byteOffset + off, count);
      break;
    default: {
      const read: (o: number) => number =
        type === 0x0b
          ? (o) => dv.getInt16(o, false)
          : type === 0x0c
            ? (o) => dv.getInt32(o, false)
            : type === 0x0d
              ? (o) => dv.getFloat32(o, false)
              : (o) => dv.getFloat64(o, false);
      const arr =
        type === 0x0b
          ? new Int16Array(count)
          : type === 0x0c
            ? new Int32Array(count)
            : type === 0x0d
              ? new Float32Array(count)
              : new Float64Array(count);
      for (let i = 0, o = off; i < count; i++, o += size) arr[i] = read(o);
      data = arr;
    }
  }
  return { type, dims, data };
}

/** An idx array as an n x d matrix: the first axis is the row, the others are flattened. */
export function idxToMatrix(arr: IdxArray, file: string): DataMatrix {
  const n = arr.dims[0]!;
  const d = arr.dims.slice(1).reduce((p, q) => p * q, 1);
  if (n === 0) throw new DataError(file, 'no data rows');
  if (d === 0) throw new DataError(file, 'no feature columns');
  const X = new Float32Array(arr.data);
  if (arr.type === 0x0d || arr.type === 0x0e) {
    for (let k = 0; k < X.length; k++) {
      if (!Number.isFinite(X[k]!)) {
        throw new DataError(file, 'non-finite value', {
          row: Math.floor(k / d) + 1,
          column: `col${k % d}`,
          value: String(arr.data[k]),
        });
      }
    }
  }
  return { X, n, d, columns: arr.dims.length === 1 ? ['label'] : defaultColumnNames(d) };
}

/** An idx labels array (1-D, integer type) as Int32Array. */
export function idxToLabels(arr: IdxArray, file: string): Int32Array {
  if (arr.dims.length !== 1 || arr.type === 0x0d || arr.type === 0x0e) {
    throw new DataError(
      file,
      `not an idx labels file: expected a 1-D integer array, found ${arr.dims.length}-D`,
    );
  }
  return Int32Array.from(arr.data);
}

/** The idx images / labels files in a folder, as file names. */
export interface IdxPair {
  images: string;
  labels?: string;
}

const IDX_NAME = /(idx\d|ubyte|\.idx)/i;

/**
 * Picks the images file and its labels file among the names in a folder: images are names with
 * `idx2`..`idx9` or `images`; labels have `idx1` or `labels`. Several images files are paired by
 * name (`images-idx3` -> `labels-idx1`); an ambiguous folder is an error.
 */
export function pickIdxPair(names: string[], folder: string): IdxPair {
  const idx = names.filter((f) => IDX_NAME.test(f)).sort();
  const images = idx.filter((f) => /idx[2-9]|images/i.test(f));
  const labels = idx.filter((f) => !images.includes(f) && /idx1|labels/i.test(f));
  if (images.length === 0) {
    throw new DataError(folder, `no idx images file in the folder (files: ${names.join(', ') || 'none'})`);
  }
  const partner = (img: string): string | undefined => {
    const want = img.replace(/images/i, 'labels').replace(/idx[2-9]/i, 'idx1');
    return labels.find((l) => l === want);
  };
  if (images.length === 1) {
    const img = images[0]!;
    const lab = partner(img) ?? (labels.length === 1 ? labels[0] : undefined);
    if (lab === undefined && labels.length > 1) {
      throw new DataError(folder, `several idx labels files and none matches ${img}: ${labels.join(', ')}`);
    }
    return lab === undefined ? { images: img } : { images: img, labels: lab };
  }
  throw new DataError(
    folder,
    `several idx images files (${images.join(', ')}); name one file, or use a folder holding one set`,
  );
}

/** Joins images and labels into one matrix; checks that the counts agree. */
export function idxImagesWithLabels(
  images: DataMatrix,
  labels: Int32Array | undefined,
  folder: string,
): DataMatrix {
  if (labels !== undefined) {
    if (labels.length !== images.n) {
      throw new DataError(folder, `idx images has ${images.n} rows but labels has ${labels.length}`);
    }
    images.y = labels;
  }
  return images;
}
