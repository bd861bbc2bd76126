import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactError } from '../../../src/registry/artifact.js';
import { ModelRegistry, RegistryError } from '../../../src/registry/registry.js';
import { makeParts } from './parts.js';

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))));

async function registry(): Promise<ModelRegistry> {
  const r = await fs.mkdtemp(path.join(os.tmpdir(), 'ddcl-registry-'));
  roots.push(r);
  return new ModelRegistry(r);
}

async function corrupt(reg: ModelRegistry, version: string): Promise<void> {
  const f = path.join(reg.versionDir('m', version), 'weights.bin');
  const b = await fs.readFile(f);
  b[0] = b[0]! ^ 0xff;
  await fs.writeFile(f, b);
}

test('versions are numbered in order and listed oldest first; parent is the current one', async () => {
  const reg = await registry();
  assert.deepEqual(await reg.list('m'), []);
  assert.equal(await reg.current('m'), undefined);
  assert.equal(await reg.write('m', makeParts(1).parts), 'v0001');
  await reg.promote('m', 'v0001');
  assert.equal(await reg.write('m', makeParts(2).parts), 'v0002');
  assert.deepEqual(await reg.list('m'), ['v0001', 'v0002']);
  assert.equal((await reg.load('m', 'v0002')).manifest.parentVersion, 'v0001');
  assert.equal((await reg.load('m', 'v0001')).manifest.parentVersion, null);
});

test('promote moves current, rollback steps back through the history', async () => {
  const reg = await registry();
  for (const s of [1, 2, 3]) await reg.write('m', makeParts(s).parts);
  await reg.promote('m', 'v0001');
  await reg.promote('m', 'v0002');
  await reg.promote('m', 'v0003');
  assert.equal(await reg.current('m'), 'v0003');
  assert.equal((await reg.load('m')).manifest.version, 'v0003');
  assert.equal(await reg.rollback('m'), 'v0002');
  assert.equal(await reg.current('m'), 'v0002');
  assert.equal(await reg.rollback('m'), 'v0001');
  await assert.rejects(
    reg.rollback('m'),
    (e: unknown) => e instanceof RegistryError && e.problem === 'no-history',
  );
  assert.equal(await reg.current('m'), 'v0001');
  const h = await reg.history('m');
  assert.deepEqual(h.stack, ['v0001']);
  assert.deepEqual(
    h.log.map((e) => [e.action, e.from, e.to]),
    [
      ['promote', null, 'v0001'],
      ['promote', 'v0001', 'v0002'],
      ['promote', 'v0002', 'v0003'],
      ['rollback', 'v0003', 'v0002'],
      ['rollback', 'v0002', 'v0001'],
    ],
  );
});

test('promoting a corrupt version fails with ArtifactError and leaves current unchanged', async () => {
  const reg = await registry();
  await reg.write('m', makeParts(1).parts);
  await reg.write('m', makeParts(2).parts);
  await reg.promote('m', 'v0001');
  await corrupt(reg, 'v0002');
  await assert.rejects(reg.promote('m', 'v0002'), (e: unknown) => {
    assert.ok(e instanceof ArtifactError);
    assert.equal(e.file, 'weights.bin');
    assert.equal(e.problem, 'checksum');
    return true;
  });
  assert.equal(await reg.current('m'), 'v0001');
  assert.deepEqual((await reg.history('m')).stack, ['v0001']);
});

test('rolling back onto a version corrupted since fails and leaves current unchanged', async () => {
  const reg = await registry();
  await reg.write('m', makeParts(1).parts);
  await reg.write('m', makeParts(2).parts);
  await reg.promote('m', 'v0001');
  await reg.promote('m', 'v0002');
  await corrupt(reg, 'v0001');
  await assert.rejects(reg.rollback('m'), ArtifactError);
  assert.equal(await reg.current('m'), 'v0002');
});

test('a crash inside write leaves no partial version visible and current unchanged', async () => {
  const reg = await registry();
  await reg.write('m', makeParts(1).parts);
  await reg.promote('m', 'v0001');
  await assert.rejects(
    reg.write('m', makeParts(2).parts, {
      afterFile: (f) => {
        if (f === 'features.json') throw new Error('simulated crash');
      },
    }),
    /simulated crash/,
  );
  assert.deepEqual(await reg.list('m'), ['v0001']);
  assert.equal(await reg.current('m'), 'v0001');
  // A process killed outright leaves its temporary folder: it is never listed, and numbering goes on.
  await fs.mkdir(path.join(reg.root, 'm', '.tmp-v0002-99999-deadbeef'));
  assert.deepEqual(await reg.list('m'), ['v0001']);
  assert.equal(await reg.write('m', makeParts(3).parts), 'v0002');
});

test('a crash between writing history and current is repaired on rollback', async () => {
  const reg = await registry();
  for (const s of [1, 2, 3]) await reg.write('m', makeParts(s).parts);
  await reg.promote('m', 'v0001');
  await reg.promote('m', 'v0002');
  // as if promote(v0003) died after history.json and before current
  const hf = path.join(reg.root, 'm', 'history.json');
  const h = JSON.parse(await fs.readFile(hf, 'utf8'));
  h.stack.push('v0003');
  await fs.writeFile(hf, JSON.stringify(h));
  assert.equal(await reg.current('m'), 'v0002');
  assert.equal(await reg.rollback('m'), 'v0001');
});

test('a version whose manifest names another version is refused on load', async () => {
  const reg = await registry();
  await reg.write('m', makeParts(1).parts);
  await fs.cp(reg.versionDir('m', 'v0001'), reg.versionDir('m', 'v0007'), { recursive: true });
  await assert.rejects(
    reg.load('m', 'v0007'),
    (e: unknown) => e instanceof ArtifactError && /manifest names m\/v0001/.test(e.message),
  );
});

test('names that could leave the registry root are refused', async () => {
  const reg = await registry();
  await assert.rejects(
    reg.list('../etc'),
    (e: unknown) => e instanceof RegistryError && e.problem === 'bad-name',
  );
  assert.throws(() => reg.versionDir('m', '../v0001'), RegistryError);
  await assert.rejects(
    reg.setCurrent('m', 'v0009'),
    (e: unknown) => e instanceof RegistryError && e.problem === 'unknown-version',
  );
  await assert.rejects(
    reg.load('m'),
    (e: unknown) => e instanceof RegistryError && e.problem === 'no-current',
  );
});
