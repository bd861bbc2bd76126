import { createWriteStream } from 'node:fs';
import { bool, printJson, str, UserError, type Parsed } from '../args.js';
import type { Command } from '../main.js';
import { resolveModel } from './common.js';

export const score: Command = {
  spec: {
    name: 'score',
    summary: 'Score a file with a trained model (ONNX Runtime): one score row per input row.',
    description:
      'The file must have the columns the model was trained on (same names for CSV/JSONL, same count\n' +
      'otherwise). --out writes CSV: row,grade,score,nearest,s_min,s_q,r,v[,recon].',
    options: {
      model: {
        kind: 'string',
        help: 'artifact folder, model folder, or registry folder (with --name)',
        required: true,
        placeholder: 'DIR',
      },
      name: { kind: 'string', help: 'model name inside a registry folder', default: 'default' },
      data: { kind: 'string', help: 'file to score', required: true, placeholder: 'FILE' },
      out: { kind: 'string', help: 'write the scores here (CSV)', placeholder: 'FILE' },
      'label-column': {
        kind: 'string',
        help: "a column to leave out ('last' or its name)",
        placeholder: 'COL',
      },
      batch: { kind: 'number', help: 'rows per ONNX Runtime call', default: 1024 },
      device: {
        kind: 'string',
        help: 'where to run the model',
        choices: ['auto', 'cpu', 'cuda', 'webgpu'],
        default: 'auto',
      },
      json: { kind: 'boolean', help: 'print {"rows","seconds","events_per_s"} as one JSON line' },
    },
    examples: ['ddcl score --model models --data events.csv --out scores.csv'],
  },
  async run(p: Parsed): Promise<number> {
    const { loadMatrix } = await import('../../data/index.js');
    const { loadArtifact } = await import('../../registry/artifact.js');
    const { ServingModel } = await import('../../serve/servingModel.js');
    const where = resolveModel(str(p, 'model')!, str(p, 'name'));
    const model = await ServingModel.fromArtifact(await loadArtifact(where.artifactDir!), {
      device: str(p, 'device') as 'auto',
    });
    const names = model.featurizer.spec.fields.map((f) => ('name' in f && f.name ? f.name : f.path));
    const label = str(p, 'label-column');
    const m = await loadMatrix(str(p, 'data')!, label ? { labelColumn: label } : {});
    if (m.d !== names.length)
      throw new UserError(
        `${str(p, 'data')}: ${m.d} columns, but the model was trained on ${names.length} (${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})`,
      );
    const batch = Math.max(1, Math.floor(Number(p.opts.batch)));
    const out = str(p, 'out') ? createWriteStream(str(p, 'out')!) : undefined;
    out?.write(`row,grade,score,nearest,s_min,s_q,r,v${model.scorer.hasRecon ? ',recon' : ''}\n`);
    const X = new Float32Array(batch * model.dim);
    const t0 = performance.now();
    for (let s = 0; s < m.n; s += batch) {
      const n = Math.min(batch, m.n - s);
      for (let i = 0; i < n; i++)
        model.featurizer.featurize(m.X.subarray((s + i) * m.d, (s + i + 1) * m.d), X, i * model.dim);
      const b = await model.score(X, n);
      if (out) {
        let chunk = '';
        for (let i = 0; i < n; i++) {
          const g = model.calibrator.grade(b, i);
          chunk += `${s + i},${g.grade},${g.z},${b.nearest[i]},${b.sMin[i]},${b.sQ[i]},${b.r[i]},${b.v[i]}${b.recon ? `,${b.recon[i]}` : ''}\n`;
        }
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      } else for (let i = 0; i < n; i++) model.calibrator.grade(b, i);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (out)
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    await model.release();
    const result = {
      rows: m.n,
      seconds,
      events_per_s: m.n / seconds,
      model: `${model.name}@${model.version}`,
      device: model.device.actual,
    };
    if (bool(p, 'json')) printJson(result);
    else
      process.stdout.write(
        `scored ${m.n} rows in ${seconds.toFixed(2)} s (${Math.round(result.events_per_s)} rows/s) with ${result.model} on ${result.device}${out ? `; scores in ${str(p, 'out')}` : ''}\n`,
      );
    return 0;
  },
};
