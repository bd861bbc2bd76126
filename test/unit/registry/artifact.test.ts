import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ArtifactError,
  loadArtifact,
  writeArtifact,
  type ArtifactProblem,
} from '../../../src/registry/artifact.js';
import { OnnxScorer } from '../../../src/serve/scorer.js';
import { randomInputs } from '../serve/randomModel.js';
import { makeParts } from './parts.js';

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))));

async function tmpRoot(): Promise<string> {
  const r = await fs.mkdtemp(path.join(os.tmpdir(), 'ddcl-artifact-'));
  roots.push(r);
  return r;
}

/** One valid artifact, written once; each corruption test works on a copy. */
async function writtenArtifact(): Promise<string> {
  const dir = path.join(await tmpRoot(), 'm', 'v0001');
  await writeArtifact(dir, { name: 'm', version: 'v0001' }, makeParts(11).parts);
  return dir;
}

async function copyOf(dir: string): Promise<string> {
  const to = path.join(await tmpRoot(), 'm', 'v0001');
  await fs.cp(dir, to, { recursive: true });
  return to;
}

/** Rewrite one file and fix its manifest entry, as a buggy (not a corrupting) writer would. */
async function rewriteWithChecksum(dir: string, file: string, text: string): Promise<void> {
  await fs.writeFile(path.join(dir, file), text);
  const mf = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await fs.readFile(mf, 'utf8'));
  const bytes = Buffer.from(text);
  manifest.files[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  await fs.writeFile(mf, JSON.stringify(manifest));
}

async function assertRefused(
  dir: string,
  file: string,
  problem: ArtifactProblem,
  words: RegExp,
): Promise<void> {
  await assert.rejects(loadArtifact(dir), (e: unknown) => {
    assert.ok(e instanceof ArtifactError, `expected ArtifactError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.equal(e.problem, problem);
    assert.match(e.message, new RegExp(file.replace('.', '\\.')));
    assert.match(e.message, words);
    return true;
  });
}

test('an artifact round-trips: loaded ONNX scores bit for bit as before writing', async () => {
  const { parts } = makeParts(3);
  const dir = path.join(await tmpRoot(), 'm', 'v0001');
  const created = new Date('2026-01-02T03:04:05.000Z');
  await writeArtifact(dir, { name: 'm', version: 'v0001' }, parts, { created });
  const a = await loadArtifact(dir);

  assert.equal(a.manifest.formatVersion, 1);
  assert.equal(a.manifest.created, created.toISOString());
  assert.equal(a.manifest.inputDim, parts.inputDim);
  assert.equal(a.manifest.inputSchemaFingerprint, 'fp-3');
  assert.deepEqual(a.manifest.trainingMetrics, parts.trainingMetrics);
  assert.deepEqual(a.onnx, parts.onnx);
  assert.deepEqual(a.prototypes.snapshot.P, parts.prototypes.snapshot.P);
  assert.deepEqual(a.prototypes.stats, parts.prototypes.stats);
  assert.deepEqual(a.weights, parts.weights);
  assert.deepEqual(a.features, parts.features);
  assert.deepEqual(a.calibration, parts.calibration);

  const n = 33;
  const X = randomInputs(5, n, parts.inputDim);
  const before = await OnnxScorer.create(parts.onnx, { intraOpThreads: 1 });
  const after = await OnnxScorer.create(a.onnx, { intraOpThreads: 1 });
  const sb = await before.score(X, n);
  const sa = await after.score(X, n);
  assert.deepEqual(sa, sb);
  await before.release();
  await after.release();
});

test('a truncated model.onnx is refused', async () => {
  const dir = await copyOf(await writtenArtifact());
  const f = path.join(dir, 'model.onnx');
  const b = await fs.readFile(f);
  await fs.writeFile(f, b.subarray(0, b.length - 100));
  await assertRefused(dir, 'model.onnx', 'size', /truncated: \d+ bytes, manifest says \d+/);
});

test('a flipped byte in weights.bin is refused', async () => {
  const dir = await copyOf(await writtenArtifact());
  const f = path.join(dir, 'weights.bin');
  const b = await fs.readFile(f);
  b[17] = b[17]! ^ 0x01;
  await fs.writeFile(f, b);
  await assertRefused(dir, 'weights.bin', 'checksum', /corrupt: sha256/);
});

test('an invalid JSON manifest is refused', async () => {
  const dir = await copyOf(await writtenArtifact());
  const f = path.join(dir, 'manifest.json');
  await fs.writeFile(f, (await fs.readFile(f, 'utf8')).slice(0, 40));
  await assertRefused(dir, 'manifest.json', 'invalid-json', /JSON/);
});

test('a missing prototypes.json is refused', async () => {
  const dir = await copyOf(await writtenArtifact());
  await fs.rm(path.join(dir, 'prototypes.json'));
  await assertRefused(dir, 'prototypes.json', 'missing', /not found/);
});

test('an unknown format version is refused', async () => {
  const dir = await copyOf(await writtenArtifact());
  const f = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await fs.readFile(f, 'utf8'));
  manifest.formatVersion = 2;
  await fs.writeFile(f, JSON.stringify(manifest));
  await assertRefused(dir, 'manifest.json', 'format-version', /formatVersion 2 is not supported/);
});

test('P whose length is not K*m is refused even with a matching checksum', async () => {
  const dir = await copyOf(await writtenArtifact());
  const p = JSON.parse(await fs.readFile(path.join(dir, 'prototypes.json'), 'utf8'));
  p.P = p.P.slice(1);
  await rewriteWithChecksum(dir, 'prototypes.json', JSON.stringify(p));
  await assertRefused(dir, 'prototypes.json', 'shape', /P has \d+ values, expected K\*m/);
});

test('an ONNX input width different from the manifest inputDim is refused', async () => {
  const dir = await copyOf(await writtenArtifact());
  const f = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await fs.readFile(f, 'utf8'));
  manifest.inputDim += 1;
  // per-prototype stats have inputDim entries too; keep them consistent so the ONNX check speaks
  const p = JSON.parse(await fs.readFile(path.join(dir, 'prototypes.json'), 'utf8'));
  for (const s of p.stats) {
    s.mean.push(0);
    s.std.push(1);
  }
  await fs.writeFile(f, JSON.stringify(manifest));
  await rewriteWithChecksum(dir, 'prototypes.json', JSON.stringify(p));
  await assertRefused(dir, 'model.onnx', 'shape', /input x has \d+ features, manifest inputDim is \d+/);
});

test('write refuses inconsistent parts before touching the disk', async () => {
  const root = await tmpRoot();
  const { parts } = makeParts(4);
  const snapshot = { ...parts.prototypes.snapshot, P: parts.prototypes.snapshot.P.subarray(1) };
  await assert.rejects(
    writeArtifact(
      path.join(root, 'm', 'v0001'),
      { name: 'm', version: 'v0001' },
      { ...parts, prototypes: { ...parts.prototypes, snapshot } },
    ),
    (e: unknown) => e instanceof ArtifactError && e.file === 'prototypes.json' && e.problem === 'shape',
  );
  assert.deepEqual(await fs.readdir(root), []);
});

test('a crash mid-write leaves no partial version and no temporary folder', async () => {
  const root = await tmpRoot();
  const dir = path.join(root, 'm', 'v0001');
  const seen: string[] = [];
  const crash = new Error('simulated crash');
  await assert.rejects(
    writeArtifact(dir, { name: 'm', version: 'v0001' }, makeParts(5).parts, {
      afterFile: (f) => {
        seen.push(f);
        if (f === 'weights.bin') throw crash;
      },
    }),
    (e: unknown) => e === crash,
  );
  assert.deepEqual(seen, ['model.onnx', 'weights.json', 'weights.bin']);
  assert.deepEqual(await fs.readdir(path.join(root, 'm')), []);
});

test('writing onto an existing version is refused', async () => {
  const dir = await writtenArtifact();
  await assert.rejects(
    writeArtifact(dir, { name: 'm', version: 'v0001' }, makeParts(6).parts),
    (e: unknown) => e instanceof ArtifactError && e.problem === 'exists',
  );
});
