// NAB benchmark driver: `node --import tsx bench/nab.ts [DATA_DIR] ['{"config overrides"}']`.
// Prints the command, the machine, per-file lines and the totals; the last line is the JSON report.
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { defaultNabConfig, runNab, type NabDetectorConfig } from '../src/eval/stream/nab.js';

const dir = resolve(process.argv[2] ?? '../shared/data/nab');
const over = JSON.parse(process.argv[3] ?? '{}') as Partial<NabDetectorConfig>;
const config: NabDetectorConfig = {
  ...defaultNabConfig,
  ...over,
  train: { ...defaultNabConfig.train, ...over.train },
};
const only = process.env.NAB_ONLY ? process.env.NAB_ONLY.split(',') : undefined;
console.error(
  `# ${process.argv.join(' ')} | ${cpus().length} x ${cpus()[0]?.model} | load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
const r = await runNab(dir, {
  config,
  ...(only ? { only } : {}),
  onFile: (k, s, sec) =>
    console.error(
      `${k.padEnd(58)} models ${s.models} build ${s.buildSeconds.toFixed(1)}s total ${sec.toFixed(1)}s`,
    ),
});
for (const f of r.per_file)
  console.error(
    `${f.file.padEnd(58)} std ${f.raw.standard.toFixed(2).padStart(7)} det ${f.counts.detected}/${f.windows} fp ${f.counts.fp} | lf ${f.raw_label_free.standard.toFixed(2).padStart(7)} det ${f.counts_label_free.detected} fp ${f.counts_label_free.fp}`,
  );
console.error(
  `standard ${r.scores.standard.toFixed(1)} lowFP ${r.scores.reward_low_FP_rate.toFixed(1)} lowFN ${r.scores.reward_low_FN_rate.toFixed(1)} | label-free ${r.label_free.standard.toFixed(1)} ${r.label_free.reward_low_FP_rate.toFixed(1)} ${r.label_free.reward_low_FN_rate.toFixed(1)} | thr ${r.thresholds.standard.toFixed(4)} | ${r.seconds.toFixed(0)} s, ${r.models} models, build ${r.build_seconds.toFixed(0)} s`,
);
console.log(
  JSON.stringify({
    scores: r.scores,
    label_free: r.label_free,
    thresholds: r.thresholds,
    seconds: r.seconds,
    models: r.models,
  }),
);
