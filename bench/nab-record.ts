// Records, per NAB file and model, the raw ONNX score columns and the calibration of a streaming
// run with the default configuration (out/nab-cache.json), so that grading choices can be studied
// offline (bench/nab-replay.ts) without rebuilding models. Analysis only: the replayed inlier
// sets are those of the recorded run.
//   node --import tsx bench/nab-record.ts [NAB_DIR] [OUT]
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadNabCorpus, probationaryLength } from '../src/eval/nab/index.js';
import { runStream } from '../src/eval/stream/detector.js';
import { defaultNabConfig, seriesRecords, streamConfig } from '../src/eval/stream/nab.js';

const dir = resolve(process.argv[2] ?? '../shared/data/nab');
const outFile = resolve(process.argv[3] ?? 'out/nab-cache.json');
const corpus = loadNabCorpus(dir);
const files: unknown[] = [];
for (const s of corpus.files) {
  const models: unknown[] = [];
  const sc = {
    ...streamConfig(defaultNabConfig),
    onModel: (
      start: number,
      c: {
        n: number;
        sMin: ArrayLike<number>;
        sQ: ArrayLike<number>;
        nearest: ArrayLike<number>;
        recon?: ArrayLike<number>;
      },
      calibration: unknown,
    ) => {
      models.push({
        start,
        n: c.n,
        sMin: Array.from(c.sMin),
        sQ: Array.from(c.sQ),
        nearest: Array.from(c.nearest),
        recon: Array.from(c.recon ?? []),
        calibration,
      });
    },
  };
  const t0 = performance.now();
  const r = await runStream(seriesRecords(s), Math.floor(probationaryLength(s.values.length)), sc);
  files.push({ key: s.key, rows: s.values.length, models, scores: Array.from(r.scores) });
  console.error(`${s.key} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
writeFileSync(outFile, JSON.stringify({ config: defaultNabConfig, files }));
