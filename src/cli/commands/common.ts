// Helpers the offline commands share: finding a model folder, reading the trainer's options.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, num, str, list, type OptionSpec, type Parsed } from '../args.js';
import type { TrainConfig } from '../../train/config.js';

/**
 * A model is named by its artifact folder (holding manifest.json), a model folder
 * (<root>/<name>, its `current` version) or a registry root with --name.
 */
export function resolveModel(
  dir: string,
  name?: string,
): { root: string; name: string; version?: string; artifactDir?: string } {
  if (!existsSync(dir)) throw new UserError(`model folder ${dir} does not exist`);
  if (existsSync(join(dir, 'manifest.json')))
    return { root: join(dir, '..', '..'), name: '', artifactDir: dir };
  if (existsSync(join(dir, 'current'))) {
    const version = readFileSync(join(dir, 'current'), 'utf8').trim();
    return { root: join(dir, '..'), name: '', version, artifactDir: join(dir, version) };
  }
  const n = name ?? 'default';
  if (existsSync(join(dir, n, 'current'))) {
    const version = readFileSync(join(dir, n, 'current'), 'utf8').trim();
    return { root: dir, name: n, version, artifactDir: join(dir, n, version) };
  }
  throw new UserError(`${dir} holds no model: expected manifest.json, a "current" file, or ${n}/current`);
}

/** Trainer options every training command takes. */
export const TRAIN_OPTIONS: Record<string, OptionSpec> = {
  epochs: { kind: 'number', help: 'DDCL epochs', default: 20 },
  pretrain: { kind: 'number', help: 'autoencoder pretraining epochs before DDCL (0: none)', default: 5 },
  lambda: {
    kind: 'number',
    help: 'weight of the reconstruction loss during DDCL (0: no decoder term)',
    default: 1,
  },
  k: { kind: 'number', help: 'number of prototypes K', default: 10 },
  m: { kind: 'number', help: 'embedding dimension', default: 16 },
  widths: { kind: 'list', help: 'hidden layer widths, comma separated', placeholder: 'W1,W2' },
  variant: {
    kind: 'string',
    help: 'DCL variant',
    choices: ['dual-attention', 'dual-linear'],
    default: 'dual-attention',
  },
  objective: {
    kind: 'string',
    help: 'training objective (ablations: ols, stopgrad)',
    choices: ['lq', 'ols', 'stopgrad'],
    default: 'lq',
  },
  'batch-size': { kind: 'number', help: 'mini-batch rows', default: 256 },
  seed: { kind: 'number', help: 'seed (same seed, same model)', default: 0 },
  engine: {
    kind: 'string',
    help: 'tfjs backend',
    choices: ['auto', 'tensorflow', 'wasm', 'cpu'],
    default: 'auto',
  },
};

export function trainConfigFrom(p: Parsed): Partial<TrainConfig> {
  const widths = list(p, 'widths').map((w) => {
    const v = Number(w);
    if (!Number.isInteger(v) || v < 1)
      throw new UserError(`--widths must be positive whole numbers, got "${w}"`);
    return v;
  });
  const int = (k: string, min: number): number => {
    const v = num(p, k)!;
    if (!Number.isInteger(v) || v < min)
      throw new UserError(`--${k} must be a whole number >= ${min}, got ${v}`);
    return v;
  };
  return {
    epochs: int('epochs', 0),
    pretrainEpochs: int('pretrain', 0),
    lambda: num(p, 'lambda')!,
    K: int('k', 2),
    m: int('m', 1),
    ...(widths.length ? { widths } : {}),
    variant: str(p, 'variant') as TrainConfig['variant'],
    objective: str(p, 'objective') as TrainConfig['objective'],
    batchSize: int('batch-size', 2),
    seed: int('seed', 0),
    engine: str(p, 'engine') as TrainConfig['engine'],
  };
}
