import { bool, printJson, str, UserError, type Parsed } from '../args.js';
import type { Command } from '../main.js';
import { TRAIN_OPTIONS, trainConfigFrom } from './common.js';
import { DEFAULT_CONFIG, type DdclConfig } from '../../config/config.js';
import { scoringBuild, type ScoringBuild } from '../../daemon/scoring.js';
import { scoreTerms, type ScoreTerm } from '../../serve/calibration.js';

export const train: Command = {
  spec: {
    name: 'train',
    summary: 'Train a DDCL model on a file and write it to a model registry folder.',
    description:
      'FILE: CSV with a header, JSONL, Avro container, npz (X), npy or idx (optionally gzipped). All\n' +
      'columns are numeric features (robust-scaled on the training rows); --label-column drops one.\n' +
      'The model is written to DIR/<name>/<version>/ (manifest, model.onnx, weights, features,\n' +
      'prototypes, calibration) atomically, and DIR/<name>/current names it.',
    options: {
      data: { kind: 'string', help: 'training data file', placeholder: 'FILE' },
      out: { kind: 'string', help: 'model registry folder', placeholder: 'DIR' },
      'from-kafka': {
        kind: 'boolean',
        help: 'the train role: read the window from the input topics of --config, gate, promote, announce',
      },
      config: {
        kind: 'string',
        help: 'daemon config (with --from-kafka): Kafka, input, model registry, training',
        placeholder: 'FILE',
      },
      since: {
        kind: 'string',
        help: 'with --from-kafka: the window starts this long ago (90s, 30m, 1h, 2d)',
        default: '1h',
      },
      name: { kind: 'string', help: 'model name', default: 'default' },
      'label-column': {
        kind: 'string',
        help: "a column to leave out of the features ('last' or its name)",
        placeholder: 'COL',
      },
      ...TRAIN_OPTIONS,
      device: {
        kind: 'string',
        help: 'where to train: cuda (tfjs-node-gpu), webgpu (tfjs WebGPU backend), cpu (wasm), auto',
        choices: ['auto', 'cpu', 'cuda', 'webgpu'],
        default: 'auto',
      },
      'raw-score': {
        kind: 'string',
        help: 'what the calibration grades: s_mix (prototype mixture over the DDCL distances), s_q (sum q_k d_k), s_min (nearest prototype)',
        choices: ['s_mix', 's_q', 's_min'],
        default: DEFAULT_CONFIG.scoring.rawScore,
      },
      terms: {
        kind: 'list',
        help: "score terms beside the raw score and the reconstruction error: inputMixture (mixture over the prototypes in input space), globalDeviation (squared standardised distance from the rows' mean), deviation (distance per feature from the nearest prototype's members), or none",
        placeholder: 'T1,T2',
        default: defaultTerms().join(','),
      },
      'input-deviation': {
        kind: 'boolean',
        help: 'add the deviation term (as --terms ...,deviation)',
      },
      combine: {
        kind: 'string',
        help: "how the terms' z make one: sum (weighted sum) or max (the largest; per-prototype z of the raw score)",
        choices: ['sum', 'max'],
        default: DEFAULT_CONFIG.scoring.combine,
      },
      weights: {
        kind: 'string',
        help: `weights of the summed terms (--combine sum), over the defaults ${Object.entries(
          DEFAULT_CONFIG.scoring.weights,
        )
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}`,
        placeholder: 'TERM=W,...',
      },
      json: { kind: 'boolean', help: 'print the result as one JSON line' },
    },
    examples: [
      'ddcl train --data events.csv --out models',
      'ddcl train --data X.npz --out models --name cardio --k 8 --json',
      'ddcl train --from-kafka --since 1h --config ddcl.yaml',
    ],
  },
  async run(p: Parsed): Promise<number> {
    if (bool(p, 'from-kafka')) {
      if (!str(p, 'config'))
        throw new UserError('--from-kafka needs --config FILE (Kafka, input topics, model registry)');
      const { trainFromKafka } = await import('./trainFromKafka.js');
      const r = await trainFromKafka(str(p, 'config')!, str(p, 'since')!);
      if (bool(p, 'json')) printJson(r);
      else
        process.stdout.write(
          `${r.model}: ${r.result}${r.version ? ` ${r.version}` : ''} from ${r.rows} events in ${r.seconds.toFixed(1)} s${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''}\n`,
        );
      return r.result === 'accepted' ? 0 : 3;
    }
    if (!str(p, 'data') || !str(p, 'out'))
      throw new UserError('--data FILE and --out DIR are required (or --from-kafka --config FILE)');
    const { loadMatrix } = await import('../../data/index.js');
    const { numericSpecForColumns } = await import('../../features/index.js');
    const { buildModel } = await import('../../train/buildModel.js');
    const { ModelRegistry } = await import('../../registry/registry.js');
    const name = str(p, 'name')!;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
      throw new UserError(`--name must be letters, digits, '.', '_' or '-', got "${name}"`);
    const cfg = trainConfigFrom(p);
    if (p.opts.engine === 'auto') {
      // --device picks the engine unless --engine was given explicitly.
      const { selectTrainDevice } = await import('../../model/trainDevice.js');
      const dev = await selectTrainDevice(str(p, 'device') as 'auto');
      cfg.engine = dev.engine;
      if (dev.fellBack && str(p, 'device') !== 'cpu' && !bool(p, 'json'))
        process.stderr.write(`ddcl train: training on ${dev.actual} (${dev.reasons.join('; ')})\n`);
    }
    const label = str(p, 'label-column');
    const t0 = performance.now();
    const m = await loadMatrix(str(p, 'data')!, label ? { labelColumn: label } : {});
    if (m.n < 2 * (cfg.K ?? 10))
      throw new UserError(`${str(p, 'data')}: ${m.n} rows are too few to train ${cfg.K} prototypes`);
    const rows: Float32Array[] = [];
    for (let i = 0; i < m.n; i++) rows.push(m.X.subarray(i * m.d, (i + 1) * m.d));
    const built = await buildModel(numericSpecForColumns(m.columns), rows, {
      train: cfg,
      ...scoringFrom(p),
      trainingWindow: { file: str(p, 'data')!, rows: m.n },
    });
    const registry = new ModelRegistry(str(p, 'out')!);
    const version = await registry.write(name, built.parts);
    await registry.setCurrent(name, version);
    const last = built.result.history[built.result.history.length - 1];
    const result = {
      model: name,
      version,
      dir: registry.versionDir(name, version),
      rows: m.n,
      epochs: built.result.history.length,
      seconds: (performance.now() - t0) / 1000,
      loss: { L_q: last?.Lq ?? null, L_OLS: last?.Lols ?? null, V: last?.V ?? null },
      backend: built.result.backend,
    };
    if (bool(p, 'json')) printJson(result);
    else
      process.stdout.write(
        `trained ${name}@${version} on ${m.n} rows x ${m.d} columns in ${result.seconds.toFixed(1)} s (${result.backend}); ` +
          `L_q ${result.loss.L_q?.toFixed(4)} = L_OLS ${result.loss.L_OLS?.toFixed(4)} + V ${result.loss.V?.toFixed(4)}\nwritten to ${result.dir}\n`,
      );
    return 0;
  },
};

type Scoring = DdclConfig['scoring'];
const optionalTerms = ['inputMixture', 'globalDeviation', 'deviation'] as const;

function defaultTerms(): string[] {
  const d = DEFAULT_CONFIG.scoring;
  return [
    d.inputMixture && 'inputMixture',
    d.globalDeviation && 'globalDeviation',
    d.inputDeviation && 'deviation',
  ].filter((t): t is string => typeof t === 'string');
}

/** The scoring options as the daemon's config would give them (src/daemon/scoring.ts). */
function scoringFrom(p: Parsed): ScoringBuild {
  const given = p.opts.terms;
  const terms = Array.isArray(given) ? given : defaultTerms();
  const known = new Set<string>(optionalTerms);
  for (const t of terms)
    if (t !== 'none' && !known.has(t))
      throw new UserError(`--terms: unknown term "${t}" (known: ${optionalTerms.join(', ')}, none)`);
  if (terms.includes('none') && terms.length > 1) throw new UserError('--terms: none goes alone');
  const s: Scoring = {
    ...DEFAULT_CONFIG.scoring,
    rawScore: str(p, 'raw-score') as Scoring['rawScore'],
    inputMixture: terms.includes('inputMixture'),
    globalDeviation: terms.includes('globalDeviation'),
    inputDeviation: terms.includes('deviation') || bool(p, 'input-deviation'),
    combine: str(p, 'combine') as Scoring['combine'],
    weights: { ...DEFAULT_CONFIG.scoring.weights, ...parseWeights(p) },
  };
  return scoringBuild(s);
}

/** --weights TERM=W,...: the summed terms' weights, each a number >= 0 and a known term. */
function parseWeights(p: Parsed): Partial<Record<ScoreTerm, number>> {
  const raw = str(p, 'weights');
  const out: Partial<Record<ScoreTerm, number>> = {};
  if (raw === undefined || raw === '') return out;
  for (const part of raw.split(',')) {
    const [k, v, ...rest] = part.split('=').map((x) => x.trim());
    const w = Number(v);
    if (!k || v === undefined || v === '' || rest.length > 0 || !(w >= 0))
      throw new UserError(`--weights: "${part}" is not TERM=W with W a number >= 0`);
    if (!(scoreTerms as readonly string[]).includes(k))
      throw new UserError(`--weights: unknown term "${k}" (known: ${scoreTerms.join(', ')})`);
    out[k as ScoreTerm] = w;
  }
  return out;
}
