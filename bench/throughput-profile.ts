import { preparedEvents, benchRegistry } from '../src/daemon/throughput.js';
import { AvroCodec, loadSchemaJson } from '../src/codec/index.js';
import { ModelRegistry } from '../src/registry/registry.js';
import { ServingModel } from '../src/serve/servingModel.js';
const reg = await benchRegistry(3000);
const r = new ModelRegistry(reg);
const m = await ServingModel.fromArtifact(await r.load('bench', (await r.current('bench'))!), {
  device: 'cpu',
  threads: 1,
});
const ev = preparedEvents(50000);
const codec = new AvroCodec(loadSchemaJson('payment'));
for (let rep = 0; rep < 2; rep++) {
  const t = performance.now();
  const recs = ev.values.map((v) => codec.decode(v));
  const tDec = performance.now() - t;
  const X = new Float32Array(512 * m.dim);
  let tF = 0,
    tS = 0,
    tG = 0;
  for (let i = 0; i < recs.length; i += 512) {
    const n = Math.min(512, recs.length - i);
    let a = performance.now();
    for (let j = 0; j < n; j++) m.featurizer.featurize(recs[i + j], X, j * m.dim);
    tF += performance.now() - a;
    a = performance.now();
    const s = await m.scorer.score(X.subarray(0, n * m.dim), n);
    tS += performance.now() - a;
    a = performance.now();
    for (let j = 0; j < n; j++) m.calibrator.grade(s, j);
    tG += performance.now() - a;
  }
  console.log({
    dim: m.dim,
    decode_us: (tDec / 50000) * 1000,
    featurize_us: (tF / 50000) * 1000,
    score_us: (tS / 50000) * 1000,
    grade_us: (tG / 50000) * 1000,
  });
}
await m.release();
