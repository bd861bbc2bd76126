import { test } from 'node:test';
import assert from 'node:assert/strict';
import avsc from 'avsc';
import {
  AvroCodec,
  DecodeError,
  EncodeError,
  SchemaError,
  loadSchema,
  loadSchemaJson,
  SCHEMA_NAMES,
  INPUT_SCHEMAS,
  schemaFingerprint,
  shortenValue,
} from '../../../src/codec/index.js';
import { EXAMPLE_GENERATORS, rng } from '../../../src/codec/examples.js';
import type { DecodedRecord } from '../../../src/codec/index.js';

const plain = (x: unknown): unknown =>
  JSON.parse(JSON.stringify(x, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));

function outputExample(name: string): DecodedRecord {
  const source = { topic: 'payments', partition: 3, offset: 123456789012 };
  const key = Buffer.from('card-17');
  switch (name) {
    case 'alert':
      return {
        source,
        key,
        event_time: 1767571200123,
        detected_at: 1767571200999,
        model: { name: 'payments', version: '20260105-0001' },
        score: 7.25,
        grade: 0.993,
        threshold: 0.99,
        nearest_prototype: 4,
        top_features: [
          { name: 'amount', value: 9120.5, expected: 42.1, deviation: 6.2, direction: 'ABOVE' },
          { name: 'distance_from_home_km', value: 0, expected: 12.5, deviation: -1.1, direction: 'BELOW' },
        ],
      };
    case 'enriched':
      return {
        source,
        key: null,
        event_time: null,
        original: '{"amount":12.5}',
        ddcl: {
          model_name: 'payments',
          model_version: '3',
          scored_at: 1767571200999,
          score: 0.5,
          grade: 0.2,
          nearest_prototype: 1,
          is_alert: false,
        },
      };
    case 'model_announcement':
      return {
        name: 'payments',
        version: '3',
        parent_version: '2',
        created: 1767571200000,
        uri: 'models/payments/3',
        input_dim: 196,
        fingerprint: 'ab'.repeat(32),
        schema_fingerprint: null,
      };
    default:
      throw new Error(name);
  }
}

test('every shipped schema round-trips its records byte for byte and value for value', () => {
  for (const name of SCHEMA_NAMES) {
    const codec = new AvroCodec(loadSchema(name));
    const records = (INPUT_SCHEMAS as readonly string[]).includes(name)
      ? Array.from({ length: 200 }, (_, i) =>
          EXAMPLE_GENERATORS[name as keyof typeof EXAMPLE_GENERATORS](rng(7), i),
        )
      : [outputExample(name)];
    for (const rec of records) {
      const buf = codec.encode(rec);
      const back = codec.decode(buf);
      assert.deepEqual(plain(back), plain(rec), name);
      assert.deepEqual(codec.encode(back), buf, name);
    }
  }
});

test('the enriched envelope carries the original as bytes or as a JSON string', () => {
  const codec = new AvroCodec(loadSchema('enriched'));
  const asBytes = { ...outputExample('enriched'), original: Buffer.from([0, 1, 2, 250]) };
  assert.deepEqual(codec.decode(codec.encode(asBytes)).original, Buffer.from([0, 1, 2, 250]));
  assert.equal(codec.decode(codec.encode(outputExample('enriched'))).original, '{"amount":12.5}');
});

const V1 = {
  type: 'record',
  name: 'Reading',
  namespace: 't',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'value', type: 'double' },
    { name: 'legacy_flag', type: 'boolean' },
  ],
};
// v2 adds `unit` (with a default) and removes `legacy_flag`.
const V2 = {
  type: 'record',
  name: 'Reading',
  namespace: 't',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'value', type: 'double' },
    { name: 'unit', type: 'string', default: 'celsius' },
  ],
};

test('evolution: a v2 reader decodes v1 records (added field takes its default, removed field dropped)', () => {
  const oldBytes = new AvroCodec(V1).encode({ id: 'a', value: 21.5, legacy_flag: true });
  const rec = new AvroCodec(V2, V1).decode(oldBytes);
  assert.deepEqual(plain(rec), { id: 'a', value: 21.5, unit: 'celsius' });
});

test('evolution: a v1 reader decodes v2 records (unknown field skipped, removed field needs a default)', () => {
  const v1WithDefault = {
    ...V1,
    fields: [...V1.fields.slice(0, 2), { name: 'legacy_flag', type: 'boolean', default: false }],
  };
  const newBytes = new AvroCodec(V2).encode({ id: 'b', value: -3, unit: 'kelvin' });
  assert.deepEqual(plain(new AvroCodec(v1WithDefault, V2).decode(newBytes)), {
    id: 'b',
    value: -3,
    legacy_flag: false,
  });
  // Without a default, v2 data cannot be read as v1: refused when the codec is built.
  assert.throws(() => new AvroCodec(V1, V2), SchemaError);
});

test('evolution: v1 and v2 records decode side by side with the same v2 reader', () => {
  const v2 = new AvroCodec(V2);
  const fromV1 = new AvroCodec(V2, V1);
  const a = fromV1.decode(new AvroCodec(V1).encode({ id: 'x', value: 1, legacy_flag: false }));
  const b = v2.decode(v2.encode({ id: 'y', value: 2, unit: 'F' }));
  assert.deepEqual(
    [plain(a), plain(b)],
    [
      { id: 'x', value: 1, unit: 'celsius' },
      { id: 'y', value: 2, unit: 'F' },
    ],
  );
});

test('a truncated record is a DecodeError naming the field where the bytes ran out', () => {
  const codec = new AvroCodec(V1);
  const buf = codec.encode({ id: 'abc', value: 1.5, legacy_flag: true });
  // id: 1 length byte + 3, value: 8 bytes, flag: 1 byte.
  assert.equal(buf.length, 13);
  const cases: [number, string][] = [
    [0, 'id'],
    [2, 'id'],
    [4, 'value'],
    [11, 'value'],
    [12, 'legacy_flag'],
  ];
  for (const [len, path] of cases) {
    assert.throws(
      () => codec.decode(buf.subarray(0, len)),
      (e: unknown) => e instanceof DecodeError && e.code === 'truncated' && e.path === path && !e.retriable,
      `len ${len}`,
    );
  }
});

test('trailing bytes after a record are refused', () => {
  const codec = new AvroCodec(V1);
  const buf = Buffer.concat([
    codec.encode({ id: 'abc', value: 1.5, legacy_flag: true }),
    Buffer.from([7, 7]),
  ]);
  assert.throws(
    () => codec.decode(buf),
    (e: unknown) => e instanceof DecodeError && e.code === 'trailing_bytes' && e.value === '<2 bytes 0707>',
  );
});

test('an enum index out of range names the enum field', () => {
  const codec = new AvroCodec(loadSchema('payment'));
  const rec = EXAMPLE_GENERATORS.payment(rng(1), 0);
  const buf = codec.encode(rec);
  // Re-encode with the enum index replaced: find it by encoding the prefix up to the enum.
  const t = avsc.Type.forSchema({
    type: 'record',
    name: 'P',
    fields: (loadSchemaJson('payment') as { fields: object[] }).fields.slice(0, 4),
  } as avsc.Schema);
  const prefix = t.toBuffer(rec).length; // bytes before merchant_category
  const bad = Buffer.from(buf);
  bad[prefix] = 0x7e; // zigzag 63: no such symbol
  assert.throws(
    () => codec.decode(bad),
    (e: unknown) => e instanceof DecodeError && e.path === 'merchant_category' && e.code === 'invalid',
  );
});

test('a corrupt array block count fails fast instead of looping or allocating', () => {
  const codec = new AvroCodec(loadSchema('alert'));
  const buf = codec.encode({ ...outputExample('alert'), top_features: [] });
  // top_features is last: its empty array is one 0 byte; replace it with a block of 2^24 items
  // (zigzag varint 80 80 80 10). Plain avsc spends seconds per 2^22 items reading past the end.
  const huge = Buffer.concat([buf.subarray(0, buf.length - 1), Buffer.from([0x80, 0x80, 0x80, 0x10])]);
  const t0 = performance.now();
  assert.throws(
    () => codec.decode(huge),
    (e: unknown) => e instanceof DecodeError && e.path === 'top_features',
  );
  assert.ok(performance.now() - t0 < 500);
});

test('a long beyond 2^53 is a DecodeError, not a silently rounded number', () => {
  const codec = new AvroCodec({ type: 'record', name: 'L', fields: [{ name: 'n', type: 'long' }] });
  const big = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]); // zigzag 2^63-1
  assert.throws(
    () => codec.decode(big),
    (e: unknown) => e instanceof DecodeError && e.path === 'n',
  );
});

test('encoding an invalid record is an EncodeError naming the field', () => {
  const codec = new AvroCodec(V1);
  assert.throws(
    () => codec.encode({ id: 'a', value: 'high', legacy_flag: true }),
    (e: unknown) =>
      e instanceof EncodeError && e.path === 'value' && e.code === 'type' && e.value === '"high"',
  );
  assert.throws(
    () => codec.encode({ id: 'a', legacy_flag: true }),
    (e: unknown) => e instanceof EncodeError && e.path === 'value' && e.code === 'missing',
  );
});

test('schemas keep their attributes; fingerprints follow the canonical form', () => {
  const json = loadSchemaJson('payment') as { fields: { name: string; ddcl?: unknown }[] };
  assert.deepEqual(json.fields[0]!.ddcl, { kind: 'ignore' });
  const withDoc = { ...V1, doc: 'documentation does not change the canonical form' };
  assert.equal(schemaFingerprint(withDoc), schemaFingerprint(V1));
  assert.notEqual(schemaFingerprint(V2), schemaFingerprint(V1));
  assert.match(schemaFingerprint(V1), /^[0-9a-f]{64}$/);
  assert.throws(() => new AvroCodec({ type: 'string' }), SchemaError);
  assert.throws(() => new AvroCodec('{not json'), SchemaError);
});

test('shortenValue keeps error values small', () => {
  const s = shortenValue('x'.repeat(1 << 20));
  assert.ok(s.length <= 64);
  assert.ok(s.endsWith('…(1048576 chars)'));
  assert.equal(shortenValue('abc'), '"abc"');
  assert.equal(shortenValue(Buffer.from([1, 2, 255])), '<3 bytes 0102ff>');
  assert.equal(shortenValue(NaN), 'NaN');
  assert.equal(shortenValue({ a: 1, b: 2 }), '{a,b}');
  assert.equal(shortenValue(12n), '12n');
});
