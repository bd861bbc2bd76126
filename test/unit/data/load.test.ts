import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { formatFromName, loadMatrix, loadMatrixSync } from '../../../src/data/load.js';
import { loadDataset } from '../../../src/data/dataset.js';
import type { DataMatrix } from '../../../src/data/matrix.js';
import { assertDataError, idx, npy, npz, rejectsDataError, tempDir } from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());

const X = [1, 2, 3, 4, 5, 6]; // 3 x 2
const Y = [0, 1, 1];
const csv = 'a,b,label\n1,2,0\n3,4,1\n5,6,1\n';
const jsonl = '{"a":1,"b":2,"label":0}\n{"a":3,"b":4,"label":1}\n{"a":5,"b":6,"label":1}\n';

function avroBytes(): Promise<Uint8Array> {
  const schema: avro.Schema = {
    type: 'record',
    name: 'R',
    fields: ['a', 'b', 'label'].map((name) => ({ name, type: 'double' })),
  };
  return new Promise((resolve) => {
    const enc = new avro.streams.BlockEncoder(schema, { codec: 'deflate' });
    const chunks: Buffer[] = [];
    enc.on('data', (c: Buffer) => chunks.push(c));
    enc.on('end', () => resolve(Buffer.concat(chunks)));
    for (let i = 0; i < 3; i++) enc.write({ a: X[2 * i], b: X[2 * i + 1], label: Y[i] });
    enc.end();
  });
}

function check(m: DataMatrix, label: boolean, what: string): void {
  assert.equal(m.n, 3, what);
  assert.equal(m.d, 2, what);
  assert.deepEqual([...m.X], X, what);
  if (label) assert.deepEqual([...m.y!], Y, what);
}

test('every format, plain and gzipped, through loadMatrix and loadMatrixSync', async () => {
  const npzBytes = npz({
    X: npy('<f8', [3, 2], [1, 3, 5, 2, 4, 6], { fortran: true }),
    y: npy('<i4', [3], Y),
  });
  const files: [string, string | Uint8Array, boolean][] = [
    ['t.csv', csv, true],
    ['t.jsonl', jsonl, true],
    ['t.ndjson', jsonl, true],
    ['t.tsv', csv.replaceAll(',', '\t'), true],
    ['t.avro', await avroBytes(), true],
    ['t.npz', npzBytes, true],
    ['t.npy', npy('<f4', [3, 2], X), false],
    ['t-images-idx2-ubyte', idx([3, 2], X), false],
  ];
  for (const [name, content, label] of files) {
    for (const gz of [false, true]) {
      const p = tmp.write(gz ? `${name}.gz` : name, content, gz);
      const opts = label && !name.endsWith('.npz') ? { labelColumn: 'last' as const } : {};
      check(await loadMatrix(p, opts), label, `${name} gz=${gz}`);
      check(loadMatrixSync(p, opts), label, `sync ${name} gz=${gz}`);
    }
  }
});

test('gzip is detected by content, and binary formats by magic when the name says nothing', async () => {
  check(
    await loadMatrix(tmp.write('hidden.csv', csv, true), { labelColumn: 'last' }),
    true,
    'gz without .gz',
  );
  check(await loadMatrix(tmp.write('blob.bin', npz({ X: npy('<f8', [3, 2], X) }))), false, 'npz by magic');
  check(await loadMatrix(tmp.write('blob2', npy('<i2', [3, 2], X), true)), false, 'gz npy by magic');
  check(
    await loadMatrix(tmp.write('data.txt', csv), { format: 'csv', labelColumn: 'last' }),
    true,
    'format option',
  );
  assert.equal(formatFromName('/a/t10k-images-idx3-ubyte.gz'), 'idx');
  assert.equal(formatFromName('x.JSONL'), 'jsonl');
  assert.equal(formatFromName('x.parquet'), undefined);
});

test('a folder of idx images and labels (gzipped)', async () => {
  const dir = join(tmp.dir, 'mnistlike');
  mkdirSync(dir);
  const pix = Array.from({ length: 3 * 2 * 2 }, (_, k) => k * 20);
  tmp.write('mnistlike/t10k-images-idx3-ubyte.gz', idx([3, 2, 2], pix), true);
  tmp.write('mnistlike/t10k-labels-idx1-ubyte.gz', idx([3], [4, 0, 9]), true);
  for (const m of [await loadMatrix(dir), loadMatrixSync(dir)]) {
    assert.equal(m.n, 3);
    assert.equal(m.d, 4);
    assert.deepEqual([...m.X], pix);
    assert.deepEqual([...m.y!], [4, 0, 9]);
  }
  const ds = await loadDataset(dir);
  assert.equal(ds.name, dir);
  assert.deepEqual([...ds.y], [4, 0, 9]);

  const bad = join(tmp.dir, 'mismatch');
  mkdirSync(bad);
  tmp.write('mismatch/a-images-idx3-ubyte', idx([3, 1, 1], [1, 2, 3]));
  tmp.write('mismatch/a-labels-idx1-ubyte', idx([2], [1, 2]));
  await rejectsDataError(loadMatrix(bad), { file: bad, message: /3 rows but labels has 2/ });
  const none = join(tmp.dir, 'nothing');
  mkdirSync(none);
  await rejectsDataError(loadMatrix(none), { file: none, message: /no idx images file/ });
});

test('loadDataset on a path: CSV last column is the label (header optional), npz needs y', async () => {
  const a = await loadDataset(tmp.write('ds.csv', '1,2,0\n3,4,1\n5,6,1\n'));
  check(a, true, 'headerless csv');
  const b = await loadDataset(tmp.write('dsh.csv.gz', csv, true));
  check(b, true, 'csv with header, gz');
  assert.deepEqual(b.columns, ['a', 'b']);
  const noY = tmp.write('noy.npz', npz({ X: npy('<f8', [3, 2], X) }));
  await rejectsDataError(loadDataset(noY), { file: noY, message: /has no labels/ });
});

test('missing file, unknown format, empty file, empty gzip, corrupt gzip, ragged rows', async () => {
  const missing = join(tmp.dir, 'nope.csv');
  await rejectsDataError(loadMatrix(missing), { file: missing, message: /file not found/ });
  assertDataError(() => loadMatrixSync(missing), { file: missing, message: /file not found/ });
  await rejectsDataError(loadDataset(missing), { file: missing, message: /file not found/ });
  const unk = tmp.write('x.parquet', 'PAR1 whatever');
  await rejectsDataError(loadMatrix(unk), { file: unk, message: /unknown data format: expected .csv/ });
  const empty = tmp.write('empty.csv', '');
  await rejectsDataError(loadMatrix(empty), { file: empty, message: /empty file/ });
  const emptyBin = tmp.write('empty.npz', '');
  await rejectsDataError(loadMatrix(emptyBin), { file: emptyBin, message: /empty file/ });
  const emptyGz = tmp.write('empty.jsonl.gz', '', true);
  await rejectsDataError(loadMatrix(emptyGz), { file: emptyGz, message: /empty file/ });
  const corrupt = tmp.write('c.csv.gz', Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
  await rejectsDataError(loadMatrix(corrupt), { file: corrupt, message: /corrupt gzip/ });
  assertDataError(() => loadMatrixSync(corrupt), { file: corrupt, message: /corrupt gzip/ });
  const ragged = tmp.write('r.csv.gz', 'a,b\n1,2\n3\n', true);
  await rejectsDataError(loadMatrix(ragged), { file: ragged, line: 3, message: /expected 2 fields/ });
  const bad = tmp.write('b.csv', 'a,b\n1,2\n3,?\n');
  await rejectsDataError(loadMatrix(bad), {
    file: bad,
    line: 3,
    column: 'b',
    value: '?',
    message: /non-numeric/,
  });
});
