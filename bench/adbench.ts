// ADBench side by side: `ddcl eval tabular` (in process, the same function) and scikit-learn's
// IsolationForest (bench/peers/iforest.py: 100 trees, mean of 5 seeds) on the same six files and
// the same protocol (unsupervised on all rows, labels only for the AUCs), in one run.
//   node --import tsx bench/adbench.ts [ADBENCH_DIR] [CONFIG_JSON (merged over defaultTabularConfig)]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { loadMatrix } from '../src/data/index.js';
import { defaultTabularConfig, evalTabular, type TabularConfig } from '../src/eval/tabular.js';

const dir = resolve(process.argv[2] ?? '../shared/data/adbench');
const over = JSON.parse(process.argv[3] ?? '{}') as Partial<TabularConfig>;
const config: TabularConfig = {
  ...defaultTabularConfig,
  ...over,
  train: { ...defaultTabularConfig.train, ...over.train },
};
const sets = ['38_thyroid', '2_annthyroid', '6_cardio', '23_mammography', '28_pendigits', '31_satimage-2'];
console.log(
  `# ${process.argv.join(' ')} | ${cpus().length} x ${cpus()[0]?.model} | load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
const peer = new Map<string, { auc_roc: number; auc_pr: number; seconds: number }>();
const py = execFileSync(
  '/usr/bin/python3',
  [new URL('./peers/iforest.py', import.meta.url).pathname, '5', ...sets.map((s) => join(dir, `${s}.npz`))],
  { encoding: 'utf8' },
);
for (const line of py.trim().split('\n')) {
  const r = JSON.parse(line) as { dataset: string; auc_roc: number; auc_pr: number; seconds: number };
  peer.set(r.dataset, r);
}
const rows: {
  dataset: string;
  ddcl: { auc_roc: number; auc_pr: number; seconds: number };
  iforest: { auc_roc: number; auc_pr: number; seconds: number };
}[] = [];
for (const s of sets) {
  const r = await evalTabular(s, await loadMatrix(join(dir, `${s}.npz`)), config);
  const p = peer.get(s)!;
  rows.push({
    dataset: s,
    ddcl: { auc_roc: r.auc_roc, auc_pr: r.auc_pr, seconds: r.seconds },
    iforest: { auc_roc: p.auc_roc, auc_pr: p.auc_pr, seconds: p.seconds },
  });
  console.log(
    `${s.padEnd(16)} ddcl ROC ${r.auc_roc.toFixed(4)} PR ${r.auc_pr.toFixed(4)} (${r.seconds.toFixed(1)} s) | iforest ROC ${p.auc_roc.toFixed(4)} PR ${p.auc_pr.toFixed(4)} (${p.seconds.toFixed(1)} s)`,
  );
}
const mean = (f: (r: (typeof rows)[number]) => number): number =>
  rows.reduce((a, r) => a + f(r), 0) / rows.length;
const summary = {
  ddcl: { auc_roc: mean((r) => r.ddcl.auc_roc), auc_pr: mean((r) => r.ddcl.auc_pr) },
  iforest: { auc_roc: mean((r) => r.iforest.auc_roc), auc_pr: mean((r) => r.iforest.auc_pr) },
};
console.log(
  `mean             ddcl ROC ${summary.ddcl.auc_roc.toFixed(4)} PR ${summary.ddcl.auc_pr.toFixed(4)} | iforest ROC ${summary.iforest.auc_roc.toFixed(4)} PR ${summary.iforest.auc_pr.toFixed(4)}`,
);
console.log(JSON.stringify({ sets: rows, mean: summary, config }));
