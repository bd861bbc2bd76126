// Decode + featurize throughput on one core: a 20-field Avro event (Confluent framed) and the
// same event as JSON, against avsc decoding alone in the same run.
//   node --import tsx bench/codec.ts [--n 50000] [--runs 5]
import os from 'node:os';
import avsc from 'avsc';
import {
  ConfluentCodec,
  JsonCodec,
  LocalSchemaSource,
  loadSchema,
  loadSchemaJson,
  type Codec,
} from '../src/codec/index.js';
import { examplePayment, rng } from '../src/codec/examples.js';
import { Featurizer, deriveSpecFromAvro, fitFeatureSpec } from '../src/features/index.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const N = arg('n', 50_000);
const RUNS = arg('runs', 5);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** events/s of `fn` over all buffers, median of RUNS runs after one warm-up run. */
function measure(bufs: Buffer[], fn: (b: Buffer) => void): { median: number; runs: number[] } {
  for (const b of bufs) fn(b);
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < bufs.length; i++) fn(bufs[i]!);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    runs.push(bufs.length / s);
  }
  return { median: median(runs), runs };
}

const schema = loadSchema('payment');
const r = rng(42);
const records = Array.from({ length: N }, (_, i) => examplePayment(r, i));
const spec = fitFeatureSpec(
  deriveSpecFromAvro(schema, { key: 'card_id', overrides: { amount: { kind: 'shingle', window: 4 } } }),
  records.slice(0, 10_000),
);
const featurizer = new Featurizer(spec);
const row = new Float32Array(featurizer.dim);
const confluent = new ConfluentCodec({
  source: new LocalSchemaSource({ 1: schema }),
  readerSchema: schema,
  writerId: 1,
});
const json = new JsonCodec({ schema });
const looseJson = new JsonCodec();
const framed = records.map((x) => confluent.encode(x));
const bodies = framed.map((b) => b.subarray(5));
const jsonBufs = records.map((x) => json.encode(x));
const rawType = avsc.Type.forSchema(loadSchemaJson('payment') as avsc.Schema);

let sink = 0;
const pipeline = (codec: Codec) => (b: Buffer) => {
  featurizer.featurize(codec.decode(b), row, 0);
  sink += row[0]!;
};

const results = {
  avsc_decode: measure(bodies, (b) => {
    sink += (rawType.fromBuffer(b) as { amount: number }).amount;
  }),
  confluent_decode: measure(framed, (b) => {
    sink += (confluent.decode(b) as { amount: number }).amount;
  }),
  avro_decode_featurize: measure(framed, pipeline(confluent)),
  json_decode_featurize: measure(jsonBufs, pipeline(json)),
  json_noschema_decode_featurize: measure(jsonBufs, pipeline(looseJson)),
};

const base = results.avsc_decode.median;
const cmd = `node ${process.execArgv.join(' ')} ${process.argv
  .slice(1)
  .map((a) => a.replace(process.cwd() + '/', ''))
  .join(' ')}`.replace(/\s+/g, ' ');
console.log(`command: ${cmd}`);
console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores visible), node ${process.version}, ${os.platform()} ${os.release()}`,
);
console.log(
  `event: ddcl.examples.Payment, 20 fields, ${Math.round(bodies.reduce((a, b) => a + b.length, 0) / N)} B Avro / ${Math.round(jsonBufs.reduce((a, b) => a + b.length, 0) / N)} B JSON; features: ${featurizer.dim} columns (derived spec, amount shingled per card, window 4)`,
);
console.log(`${N} events x ${RUNS} runs (after a warm-up run), single thread; medians:`);
for (const [name, m] of Object.entries(results)) {
  console.log(
    `  ${name.padEnd(32)} ${Math.round(m.median).toLocaleString('en-US').padStart(11)} events/s   x${(m.median / base).toFixed(2)} of avsc decode   runs: ${m.runs.map((x) => Math.round(x / 1000) + 'k').join(' ')}`,
  );
}
if (sink === 42) console.log('');
const out: Record<string, number | string> = {
  bench: 'codec',
  n: N,
  runs: RUNS,
  dim: featurizer.dim,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  node: process.version,
};
for (const [name, m] of Object.entries(results)) {
  out[`${name}_per_s`] = Math.round(m.median);
  out[`${name}_ratio`] = Number((m.median / base).toFixed(3));
}
console.log(JSON.stringify(out));
