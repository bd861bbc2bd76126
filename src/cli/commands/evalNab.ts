import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bool, list, num, printJson, str, UserError, type Parsed } from '../args.js';
import type { Command } from '../main.js';

export const evalNab: Command = {
  spec: {
    name: 'eval nab',
    summary: 'Score the detector on the Numenta Anomaly Benchmark with the streaming protocol.',
    description:
      'Every series under DIR/data is a stream of {series, ts, value} events: per-key shingles of the\n' +
      'value and hour/day-of-week features, the first model built on the probation rows\n' +
      '(min(floor(0.15 N), 750)), rebuilt every --retrain-every events on the trailing window of\n' +
      'inliers; each row is scored before anything learns from it. Writes NAB result files under\n' +
      '--results and reports NAB scores with the optimised threshold per profile and with the\n' +
      "daemon's own label-free alert threshold (--alert-grade).",
    options: {
      data: {
        kind: 'string',
        help: 'NAB tree (data/, labels/combined_windows.json, config/profiles.json)',
        required: true,
        placeholder: 'DIR',
      },
      results: { kind: 'string', help: 'write NAB-format result files under DIR/ddcl/', placeholder: 'DIR' },
      only: { kind: 'list', help: 'only these <category>/<file>.csv keys', placeholder: 'KEYS' },
      'alert-grade': {
        kind: 'number',
        help: "the daemon's alert threshold on the grade (the label-free threshold)",
      },
      'retrain-every': { kind: 'number', help: 'rebuild the model after this many events (0: never)' },
      'per-file': { kind: 'boolean', help: 'include per-file results in the JSON' },
      json: { kind: 'boolean', help: 'print the result as one JSON line' },
    },
    examples: [
      'ddcl eval nab --data ../shared/data/nab --json',
      'ddcl eval nab --data ../shared/data/nab --results out/nab --per-file --json',
    ],
  },
  async run(p: Parsed): Promise<number> {
    const { defaultNabConfig, runNab } = await import('../../eval/stream/nab.js');
    const dir = str(p, 'data')!;
    if (!existsSync(join(dir, 'labels', 'combined_windows.json')))
      throw new UserError(`${dir} is not a NAB tree (no labels/combined_windows.json)`);
    const config = { ...defaultNabConfig };
    const grade = num(p, 'alert-grade');
    if (grade !== undefined) {
      if (!(grade > 0 && grade < 1)) throw new UserError(`--alert-grade must be in (0, 1), got ${grade}`);
      config.alertGrade = grade;
    }
    const every = num(p, 'retrain-every');
    if (every !== undefined) {
      if (!Number.isInteger(every) || every < 0)
        throw new UserError(`--retrain-every must be a whole number >= 0, got ${every}`);
      config.retrainEvery = every;
    }
    const only = list(p, 'only');
    const results = str(p, 'results');
    const r = await runNab(dir, {
      config,
      ...(only.length ? { only } : {}),
      ...(results ? { resultsDir: results } : {}),
    });
    const out = {
      files: r.files,
      windows: r.windows,
      scores: r.scores,
      thresholds: r.thresholds,
      label_free: r.label_free,
      seconds: r.seconds,
      models: r.models,
      build_seconds: r.build_seconds,
      ...(results ? { results: join(results, 'ddcl') } : {}),
      ...(bool(p, 'per-file') ? { per_file: r.per_file } : {}),
    };
    if (bool(p, 'json')) printJson(out);
    else {
      for (const f of r.per_file)
        process.stdout.write(
          `${f.file.padEnd(58)} standard ${f.raw.standard.toFixed(2).padStart(7)}  windows ${f.counts.detected}/${f.windows}  fp ${f.counts.fp}\n`,
        );
      process.stdout.write(
        `NAB ${r.files} files, ${r.windows} windows: standard ${r.scores.standard.toFixed(1)}, low FP ${r.scores.reward_low_FP_rate.toFixed(1)}, low FN ${r.scores.reward_low_FN_rate.toFixed(1)}; ` +
          `label-free (grade >= ${r.label_free.grade}) ${r.label_free.standard.toFixed(1)}, ${r.label_free.reward_low_FP_rate.toFixed(1)}, ${r.label_free.reward_low_FN_rate.toFixed(1)}; ${r.seconds.toFixed(0)} s\n`,
      );
    }
    return 0;
  },
};
