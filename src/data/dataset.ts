import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from './errors.js';
import { loadMatrix, type LoadOptions } from './load.js';
import type { DataMatrix } from './matrix.js';

/** A labelled data set for the clustering benchmark. */
export interface Dataset extends DataMatrix {
  /** `digits`, `mnist-test`, or the path given. */
  name: string;
  y: Int32Array;
  /** Where it was read from. */
  path: string;
}

/** The project root: the nearest folder above this module holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** The shared data folder: `$DDCL_DATA` when set, else `<repo>/../shared/data`. */
export function dataRoot(): string {
  const env = process.env['DDCL_DATA'];
  if (env !== undefined && env !== '') return resolve(env);
  return resolve(repoRoot(), '..', 'shared', 'data');
}

/** Named data sets: path under dataRoot() and load options. */
export const NAMED_DATASETS: Readonly<Record<string, { path: string; opts: LoadOptions }>> = {
  digits: { path: 'digits/digits.csv.gz', opts: { format: 'csv', header: false, labelColumn: 'last' } },
  'mnist-test': { path: 'mnist', opts: {} },
};

/** Where a named data set or a path resolves to. */
export function resolveDataset(nameOrPath: string): { name: string; path: string; opts: LoadOptions } {
  const named = NAMED_DATASETS[nameOrPath];
  if (named !== undefined) return { name: nameOrPath, path: join(dataRoot(), named.path), opts: named.opts };
  // A CSV path: its last column is the label; the header is optional (detected).
  return { name: nameOrPath, path: nameOrPath, opts: { header: 'auto', labelColumn: 'last' } };
}

/**
 * Loads a labelled data set: `digits` (1797 x 64), `mnist-test` (10000 x 784), or a PATH: a
 * folder with an idx images file and its labels file, an npz with X and y, or a CSV whose last
 * column is the label. Throws DataError when it has no labels.
 */
export async function loadDataset(nameOrPath: string): Promise<Dataset> {
  const { name, path, opts } = resolveDataset(nameOrPath);
  const m = await loadMatrix(path, opts);
  if (m.y === undefined) {
    throw new DataError(path, 'data set has no labels (need idx labels, npz y, or a CSV label column)');
  }
  return { ...m, y: m.y, name, path };
}
