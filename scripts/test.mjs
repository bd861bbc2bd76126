#!/usr/bin/env node
// Runs the compiled tests under dist/test with node's test runner.
//   node scripts/test.mjs            all tests (starts a local Kafka broker when KAFKA_BROKERS is unset)
//   node scripts/test.mjs --unit     unit tests only (no broker)
//   node scripts/test.mjs FILTER     only test files whose path contains FILTER
// KAFKA_PORT picks the port of the broker it starts (default 19092).
// Ends with the line "N passed, N failed" so any CI can read it.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

let files = walk(join(root, 'dist', 'test')).sort();
if (unitOnly) files = files.filter((f) => !f.includes(`${join('dist', 'test', 'integration')}`));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
const needsKafka = files.some((f) => f.includes(join('dist', 'test', 'integration')));

let startedBroker = false;
if (needsKafka && !process.env.KAFKA_BROKERS && existsSync(join(root, 'scripts', 'kafka.sh'))) {
  const r = spawnSync('bash', [join(root, 'scripts', 'kafka.sh'), 'start'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('could not start the local Kafka broker (scripts/kafka.sh start)');
    process.exit(1);
  }
  startedBroker = true;
  process.env.KAFKA_BROKERS = `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`;
}

const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    '--test-reporter-destination=' + join(root, '.cache', 'test-report.tap'),
    '--test-concurrency=1',
    ...files,
  ],
  { stdio: ['ignore', 'inherit', 'inherit'], env: process.env },
);
child.on('exit', async (code) => {
  if (startedBroker) spawnSync('bash', [join(root, 'scripts', 'kafka.sh'), 'stop'], { stdio: 'inherit' });
  const { readFileSync } = await import('node:fs');
  let pass = 0,
    fail = 0,
    skip = 0;
  try {
    const tap = readFileSync(join(root, '.cache', 'test-report.tap'), 'utf8');
    pass = Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
    fail = Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0);
    skip = Number(/^# skipped (\d+)/m.exec(tap)?.[1] ?? 0);
  } catch {
    fail = fail || (code ? 1 : 0);
  }
  console.log(`${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
  process.exit(code ?? 1);
});
