// Offline study of grading choices on the raw scores recorded by bench/nab-record.ts: replays the
// daemon's Calibrator per file (streaming, past events only) with other likelihood windows, a
// spatial (range) check on the value and other alert cooldowns, and scores them with the NAB
// scorer. Analysis only (the inlier sets the models were built on are those of the recorded run);
// a chosen configuration is confirmed by a full `ddcl eval nab`.
//   node --import tsx bench/nab-replay.ts [NAB_DIR] [CACHE]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  NAB_PROFILES,
  loadNabCorpus,
  scoreCorpus,
  type NabProfileName,
  type SweepFile,
} from '../src/eval/nab/index.js';
import { nabScore } from '../src/eval/stream/nab.js';
import { Calibrator, type CalibrationState } from '../src/serve/calibration.js';

interface Rec {
  start: number;
  n: number;
  sMin: number[];
  sQ: number[];
  nearest: number[];
  recon: number[];
  calibration: CalibrationState;
}
const dir = resolve(process.argv[2] ?? '../shared/data/nab');
const cache = JSON.parse(readFileSync(resolve(process.argv[3] ?? 'out/nab-cache.json'), 'utf8')) as {
  files: { key: string; rows: number; models: Rec[] }[];
};
const corpus = loadNabCorpus(dir);
const profiles = {} as Record<NabProfileName, (typeof corpus.profiles)[string]>;
for (const p of NAB_PROFILES) profiles[p] = corpus.profiles[p]!;

export interface Variant {
  name: string;
  short: number;
  long: number;
  mode: 'lik' | 'q' | 'max';
  spatial: number;
  spatialWin: number;
  cooldown: number;
  alert: number;
}

function run(v: Variant): { opt: Record<NabProfileName, number>; lf: Record<NabProfileName, number> } {
  const outs: SweepFile[] = [];
  for (const f of cache.files) {
    const s = corpus.files.find((x) => x.key === f.key)!;
    const n = s.values.length;
    const out = new Float64Array(n);
    let cal: Calibrator | undefined;
    let cool = 0;
    for (const m of f.models) {
      const st: CalibrationState = {
        ...m.calibration,
        likelihood: { shortWindow: v.short, longWindow: v.long },
      };
      const stq: CalibrationState = { ...m.calibration };
      delete stq.likelihood;
      const q = new Calibrator(stq);
      cal = cal ? cal.next(st) : new Calibrator(st);
      const cols = { n: m.n, sMin: m.sMin, sQ: m.sQ, nearest: m.nearest };
      for (let j = 0; j < m.n; j++) {
        const i = m.start + j;
        const g = cal.grade(cols, j);
        const gq = q.grade(cols, j);
        let sup =
          v.mode === 'lik'
            ? g.surprise
            : v.mode === 'q'
              ? gq.surprise
              : Math.max(g.surprise, gq.surprise * 0.5);
        if (v.spatial > 0) {
          let lo = Infinity;
          let hi = -Infinity;
          for (let k = Math.max(0, i - v.spatialWin); k < i; k++) {
            const x = s.values[k]!;
            if (x < lo) lo = x;
            if (x > hi) hi = x;
          }
          const tol = v.spatial * (hi - lo);
          const x = s.values[i]!;
          if (hi > lo && (x > hi + tol || x < lo - tol)) sup = Math.max(sup, v.alert + 1);
        }
        if (cool > 0) {
          sup = 0;
          cool--;
        } else if (sup >= v.alert && v.cooldown > 0) cool = v.cooldown;
        out[i] = sup;
      }
    }
    outs.push({ name: f.key, rows: n, windows: s.windows, scores: Float64Array.from(out, nabScore) });
  }
  const full = scoreCorpus(outs, profiles);
  const opt = full.scores;
  if (process.env.PERFILE)
    full.perFile.standard.forEach((r, i) => {
      let det = 0;
      for (const w of r.windowDetections) if (w >= 0) det++;
      console.log(
        `  ${outs[i]!.name.padEnd(60)} raw ${r.rawScore.toFixed(2)} det ${det}/${r.windowDetections.length} fp ${r.fp}`,
      );
    });
  const l = nabScore(v.alert);
  const lf = scoreCorpus(outs, profiles, {
    thresholds: { reward_low_FP_rate: l, reward_low_FN_rate: l, standard: l },
  }).scores;
  return { opt, lf };
}

const base: Variant = {
  name: 'base',
  short: 10,
  long: 1000,
  mode: 'lik',
  spatial: 0,
  spatialWin: 100000,
  cooldown: 100,
  alert: 5,
};
const variants: Variant[] = JSON.parse(process.argv[4] ?? '[]') as Variant[];
for (const p of [{}, ...variants]) {
  const v = { ...base, ...p };
  const r = run(v);
  const f = (x: Record<NabProfileName, number>): string =>
    NAB_PROFILES.map((k) => x[k].toFixed(1)).join(' / ');
  console.log(`${JSON.stringify(p)} | opt ${f(r.opt)} | lf ${f(r.lf)}`);
}
