// ADBench score study: for each configuration (train config, feature options, models), the
// ROC-AUC of several unsupervised DDCL scores computed from the same models: the distance to the
// prototypes (s_min), the reconstruction error, a mixture over the prototypes in the embedding
// (each prototype a Gaussian with its members' spread and share) and in input space (each
// prototype's members' mean and std per feature). Labels are used only for the AUCs.
//   node --import tsx bench/adbench-scores.ts ADBENCH_DIR 'CONFIGS_JSON' [SETS...]
// CONFIGS_JSON: [{ "train": {...}, "features": { "clip": 5 }, "models": 1 }, ...]
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadMatrix } from '../src/data/index.js';
import { rocAuc } from '../src/eval/metrics.js';
import { defaultTabularConfig } from '../src/eval/tabular.js';
import { numericSpecForColumns, type NumericOptions } from '../src/features/index.js';
import { OnnxScorer } from '../src/serve/scorer.js';
import { buildModel, scoreAll } from '../src/train/buildModel.js';
import type { TrainConfig } from '../src/train/config.js';

interface StudyConfig {
  train?: Partial<TrainConfig>;
  features?: NumericOptions;
  models?: number;
}
const dir = resolve(process.argv[2] ?? '../shared/data/adbench');
const configs = JSON.parse(process.argv[3] ?? '[{}]') as StudyConfig[];
const sets =
  process.argv.length > 4
    ? process.argv.slice(4)
    : ['38_thyroid', '2_annthyroid', '6_cardio', '23_mammography', '28_pendigits', '31_satimage-2'];

const robust = (v: ArrayLike<number>): { loc: number; scale: number } => {
  const s = Float64Array.from(v).sort();
  const q = (p: number): number => s[Math.round(p * (s.length - 1))]!;
  return { loc: q(0.5), scale: Math.max((q(0.75) - q(0.25)) / 1.349, 1e-12) };
};
const rank = (v: ArrayLike<number>): Float64Array => {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a]! - v[b]!);
  const o = new Float64Array(v.length);
  idx.forEach((j, r) => (o[j] = r / v.length));
  return o;
};
const lse = (a: Float64Array): number => {
  let mx = -Infinity;
  for (const x of a) if (x > mx) mx = x;
  let s = 0;
  for (const x of a) s += Math.exp(x - mx);
  return mx + Math.log(s);
};

for (const c of configs) {
  const train = { ...defaultTabularConfig.train, ...c.train };
  const models = c.models ?? 1;
  const acc: Record<string, number[]> = {};
  const tag = JSON.stringify(c);
  for (const s of sets) {
    const m = await loadMatrix(join(dir, `${s}.npz`));
    const rows: Float32Array[] = [];
    for (let i = 0; i < m.n; i++) rows.push(m.X.subarray(i * m.d, (i + 1) * m.d));
    const y = Array.from(m.y!, (v) => (v ? 1 : 0));
    const t0 = performance.now();
    const sum: Record<string, Float64Array> = {};
    const add = (k: string, v: ArrayLike<number>, z = true): void => {
      const a = (sum[k] ??= new Float64Array(m.n));
      const r = z ? robust(v) : { loc: 0, scale: 1 };
      for (let i = 0; i < m.n; i++) a[i]! += (v[i]! - r.loc) / r.scale;
    };
    let failed = '';
    for (let seed = 0; seed < models; seed++) {
      let built;
      try {
        built = await buildModel(numericSpecForColumns(m.columns, c.features ?? {}), rows, {
          train: { ...train, seed: (train.seed ?? 0) + seed },
          calibration: { rawScore: 's_min' },
        });
      } catch (e) {
        failed = (e as Error).name;
        break;
      }
      const fz = built.featurizer;
      const X = fz.featurizeMany(rows).X;
      const d = fz.dim;
      const scorer = await OnnxScorer.create(built.parts.onnx, { intraOpThreads: 1 });
      const cols = await scoreAll(scorer, X, m.n, d, 1 << 20);
      await scorer.release();
      const K = built.result.model.prototypes.K;
      const mEmb = built.result.model.prototypes.m;
      const D = cols.batches[0]!.D;
      const fit = (i: number): boolean => i % 5 !== 4; // the training rows, as buildModel
      const recon = cols.recon ?? new Float32Array(m.n);
      add('sMin', cols.sMin);
      add('recon', recon);
      const zs = new Float64Array(m.n);
      {
        const a = robust(cols.sMin);
        const b = robust(recon);
        for (let i = 0; i < m.n; i++)
          zs[i] = (cols.sMin[i]! - a.loc) / a.scale + (recon[i]! - b.loc) / b.scale;
      }
      add('global', zs, false);
      // Embedding mixture: prototype k ~ N(p_k, s_k^2 I), s_k^2 = mean member D / m, weight = share.
      const cnt = new Float64Array(K);
      const dsum = new Float64Array(K);
      let nfit = 0;
      for (let i = 0; i < m.n; i++)
        if (fit(i)) {
          const k = cols.nearest[i]!;
          cnt[k]!++;
          dsum[k]! += cols.sMin[i]!;
          nfit++;
        }
      let gvar = 0;
      for (let k = 0; k < K; k++) gvar += dsum[k]!;
      gvar /= nfit * mEmb;
      const s2 = Float64Array.from(dsum, (v, k) =>
        Math.max(cnt[k]! > 1 ? v / (cnt[k]! * mEmb) : gvar, 1e-3 * gvar),
      );
      const t = new Float64Array(K);
      // -log of the prototype mixture with spreads v_k over the embedding distances of every row.
      const gmm = (v: Float64Array): Float64Array =>
        Float64Array.from({ length: m.n }, (_, i) => {
          for (let k = 0; k < K; k++)
            t[k] =
              Math.log((cnt[k]! + 1) / (nfit + K)) -
              0.5 * mEmb * Math.log(v[k]!) -
              D[i * K + k]! / (2 * v[k]!);
          return -lse(t);
        });
      // Same with one shared spread (only the shares differ between prototypes).
      const gmmE1 = Float64Array.from({ length: m.n }, (_, i) => {
        for (let k = 0; k < K; k++) t[k] = Math.log((cnt[k]! + 1) / (nfit + K)) - D[i * K + k]! / (2 * gvar);
        return -lse(t);
      });
      const gmmE = gmm(s2);
      add('gmmE', gmmE);
      for (const fl of [0.1, 0.3])
        add(`gmmEf${fl}`, gmm(Float64Array.from(s2, (v) => Math.max(v, fl * gvar))));
      add('gmmE1', gmmE1);
      // Input-space diagonal Gaussian per prototype (members' mean and std), std floored.
      const gs = new Float64Array(d);
      const gm = new Float64Array(d);
      for (let i = 0; i < m.n; i++) if (fit(i)) for (let j = 0; j < d; j++) gm[j]! += X[i * d + j]! / nfit;
      for (let i = 0; i < m.n; i++)
        if (fit(i)) for (let j = 0; j < d; j++) gs[j]! += (X[i * d + j]! - gm[j]!) ** 2 / nfit;
      for (let j = 0; j < d; j++) gs[j] = Math.sqrt(gs[j]!);
      const stats = built.parts.prototypes.stats as { count: number; mean: number[]; std: number[] }[];
      for (const floor of [0.05, 0.2, 1]) {
        const near = new Float64Array(m.n);
        const mix = new Float64Array(m.n);
        const sd = stats.map((p) => p.std.map((v, j) => Math.max(v, floor * gs[j]!, 1e-6)));
        const logdet = sd.map((v) => v.reduce((a, b) => a + Math.log(b), 0));
        const tin = new Float64Array(K);
        for (let i = 0; i < m.n; i++) {
          for (let k = 0; k < K; k++) {
            const p = stats[k]!;
            let q = 0;
            for (let j = 0; j < d; j++) q += ((X[i * d + j]! - p.mean[j]!) / sd[k]![j]!) ** 2;
            tin[k] = p.count > 0 ? Math.log((p.count + 1) / (nfit + K)) - logdet[k]! - 0.5 * q : -Infinity;
            if (k === cols.nearest[i]) near[i] = q;
          }
          mix[i] = -lse(tin);
        }
        add(`nearIn${floor}`, near);
        add(
          `logNearIn${floor}`,
          Float64Array.from(near, (v) => Math.log(v + 1e-9)),
        );
        add(`mixIn${floor}`, mix);
        const rr = rank(mix);
        const rc = rank(recon);
        add(
          `mixIn${floor}+rec`,
          Float64Array.from(rr, (v, i) => v + rc[i]!),
          false,
        );
      }
      for (const [name, v] of [
        ['gmmE', gmmE],
        ['gmmE1', gmmE1],
      ] as const) {
        const a = robust(v);
        const b = robust(recon);
        add(
          `${name}z+recz`,
          Float64Array.from(v, (x, i) => (x - a.loc) / a.scale + (recon[i]! - b.loc) / b.scale),
          false,
        );
      }
      {
        // Joint negative log-likelihood: the mixture over the embedding plus a Gaussian decoder
        // (per-feature variance = the mean reconstruction error of the training rows).
        let mr = 0;
        for (let i = 0; i < m.n; i++) if (fit(i)) mr += recon[i]! / nfit;
        add(
          'joint',
          Float64Array.from(gmmE, (v, i) => v + (0.5 * d * recon[i]!) / mr),
        );
        add(
          'joint1',
          Float64Array.from(gmmE1, (v, i) => v + (0.5 * d * recon[i]!) / mr),
        );
        const a = robust(gmmE);
        const b = robust(recon);
        for (const w of [0.5, 2])
          add(
            `gmmEz+${w}recz`,
            Float64Array.from(gmmE, (x, i) => (x - a.loc) / a.scale + (w * (recon[i]! - b.loc)) / b.scale),
            false,
          );
      }
      const re = rank(gmmE);
      const rc = rank(recon);
      add(
        'gmmE+rec',
        Float64Array.from(re, (v, i) => v + rc[i]!),
        false,
      );
    }
    if (failed) {
      console.log(`${tag} ${s} ${failed}`);
      continue;
    }
    if (process.env.DUMP)
      writeFileSync(
        join(process.env.DUMP, `${s}.json`),
        JSON.stringify({
          y,
          scores: Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, Array.from(v)])),
        }),
      );
    const line: string[] = [];
    for (const [k, v] of Object.entries(sum)) {
      const a = rocAuc(y, v);
      (acc[k] ??= []).push(a);
      line.push(`${k} ${a.toFixed(3)}`);
    }
    console.log(`${tag} ${s} ${((performance.now() - t0) / 1000).toFixed(1)}s ${line.join(' ')}`);
  }
  console.log(
    `${tag} MEAN ${Object.entries(acc)
      .map(([k, v]) => `${k} ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)}`)
      .join(' ')}`,
  );
}
