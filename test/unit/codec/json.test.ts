import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AvroCodec,
  DecodeError,
  EncodeError,
  JsonCodec,
  loadSchema,
  packageRoot,
  schemaPath,
} from '../../../src/codec/index.js';
import { examplePayment, rng } from '../../../src/codec/examples.js';
import { existsSync } from 'node:fs';

test('JSON round trip gives the same record as Avro for every example payment', () => {
  const json = new JsonCodec({ schema: loadSchema('payment') });
  const avro = new AvroCodec(loadSchema('payment'));
  const r = rng(3);
  for (let i = 0; i < 100; i++) {
    const rec = examplePayment(r, i);
    assert.deepEqual(json.decode(json.encode(rec)), rec);
    assert.deepEqual({ ...avro.decode(avro.encode(json.decode(json.encode(rec)))) }, rec);
  }
});

test('absent JSON fields that have defaults get them; absent required fields are a typed error', () => {
  const codec = new JsonCodec({ schema: loadSchema('payment') });
  const rec = examplePayment(rng(1), 0);
  const withoutOptional = { ...rec };
  delete withoutOptional.device_id;
  delete withoutOptional.ip_risk_score;
  const back = codec.decode(Buffer.from(JSON.stringify(withoutOptional)));
  assert.equal(back.device_id, null);
  assert.equal(back.ip_risk_score, null);
  const withoutAmount = { ...rec };
  delete withoutAmount.amount;
  assert.throws(
    () => codec.decode(Buffer.from(JSON.stringify(withoutAmount))),
    (e: unknown) => e instanceof DecodeError && e.code === 'missing' && e.path === 'amount',
  );
});

test('JSON with wrong types names the field and the value', () => {
  const codec = new JsonCodec({ schema: loadSchema('payment') });
  const rec = { ...examplePayment(rng(1), 0), txn_count_24h: 1e20 };
  assert.throws(
    () => codec.decode(Buffer.from(JSON.stringify(rec))),
    (e: unknown) =>
      e instanceof DecodeError &&
      e.path === 'txn_count_24h' &&
      e.code === 'type' &&
      e.value === '100000000000000000000',
  );
  const rec2 = { ...examplePayment(rng(1), 0), channel: 'PIGEON' };
  assert.throws(
    () => codec.decode(Buffer.from(JSON.stringify(rec2))),
    (e: unknown) => e instanceof DecodeError && e.path === 'channel' && e.value === '"PIGEON"',
  );
});

test('malformed JSON, non-objects and oversized messages are typed errors', () => {
  const codec = new JsonCodec({ maxBytes: 100 });
  assert.throws(
    () => codec.decode(Buffer.from('{"a":')),
    (e: unknown) => e instanceof DecodeError && e.code === 'json_syntax',
  );
  assert.throws(
    () => codec.decode(Buffer.from('[1,2]')),
    (e: unknown) => e instanceof DecodeError && e.code === 'type',
  );
  assert.throws(
    () => codec.decode(Buffer.from('null')),
    (e: unknown) => e instanceof DecodeError && e.code === 'type',
  );
  assert.throws(
    () => codec.decode(Buffer.alloc(101, 32)),
    (e: unknown) => e instanceof DecodeError && e.code === 'too_large',
  );
  assert.deepEqual(codec.decode(Buffer.from('{"a":1}')), { a: 1 });
  assert.throws(
    () => codec.encode({ n: 1n }),
    (e: unknown) => e instanceof EncodeError && e.code === 'json',
  );
});

test('schemas are found relative to the package root', () => {
  assert.ok(existsSync(`${packageRoot()}/package.json`));
  assert.ok(existsSync(schemaPath('model_announcement')));
});
