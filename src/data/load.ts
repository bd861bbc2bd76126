import { readFileSync, readdirSync, statSync, type Stats } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gunzipSync } from 'node:zlib';
import { isAvroContainer, parseAvro } from './avro.js';
import { parseCsv, type CsvOptions } from './csv.js';
import { DataError } from './errors.js';
import { idxImagesWithLabels, idxMagic, idxToLabels, idxToMatrix, parseIdx, pickIdxPair } from './idx.js';
import { parseJsonl } from './jsonl.js';
import type { DataMatrix } from './matrix.js';
import { isNpy, isZip, npyToMatrix, parseNpy, parseNpz } from './npy.js';

export type DataFormat = 'csv' | 'tsv' | 'jsonl' | 'npz' | 'npy' | 'idx' | 'avro';

export interface LoadOptions extends CsvOptions {
  /** Overrides the format inferred from the extension. */
  format?: DataFormat;
}

const gunzipAsync = promisify(gunzip);

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const EXTENSIONS: Record<string, DataFormat> = {
  csv: 'csv',
  tsv: 'tsv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  npz: 'npz',
  npy: 'npy',
  avro: 'avro',
  idx: 'idx',
};

/** The format a file name implies (`.gz` is looked through), or undefined. */
export function formatFromName(path: string): DataFormat | undefined {
  const name = basename(path).toLowerCase().replace(/\.gz$/, '');
  if (/-ubyte$|\.idx\d?$/.test(name)) return 'idx';
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : EXTENSIONS[name.slice(dot + 1)];
}

/** The format binary content announces by its magic bytes, or undefined. */
export function formatFromContent(bytes: Uint8Array): DataFormat | undefined {
  if (isZip(bytes)) return 'npz';
  if (isNpy(bytes)) return 'npy';
  if (isAvroContainer(bytes)) return 'avro';
  if (idxMagic(bytes) >= 0) return 'idx';
  return undefined;
}

/** Parses already-decompressed bytes of a single file. */
export function parseMatrix(bytes: Uint8Array, file: string, opts: LoadOptions = {}): DataMatrix {
  if (bytes.length === 0) throw new DataError(file, 'empty file');
  const format = opts.format ?? formatFromName(file) ?? formatFromContent(bytes);
  if (format === undefined) {
    throw new DataError(
      file,
      'unknown data format: expected .csv, .tsv, .jsonl/.ndjson, .npz, .npy, .avro, an idx file (*-ubyte) or a folder of idx files, optionally gzipped (.gz)',
    );
  }
  switch (format) {
    case 'csv':
      return parseCsv(bytes, file, opts);
    case 'tsv':
      return parseCsv(bytes, file, { delimiter: '\t', ...opts });
    case 'jsonl':
      return parseJsonl(bytes, file, opts);
    case 'npz':
      return parseNpz(bytes, file);
    case 'npy':
      return npyToMatrix(parseNpy(bytes, file), file);
    case 'idx':
      return idxToMatrix(parseIdx(bytes, file), file);
    case 'avro':
      return parseAvro(bytes, file, opts);
  }
}

function notFound(path: string, e: unknown): never {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') throw new DataError(path, 'file not found');
  throw new DataError(path, `cannot read (${(e as Error).message})`);
}

function gunzipOrThrowSync(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DataError(file, `corrupt gzip data (${(e as Error).message})`);
  }
}

/** Reads a file, gunzipping it when its content is gzip (whatever its name). */
export function readMaybeGzSync(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    notFound(path, e);
  }
  return isGzip(bytes) ? gunzipOrThrowSync(bytes, path) : bytes;
}

export async function readMaybeGz(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    notFound(path, e);
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes);
  } catch (e) {
    throw new DataError(path, `corrupt gzip data (${(e as Error).message})`);
  }
}

function loadIdxFolderFrom(dir: string, names: string[], read: (p: string) => Uint8Array): DataMatrix {
  const pair = pickIdxPair(names, dir);
  const imagesPath = join(dir, pair.images);
  const images = idxToMatrix(parseIdx(read(imagesPath), imagesPath), imagesPath);
  let labels: Int32Array | undefined;
  if (pair.labels !== undefined) {
    const p = join(dir, pair.labels);
    labels = idxToLabels(parseIdx(read(p), p), p);
  }
  return idxImagesWithLabels(images, labels, dir);
}

/**
 * Loads a numeric matrix from a file or an idx folder (images + labels). Dispatches on the
 * extension (after `.gz`), then on magic bytes; gzip is undone transparently. Throws DataError
 * for a missing or empty file, unknown format, malformed content, ragged rows or bad cells.
 * Values are returned as stored (no scaling: MNIST pixels are 0..255).
 */
export async function loadMatrix(path: string, opts: LoadOptions = {}): Promise<DataMatrix> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    notFound(path, e);
  }
  if (st.isDirectory()) {
    const names = await readdir(path);
    const files = new Map<string, Uint8Array>();
    const pair = pickIdxPair(names, path);
    for (const f of [pair.images, pair.labels]) {
      if (f !== undefined) files.set(join(path, f), await readMaybeGz(join(path, f)));
    }
    return loadIdxFolderFrom(path, names, (p) => files.get(p)!);
  }
  return parseMatrix(await readMaybeGz(path), path, opts);
}

/** Synchronous loadMatrix. */
export function loadMatrixSync(path: string, opts: LoadOptions = {}): DataMatrix {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    notFound(path, e);
  }
  if (st.isDirectory()) return loadIdxFolderFrom(path, readdirSync(path), readMaybeGzSync);
  return parseMatrix(readMaybeGzSync(path), path, opts);
}
