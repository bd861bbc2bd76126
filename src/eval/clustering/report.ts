// The Markdown report of a clustering benchmark, and writing it with its figure and JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import type { ClusteringBenchResult } from './runner.js';
import { lossCurveSvg } from './svg.js';

const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

/** The JSON of DESIGN.md (`dataset, n, k, results[{method, acc_mean, acc_std, nmi_mean, ari_mean, seconds}]`) plus extras. */
export function benchJson(r: ClusteringBenchResult): Record<string, unknown> {
  return {
    dataset: r.dataset,
    n: r.n,
    k: r.k,
    protocol: r.protocol,
    seeds: r.seeds,
    results: r.results.map((m) => ({
      method: m.method,
      acc_mean: m.acc_mean,
      acc_std: m.acc_std,
      nmi_mean: m.nmi_mean,
      ari_mean: m.ari_mean,
      seconds: m.seconds,
    })),
    diagnostics: r.diagnostics,
    backend: r.backend,
    seconds: r.seconds,
  };
}

export function markdownReport(r: ClusteringBenchResult, command: string, figure: string): string {
  const L: string[] = [];
  L.push(`# Clustering benchmark: ${r.dataset}`, '');
  L.push(`Command: \`${command}\``, '');
  L.push(
    `Data: n = ${r.n}, d = ${r.d}, K = ${r.k}; protocol **${r.protocol}**; ${r.seeds} seed(s); tfjs backend ${r.backend}; ` +
      `${cpus().length} CPU(s), load average at the end ${loadavg()
        .map((v) => v.toFixed(2))
        .join(' ')}; total ${r.seconds.toFixed(1)} s.`,
    '',
  );
  L.push(
    'ACC is accuracy under the best one-to-one cluster-to-class matching (Hungarian); mean ± population std over seeds.',
  );
  L.push(
    'Seconds: mean wall time per seed, shared stages (pretraining, neighbour graph) counted in every method that uses them.',
    '',
  );
  L.push('| method | ACC | NMI | ARI | seconds |', '|---|---|---|---|---|');
  for (const m of r.results) {
    L.push(
      `| ${m.method} | ${f3(m.acc_mean)} ± ${f3(m.acc_std)} | ${f3(m.nmi_mean)} ± ${f3(m.nmi_std)} | ${f3(m.ari_mean)} ± ${f3(m.ari_std)} | ${m.seconds.toFixed(1)} |`,
    );
  }
  L.push('');
  for (const m of r.results) {
    L.push(`## ${m.method}`, '', '| seed | ACC | NMI | ARI | seconds |', '|---|---|---|---|---|');
    for (const s of m.runs)
      L.push(`| ${s.seed} | ${f3(s.acc)} | ${f3(s.nmi)} | ${f3(s.ari)} | ${s.seconds.toFixed(1)} |`);
    L.push('');
  }
  const d = r.diagnostics;
  L.push('## DDCL health signals', '');
  if (d) {
    L.push(
      `- Largest decomposition violation |L_q - L_OLS - V| over ${d.epochsChecked} epochs of every DDCL-family run: ` +
        `${d.maxViolation.toExponential(2)} (relative to L_q: ${d.maxRelativeViolation.toExponential(2)}); epochs with V < 0: ${d.negativeV}.`,
    );
    L.push(
      `- Pearson correlation of prototype separation and the force norm ||2 Sigmabar P|| over the epochs of each ddcl run: ` +
        `mean ${f3(d.separationForcePearson)} (per seed: ${d.separationForcePearsonBySeed.map(f3).join(', ')}). The paper reports -0.98.`,
    );
  } else L.push('- No DDCL-family method ran.');
  const c = r.curve;
  if (c.length > 0 && c[0]!.usedPrototypes !== undefined) {
    // The jointly trained (paper) runs: where the prototypes and the assignments go per epoch.
    L.push(
      '',
      '### ddcl, first seed: prototype use per epoch',
      '',
      '| epoch | T | L_q | V | separation | used prototypes | mean max q | embedding variance |',
      '|---|---|---|---|---|---|---|---|',
    );
    const picks = [...new Set([0, 1, 2, 5, 10, 20, 30, 50, 75, 100, 125, c.length - 1])].filter(
      (e) => e < c.length,
    );
    for (const e of picks) {
      const x = c[e]!;
      L.push(
        `| ${x.epoch} | ${f3(x.T)} | ${f3(x.Lq)} | ${f3(x.V)} | ${f3(x.separation)} | ${x.usedPrototypes} | ${f3(x.meanMaxQ ?? NaN)} | ${f3(x.embedVar ?? NaN)} |`,
      );
    }
  }
  L.push('', `![L_q, L_OLS and V per epoch, ddcl, first seed](${figure})`, '');
  L.push('## Configuration', '', '```json', JSON.stringify(r.config, null, 2), '```', '');
  return L.join('\n');
}

/** Writes report.md, curves.svg and result.json under dir; returns their paths. */
export function writeReport(
  r: ClusteringBenchResult,
  dir: string,
  command: string,
): { report: string; figure: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const figure = join(dir, 'curves.svg');
  const report = join(dir, 'report.md');
  const json = join(dir, 'result.json');
  writeFileSync(
    figure,
    lossCurveSvg(r.curve, `${r.dataset}: ddcl (${r.protocol}), seed ${r.results[0]?.runs[0]?.seed ?? 0}`),
  );
  writeFileSync(report, markdownReport(r, command, 'curves.svg'));
  writeFileSync(
    json,
    JSON.stringify(
      {
        ...benchJson(r),
        perSeed: r.results.map((m) => ({ method: m.method, runs: m.runs })),
        curve: r.curve,
      },
      null,
      2,
    ) + '\n',
  );
  return { report, figure, json };
}
