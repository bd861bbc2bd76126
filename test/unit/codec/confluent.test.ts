import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AvroCodec,
  ConfluentCodec,
  DecodeError,
  LocalSchemaSource,
  RegistrySchemaSource,
  SchemaNotLoadedError,
  SchemaRegistryError,
  frameConfluent,
  loadSchemaJson,
  readSchemaId,
  schemaPath,
} from '../../../src/codec/index.js';

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
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

test('wire format: magic byte 0, 4-byte big-endian id, then the Avro body, byte for byte', () => {
  const body = new AvroCodec(V1).encode({ id: 'ab', value: 1, legacy_flag: true });
  // 'ab': zigzag length 2 -> 0x04, 'a' 'b'; 1.0 little-endian double; true -> 0x01.
  assert.deepEqual(body, Buffer.from('046162000000000000f03f01', 'hex'));
  assert.deepEqual(
    frameConfluent(0x01020304, body),
    Buffer.from('0001020304' + '046162000000000000f03f01', 'hex'),
  );
  const codec = new ConfluentCodec({
    source: new LocalSchemaSource({ 258: V1 }),
    readerSchema: V1,
    writerId: 258,
  });
  const framed = codec.encode({ id: 'ab', value: 1, legacy_flag: true });
  assert.deepEqual(framed, Buffer.from('0000000102' + '046162000000000000f03f01', 'hex'));
  assert.equal(readSchemaId(framed), 258);
  assert.deepEqual(plain(codec.decode(framed)), { id: 'ab', value: 1, legacy_flag: true });
});

test('header errors: short buffers and wrong magic bytes are typed', () => {
  for (const len of [0, 1, 4]) {
    assert.throws(
      () => readSchemaId(Buffer.alloc(len)),
      (e: unknown) => e instanceof DecodeError && e.code === 'truncated' && e.path === '$header',
    );
  }
  assert.throws(
    () => readSchemaId(Buffer.from([1, 0, 0, 0, 1, 0])),
    (e: unknown) => e instanceof DecodeError && e.code === 'bad_magic',
  );
});

test('registry-less mode: ids map to local schema files; each id resolves into the reader schema', () => {
  const source = LocalSchemaSource.fromFiles({ 1: schemaPath('payment') });
  const local = new LocalSchemaSource({ 10: V1, 11: V2 });
  const reader = new ConfluentCodec({ source: local, readerSchema: V2 });
  const old = frameConfluent(10, new AvroCodec(V1).encode({ id: 'o', value: 5, legacy_flag: false }));
  const neu = frameConfluent(11, new AvroCodec(V2).encode({ id: 'n', value: 6, unit: 'K' }));
  assert.deepEqual(plain(reader.decode(old)), { id: 'o', value: 5, unit: 'celsius' });
  assert.deepEqual(plain(reader.decode(neu)), { id: 'n', value: 6, unit: 'K' });
  assert.deepEqual(reader.loadedIds.sort(), [10, 11]);
  assert.deepEqual(source.getSchemaSync(1), loadSchemaJson('payment'));
});

test('an unknown schema id is a typed DecodeError (and stays one)', async () => {
  const codec = new ConfluentCodec({ source: new LocalSchemaSource({ 1: V1 }), readerSchema: V1 });
  const msg = frameConfluent(99, Buffer.from([0]));
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () => codec.decode(msg),
      (e: unknown) =>
        e instanceof DecodeError && e.code === 'unknown_schema_id' && e.value === '99' && !e.retriable,
    );
  }
  await assert.rejects(
    codec.decodeAsync(msg),
    (e: unknown) => e instanceof DecodeError && e.code === 'unknown_schema_id',
  );
});

test('a writer schema that cannot be read as the reader schema is a DecodeError for its records', () => {
  const other = { type: 'record', name: 'Reading', namespace: 't', fields: [{ name: 'id', type: 'int' }] };
  const codec = new ConfluentCodec({ source: new LocalSchemaSource({ 1: other }), readerSchema: V1 });
  assert.throws(
    () => codec.decode(frameConfluent(1, Buffer.from([2]))),
    (e: unknown) => e instanceof DecodeError && e.code === 'incompatible_schema',
  );
});

test('registering locally reuses the id of an identical schema', async () => {
  const local = new LocalSchemaSource();
  const a = await local.register('readings-value', V1);
  const b = await local.register('readings-value', V2);
  assert.deepEqual([a, b, await local.register('other-value', V1)], [1, 2, 1]);
  const codec = await ConfluentCodec.create({ source: local, readerSchema: V2, subject: 'readings-value' });
  assert.equal(readSchemaId(codec.encode({ id: 'x', value: 0, unit: 'C' })), 2);
});

/**
 * A loopback stand-in for the Schema Registry endpoints the client calls: GET /schemas/ids/{id},
 * POST /subjects/{subject}/versions, and GET/PUT /config/{subject} (which register() consults).
 */
async function fakeRegistry(): Promise<{ url: string; calls: string[]; close(): Promise<void> }> {
  const schemas: string[] = [];
  const calls: string[] = [];
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    res.end(JSON.stringify(body));
  };
  const read = (req: IncomingMessage) =>
    new Promise<string>((ok) => {
      let s = '';
      req.on('data', (c: Buffer) => (s += c.toString()));
      req.on('end', () => ok(s));
    });
  const server = createServer(async (req, res) => {
    const url = req.url ?? '';
    calls.push(`${req.method} ${url.split('?')[0]}`);
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && (m = /^\/schemas\/ids\/(\d+)/.exec(url))) {
      const s = schemas[Number(m[1]) - 1];
      return s
        ? send(res, 200, { schema: s })
        : send(res, 404, { error_code: 40403, message: 'Schema not found' });
    }
    if (req.method === 'POST' && /^\/subjects\/[^/]+\/versions$/.test(url)) {
      const { schema } = JSON.parse(await read(req)) as { schema: string };
      let id = schemas.indexOf(schema) + 1;
      if (id === 0) id = schemas.push(schema);
      return send(res, 200, { id });
    }
    if (/^\/config\//.test(url)) {
      if (req.method === 'PUT') return send(res, 200, JSON.parse(await read(req)));
      return send(res, 404, { error_code: 40401, message: 'Subject not found' });
    }
    if (url === '/schemas/ids/500-error') return send(res, 500, {});
    send(res, 500, { error_code: 50001, message: 'boom' });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

test('registry client wiring: register, fetch by id, decode, unknown id (loopback server, not a real registry)', async () => {
  const reg = await fakeRegistry();
  try {
    const source = new RegistrySchemaSource({ host: reg.url, retries: 0 });
    const producer = await ConfluentCodec.create({ source, readerSchema: V1, subject: 'readings-value' });
    assert.equal(producer.writerId, 1);
    const msg = producer.encode({ id: 'r', value: 2.5, legacy_flag: true });
    assert.equal(readSchemaId(msg), 1);

    const consumer = new ConfluentCodec({
      source: new RegistrySchemaSource({ host: reg.url, retries: 0 }),
      readerSchema: V2,
    });
    // The hot path is synchronous: a new id from a remote source asks to be loaded first.
    assert.throws(
      () => consumer.decode(msg),
      (e: unknown) => e instanceof SchemaNotLoadedError && e.schemaId === 1 && e.retriable,
    );
    assert.deepEqual(plain(await consumer.decodeAsync(msg)), { id: 'r', value: 2.5, unit: 'celsius' });
    assert.deepEqual(plain(consumer.decode(msg)), { id: 'r', value: 2.5, unit: 'celsius' });
    await assert.rejects(
      consumer.load(42),
      (e: unknown) => e instanceof DecodeError && e.code === 'unknown_schema_id',
    );
    assert.ok(reg.calls.includes('POST /subjects/readings-value/versions'));
    assert.ok(reg.calls.includes('GET /schemas/ids/1'));
    // Cached: decoding again made no further request for id 1.
    assert.equal(reg.calls.filter((c) => c === 'GET /schemas/ids/1').length, 1);
  } finally {
    await reg.close();
  }
});

test('an unreachable registry is a retriable SchemaRegistryError, not a record error', async () => {
  const reg = await fakeRegistry();
  const url = reg.url;
  await reg.close();
  const codec = new ConfluentCodec({
    source: new RegistrySchemaSource({ host: url, retries: 0 }),
    readerSchema: V1,
  });
  await assert.rejects(codec.load(1), (e: unknown) => e instanceof SchemaRegistryError && e.retriable);
});
