// ADBench study: for a few training configurations, the ROC-AUC of several unsupervised scores
// of the same model (raw s_min, per-prototype z of s_min, reconstruction error, their calibrated
// max and sum), one model per configuration and set. Labels are used only for the AUCs.
//   node --import tsx bench/adbench-study.ts ADBENCH_DIR 'CONFIGS_JSON' [SETS...]
import { join, resolve } from 'node:path';
import { loadMatrix } from '../src/data/index.js';
import { rocAuc } from '../src/eval/metrics.js';
import { defaultTabularConfig } from '../src/eval/tabular.js';
import { numericSpecForColumns } from '../src/features/index.js';
import { Calibrator, normalise } from '../src/serve/calibration.js';
import { OnnxScorer } from '../src/serve/scorer.js';
import { buildModel, scoreAll } from '../src/train/buildModel.js';
import type { TrainConfig } from '../src/train/config.js';

const dir = resolve(process.argv[2] ?? '../shared/data/adbench');
const configs = JSON.parse(process.argv[3] ?? '[{}]') as Partial<TrainConfig>[];
const sets =
  process.argv.length > 4
    ? process.argv.slice(4)
    : ['38_thyroid', '2_annthyroid', '6_cardio', '23_mammography', '28_pendigits', '31_satimage-2'];
for (const c of configs) {
  const train = { ...defaultTabularConfig.train, ...c };
  const acc: Record<string, number[]> = {};
  for (const s of sets) {
    const m = await loadMatrix(join(dir, `${s}.npz`));
    const rows: Float32Array[] = [];
    for (let i = 0; i < m.n; i++) rows.push(m.X.subarray(i * m.d, (i + 1) * m.d));
    const t0 = performance.now();
    let built;
    try {
      built = await buildModel(numericSpecForColumns(m.columns), rows, {
        train,
        calibration: { rawScore: 's_min' },
      });
    } catch (e) {
      console.log(`${s} ${(e as Error).name}`);
      continue;
    }
    const X = built.featurizer.featurizeMany(rows);
    const scorer = await OnnxScorer.create(built.parts.onnx, { intraOpThreads: 1 });
    const cols = await scoreAll(scorer, X.X, X.rows, built.featurizer.dim);
    await scorer.release();
    const st = built.calibration;
    const noRecon = { ...st };
    delete noRecon.recon;
    const cal = new Calibrator(st);
    const y = Array.from(m.y!, (v) => (v ? 1 : 0));
    const sc: Record<string, number[]> = {
      sMin: [],
      sQ: [],
      zSmin: [],
      recon: [],
      zMax: [],
      zSum: [],
      gSum: [],
      rank: [],
    };
    for (let i = 0; i < m.n; i++) {
      sc.sMin!.push(cols.sMin[i]!);
      sc.sQ!.push(cols.sQ[i]!);
      const z = normalise(noRecon, cols, i);
      sc.zSmin!.push(z);
      const r = cols.recon ? cols.recon[i]! : 0;
      sc.recon!.push(r);
      sc.zMax!.push(cal.grade(cols, i).z);
      const zr = st.recon ? (r - st.recon.loc) / st.recon.scale : 0;
      sc.zSum!.push(z + zr);
      sc.gSum!.push((cols.sMin[i]! - st.global.loc) / st.global.scale + zr);
    }
    // Mean rank of raw s_min and reconstruction error (scale-free combination).
    const rk = (v: number[]): Float64Array => {
      const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]!);
      const o = new Float64Array(v.length);
      idx.forEach((j, r) => (o[j] = r / v.length));
      return o;
    };
    const ra = rk(sc.sMin!);
    const rb = rk(sc.recon!);
    sc.rank = Array.from(ra, (a, i) => a + rb[i]!);
    const line: string[] = [];
    for (const [k, v] of Object.entries(sc)) {
      const a = rocAuc(y, v);
      (acc[k] ??= []).push(a);
      line.push(`${k} ${a.toFixed(3)}`);
    }
    console.log(
      `${JSON.stringify(c)} ${s} ${((performance.now() - t0) / 1000).toFixed(1)}s ${line.join(' ')}`,
    );
  }
  console.log(
    `${JSON.stringify(c)} MEAN ${Object.entries(acc)
      .map(([k, v]) => `${k} ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)}`)
      .join(' ')}`,
  );
}
