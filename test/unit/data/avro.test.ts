import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { parseAvro } from '../../../src/data/avro.js';
import { assertDataError } from './helpers.js';

/** Encodes records as an Avro object container file with avsc's own BlockEncoder. */
function container(
  schema: avro.Schema,
  records: object[],
  codec: 'null' | 'deflate',
  blockSize?: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // writeHeader 'always': a header even with no records (not in avsc's typings)
    const opts = { codec, writeHeader: 'always', ...(blockSize === undefined ? {} : { blockSize }) };
    const enc = new avro.streams.BlockEncoder(schema, opts as Partial<avro.EncoderOptions>);
    const chunks: Buffer[] = [];
    enc.on('data', (c: Buffer) => chunks.push(c));
    enc.on('end', () => resolve(Buffer.concat(chunks)));
    enc.on('error', reject);
    for (const r of records) enc.write(r);
    enc.end();
  });
}

const SCHEMA: avro.Schema = {
  type: 'record',
  name: 'Event',
  fields: [
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 'b', type: 'boolean' },
    { name: 'opt', type: ['null', 'double'] },
  ],
};

const records = Array.from({ length: 300 }, (_, k) => ({
  i: k,
  l: k * 1000,
  f: k / 4,
  d: -k / 8,
  b: k % 2 === 1,
  opt: k + 0.5,
}));

test('numeric fields of every Avro kind, null and deflate codecs, many blocks', async () => {
  for (const codec of ['null', 'deflate'] as const) {
    const m = parseAvro(await container(SCHEMA, records, codec, 256), 'e.avro');
    assert.equal(m.n, 300, codec);
    assert.equal(m.d, 6);
    assert.deepEqual(m.columns, ['i', 'l', 'f', 'd', 'b', 'opt']);
    assert.deepEqual([...m.X.subarray(6 * 7, 6 * 8)], [7, 7000, 1.75, -0.875, 1, 7.5]);
    assert.deepEqual([...m.X.subarray(6 * 299)], [299, 299000, 74.75, -37.375, 1, 299.5]);
  }
});

test('labelColumn and columns: string fields can be left out', async () => {
  const schema: avro.Schema = {
    type: 'record',
    name: 'L',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'x', type: 'double' },
      { name: 'label', type: 'int' },
    ],
  };
  const bytes = await container(
    schema,
    [
      { id: 'a', x: 1, label: 0 },
      { id: 'b', x: 2, label: 1 },
    ],
    'deflate',
  );
  const m = parseAvro(bytes, 'l.avro', { columns: ['x'], labelColumn: 'label' });
  assert.deepEqual([...m.X], [1, 2]);
  assert.deepEqual([...m.y!], [0, 1]);
  assertDataError(() => parseAvro(bytes, 'l.avro'), {
    file: 'l.avro',
    column: 'id',
    value: '"string"',
    message: /Avro field is not numeric/,
  });
});

test('null in a nullable field, NaN, corrupt or foreign bytes', async () => {
  const withNull = await container(SCHEMA, [records[0]!, { ...records[1]!, opt: null }], 'null');
  assertDataError(() => parseAvro(withNull, 'n.avro'), { row: 2, column: 'opt', message: /null value/ });
  const withNaN = await container(SCHEMA, [{ ...records[0]!, d: NaN }], 'null');
  assertDataError(() => parseAvro(withNaN, 'n.avro'), {
    row: 1,
    column: 'd',
    value: 'NaN',
    message: /non-finite/,
  });
  const good = await container(SCHEMA, records.slice(0, 5), 'null');
  const corrupt = Uint8Array.from(good);
  corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 0xff;
  assertDataError(() => parseAvro(corrupt, 'c.avro'), { message: /sync marker mismatch/ });
  assertDataError(() => parseAvro(good.subarray(0, good.length - 20), 'c.avro'), {
    message: /truncated Avro block/,
  });
  assertDataError(() => parseAvro(Buffer.from('a,b\n1,2\n'), 'x.avro'), {
    message: /not an Avro object container/,
  });
  const empty = await container(SCHEMA, [], 'null');
  assertDataError(() => parseAvro(empty, 'e.avro'), { message: /no data rows/ });
});
