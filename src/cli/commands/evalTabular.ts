import { basename } from 'node:path';
import { bool, num, printJson, str, UserError, type Parsed } from '../args.js';
import type { Command } from '../main.js';

export const evalTabular: Command = {
  spec: {
    name: 'eval tabular',
    summary: 'Unsupervised detection quality on a labelled table (ADBench npz): ROC-AUC and PR-AUC.',
    description:
      'The model is built on every row without the labels (features robust-scaled on the training\n' +
      'rows, DDCL, ONNX, calibration on a held-out fifth, as `ddcl train`); every row is scored through\n' +
      "ONNX Runtime; the labels (y) are read only for the AUCs. The row score is the daemon's default\n" +
      'grading (config scoring): the sum of robust z against the held-out rows of the prototype\n' +
      'mixture over the DDCL distances (s_mix), the reconstruction error, a mixture over the same\n' +
      "prototypes in input space (each an isotropic Gaussian over its members' features, weighted by\n" +
      "its share) and the squared standardised distance from the rows' mean; averaged over --models seeds.",
    options: {
      file: {
        kind: 'string',
        help: 'npz with X and y (or CSV/JSONL with --label-column)',
        required: true,
        placeholder: 'FILE',
      },
      'label-column': {
        kind: 'string',
        help: "label column for table formats ('last' or its name)",
        placeholder: 'COL',
      },
      models: { kind: 'number', help: 'models (consecutive seeds) whose scores are averaged' },
      seed: { kind: 'number', help: 'first seed', default: 0 },
      json: { kind: 'boolean', help: 'print the result as one JSON line' },
    },
    examples: ['ddcl eval tabular --file ../shared/data/adbench/6_cardio.npz --json'],
  },
  async run(p: Parsed): Promise<number> {
    const { loadMatrix } = await import('../../data/index.js');
    const { defaultTabularConfig, evalTabular: evaluate } = await import('../../eval/tabular.js');
    const file = str(p, 'file')!;
    const label = str(p, 'label-column');
    const m = await loadMatrix(file, label ? { labelColumn: label } : {});
    if (!m.y) throw new UserError(`${file} has no labels: an npz needs y, a table needs --label-column`);
    const seed = num(p, 'seed')!;
    const models = num(p, 'models') ?? defaultTabularConfig.models;
    if (!Number.isInteger(models) || models < 1)
      throw new UserError(`--models must be a whole number >= 1, got ${models}`);
    if (!Number.isInteger(seed) || seed < 0)
      throw new UserError(`--seed must be a whole number >= 0, got ${seed}`);
    const cfg = { ...defaultTabularConfig, models, train: { ...defaultTabularConfig.train, seed } };
    const r = await evaluate(basename(file).replace(/\.(npz|csv|jsonl)(\.gz)?$/, ''), m, cfg);
    const out = {
      dataset: r.dataset,
      n: r.n,
      d: r.d,
      anomalies: r.anomalies,
      auc_roc: r.auc_roc,
      auc_pr: r.auc_pr,
      seconds: r.seconds,
    };
    if (bool(p, 'json')) printJson(out);
    else
      process.stdout.write(
        `${r.dataset}: n ${r.n}, d ${r.d}, ${r.anomalies} anomalies: ROC-AUC ${r.auc_roc.toFixed(4)}, PR-AUC ${r.auc_pr.toFixed(4)} (${r.seconds.toFixed(1)} s)\n`,
      );
    return 0;
  },
};
