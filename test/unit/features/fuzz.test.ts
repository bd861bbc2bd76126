// Malformed input never crashes the decode -> featurize path: every bad record is a typed
// RecordError (DecodeError or FeaturizeError), which the daemon routes to the dead-letter topic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfluentCodec,
  JsonCodec,
  LocalSchemaSource,
  RecordError,
  loadSchema,
  loadSchemaJson,
  type Codec,
} from '../../../src/codec/index.js';
import { examplePayment, exampleHostMetric, rng } from '../../../src/codec/examples.js';
import {
  Featurizer,
  deriveSpecFromAvro,
  fitFeatureSpec,
  type FeatureSpec,
} from '../../../src/features/index.js';

/** The derived payment spec with infinities refused too (the strictest serving setup). */
function strict(spec: FeatureSpec): FeatureSpec {
  return {
    ...spec,
    fields: spec.fields.map((f) =>
      f.kind === 'numeric' || f.kind === 'shingle' ? { ...f, infinity: 'error' as const } : f,
    ),
  };
}

const paymentJson = loadSchemaJson('payment') as {
  fields: { name: string; type: unknown; ddcl?: { kind?: string } }[];
};
const payment = loadSchema('payment');
const PAY_ID = 1;
const HOST_ID = 2;
const r = rng(20260105);
const good = Array.from({ length: 400 }, (_, i) => examplePayment(r, i));
const featurizer = new Featurizer(
  fitFeatureSpec(
    strict(
      deriveSpecFromAvro(payment, { key: 'card_id', overrides: { amount: { kind: 'shingle', window: 4 } } }),
    ),
    good,
  ),
);
const source = new LocalSchemaSource({ [PAY_ID]: payment, [HOST_ID]: loadSchema('host_metric') });
const confluent = new ConfluentCodec({ source, readerSchema: payment, writerId: PAY_ID });
const hostReader = new ConfluentCodec({ source, readerSchema: loadSchema('host_metric'), writerId: HOST_ID });
const json = new JsonCodec({ schema: payment });
const loose = new JsonCodec();
const row = new Float32Array(featurizer.dim);

type Outcome = 'typed' | 'ok' | 'crash';
function run(codec: Codec, buf: Buffer, crashes: string[], label: string): Outcome {
  try {
    featurizer.featurize(codec.decode(buf), row, 0);
    return 'ok';
  } catch (e) {
    if (
      e instanceof RecordError &&
      typeof e.path === 'string' &&
      e.value.length <= 64 &&
      e.reason.length > 0 &&
      e.retriable === false
    )
      return 'typed';
    crashes.push(`${label}: ${String(e)}`);
    return 'crash';
  }
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const numericFields = ['amount', 'account_age_days', 'txn_count_24h', 'distance_from_home_km'];
const doubleFields = ['amount', 'distance_from_home_km'];
const intFields = ['account_age_days', 'txn_count_24h', 'mcc'];
const categoryFields = ['merchant_id', 'currency', 'country'];
const requiredFields = paymentJson.fields
  .filter((f) => !Array.isArray(f.type) && f.ddcl?.kind !== 'ignore')
  .map((f) => f.name);
const wrongValues = [{}, [], [1], { x: 1 }, true];

test('fuzz: 12,000 malformed records each yield a typed error, none a crash', () => {
  const crashes: string[] = [];
  const notRefused: string[] = [];
  const counts: Record<string, number> = {};
  const expectTyped = (label: string, codec: Codec, buf: Buffer) => {
    counts[label] = (counts[label] ?? 0) + 1;
    const o = run(codec, buf, crashes, label);
    if (o === 'ok') notRefused.push(label);
  };
  for (let i = 0; i < 12_000; i++) {
    const rec = { ...good[i % good.length]! };
    const kind = i % 12;
    if (kind === 0 || kind === 1) {
      // Truncated Avro: any strict prefix of a framed record.
      const buf = confluent.encode(rec);
      expectTyped('truncated', confluent, buf.subarray(0, Math.floor(r() * buf.length)));
    } else if (kind === 2) {
      const buf = Buffer.from(confluent.encode(rec));
      buf[0] = 1 + Math.floor(r() * 255);
      expectTyped('magic', confluent, buf);
    } else if (kind === 3) {
      const buf = Buffer.from(confluent.encode(rec));
      buf.writeInt32BE(3 + Math.floor(r() * 1e6), 1);
      expectTyped('unknown_id', confluent, buf);
    } else if (kind === 4) {
      // Wrong types, JSON validated against the schema.
      const f = pick([...numericFields, ...categoryFields, 'card_present', 'event_time', 'channel']);
      const v = f === 'card_present' ? pick(['yes', 1, {}]) : pick(wrongValues);
      expectTyped('wrong_type_json', json, Buffer.from(JSON.stringify({ ...rec, [f]: v })));
    } else if (kind === 5) {
      // Wrong types, schema-less JSON: the featurizer refuses them.
      const f = pick([...numericFields, 'card_present', 'event_time', 'merchant_id']);
      const v = numericFields.includes(f)
        ? pick(['12', 'NaN', {}, [], true])
        : f === 'card_present'
          ? pick(['yes', 2, {}])
          : f === 'event_time'
            ? pick(['soon', {}, true])
            : pick([{}, []]);
      expectTyped('wrong_type_loose', loose, Buffer.from(JSON.stringify({ ...rec, [f]: v })));
    } else if (kind === 6) {
      // NaN and infinities in Avro doubles (valid Avro, refused features).
      expectTyped(
        'nan_inf',
        confluent,
        confluent.encode({ ...rec, [pick(doubleFields)]: pick([NaN, Infinity, -Infinity]) }),
      );
    } else if (kind === 7) {
      // Huge numbers: beyond int range in JSON, overflowing to Infinity in JSON, longs past 2^53 in Avro.
      const which = Math.floor(i / 12) % 3;
      if (which === 0)
        expectTyped(
          'huge_int',
          json,
          Buffer.from(JSON.stringify({ ...rec, [pick(intFields)]: pick([2 ** 31, 1e20, -1e300, 1.5]) })),
        );
      else if (which === 1)
        expectTyped(
          'huge_inf',
          loose,
          Buffer.from(JSON.stringify(rec).replace(/"amount":[^,]+/, '"amount":1e400')),
        );
      else {
        // host_metric's disk_read_bytes is a long; 10 varint bytes of 0xff..0x01 are about 2^64.
        const h = exampleHostMetric(r, i);
        const body = hostReader.encode(h);
        // Same bytes up to the long; its varint is where the two encodings first differ.
        const prefix = hostReader.encode({ ...h, disk_read_bytes: 0 });
        let at = 0;
        while (at < body.length && body[at] === prefix[at]) at++;
        const longLen = body.length - prefix.length + 1;
        const huge = Buffer.concat([
          body.subarray(0, at),
          Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
          body.subarray(at + longLen),
        ]);
        expectTyped('huge_long', hostReader, huge);
      }
    } else if (kind === 8) {
      // 1 MB strings in featurized categories (a few: each costs a megabyte).
      if (Math.floor(i / 12) % 10 === 0)
        expectTyped(
          '1mb_string',
          confluent,
          confluent.encode({ ...rec, [pick(categoryFields)]: 'x'.repeat(1 << 20) }),
        );
      else
        expectTyped(
          'long_string',
          confluent,
          confluent.encode({ ...rec, [pick(categoryFields)]: 'y'.repeat(4097 + Math.floor(r() * 10000)) }),
        );
    } else if (kind === 9 || kind === 10) {
      // Missing required fields, with and without schema validation.
      const f = pick(requiredFields);
      const rest: Record<string, unknown> = { ...rec };
      delete rest[f];
      expectTyped(
        kind === 9 ? 'missing_json' : 'missing_loose',
        kind === 9 ? json : loose,
        Buffer.from(JSON.stringify(rest)),
      );
    } else {
      // Garbage: random bytes behind a valid header, or no JSON at all.
      const n = Math.floor(r() * 40);
      const junk = Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
      expectTyped('garbage_json', json, Buffer.concat([Buffer.from('{"amount":'), junk]));
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  assert.ok(total >= 10_000, `${total} malformed records`);
  assert.deepEqual(crashes, []);
  assert.deepEqual(notRefused, []);
  assert.ok(Object.keys(counts).length >= 14, JSON.stringify(counts));
});

test('fuzz: random bit flips in valid records decode, or fail typed, never crash', () => {
  const crashes: string[] = [];
  let typed = 0;
  for (let i = 0; i < 3000; i++) {
    const buf = Buffer.from(confluent.encode(good[i % good.length]!));
    const flips = 1 + Math.floor(r() * 4);
    for (let k = 0; k < flips; k++) buf[5 + Math.floor(r() * (buf.length - 5))] ^= 1 << Math.floor(r() * 8);
    if (run(confluent, buf, crashes, 'flip') === 'typed') typed++;
  }
  assert.deepEqual(crashes, []);
  assert.ok(typed > 0);
});
