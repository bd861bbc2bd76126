import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildConfig,
  ConfigError,
  DEFAULT_CONFIG,
  loadConfig,
  resolveSecret,
} from '../../../src/config/config.js';
import { loadSchemaJson } from '../../../src/codec/index.js';
import { featureSpecFor } from '../../../src/daemon/daemon.js';
import { scoringBuild } from '../../../src/daemon/scoring.js';

test('an empty config gives the documented defaults', () => {
  assert.deepEqual(buildConfig({}), DEFAULT_CONFIG);
  assert.deepEqual(buildConfig(null), DEFAULT_CONFIG);
});

test('file values override defaults and nested sections merge', () => {
  const c = buildConfig({
    batch: { size: 64 },
    kafka: { brokers: ['k1:9092'] },
    input: { topics: ['payments'] },
  });
  assert.equal(c.batch.size, 64);
  assert.equal(c.batch.lingerMs, DEFAULT_CONFIG.batch.lingerMs);
  assert.deepEqual(c.kafka.brokers, ['k1:9092']);
  assert.deepEqual(c.input.topics, ['payments']);
});

test('environment overrides win over the file, with types parsed', () => {
  const c = buildConfig(
    { batch: { size: 64 } },
    {
      DDCL_BATCH__SIZE: '128',
      DDCL_KAFKA__BROKERS: 'a:1,b:2',
      DDCL_HTTP__ENABLED: 'false',
      DDCL_MODEL__DEVICE: 'cpu',
      DDCL_INPUT__KEY_FIELD: 'card',
    },
  );
  assert.equal(c.batch.size, 128);
  assert.deepEqual(c.kafka.brokers, ['a:1', 'b:2']);
  assert.equal(c.http.enabled, false);
  assert.equal(c.model.device, 'cpu');
  assert.equal(c.input.keyField, 'card');
});

function fails(obj: unknown, key: string, re: RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => buildConfig(obj, env, 'x.yaml'),
    (e: unknown) => e instanceof ConfigError && e.key === key && re.test(e.message),
  );
}

test('invalid configs name the key and the problem', () => {
  fails({ batch: { size: 'big' } }, 'batch.size', /must be a number, got "big"/);
  fails({ batch: { size: -1 } }, 'batch.size', /positive integer/);
  fails(
    { batch: { sise: 3 } },
    'batch.sise',
    /unknown key \(known here: size, lingerMs, maxInFlight, concurrency, commitIntervalMs\)/,
  );
  fails({ delivery: 'twice' }, 'delivery', /one of at-least-once, exactly-once/);
  fails({ scoring: { rawScore: 'max' } }, 'scoring.rawScore', /one of s_q, s_min, s_mix/);
  fails({ scoring: { combine: 'mean' } }, 'scoring.combine', /one of max, sum/);
  fails({ scoring: { weights: { raw: -1 } } }, 'scoring.weights.raw', /must be >= 0/);
  fails({ scoring: { weights: { bogus: 1 } } }, 'scoring.weights.bogus', /unknown key/);
  fails({ batch: { commitIntervalMs: -5 } }, 'batch.commitIntervalMs', /must be >= 0/);
  fails({ batch: { concurrency: 0 } }, 'batch.concurrency', /positive integer/);
  fails({ kafka: { brokers: ['nohost'] } }, 'kafka.brokers', /not host:port/);
  fails({ kafka: { brokers: 'a:1' } }, 'kafka.brokers', /list of strings/);
  fails({ input: { format: 'avro' } }, 'input.schema', /required when input.format is avro/);
  fails({ scoring: { alertThreshold: 5 } }, 'scoring.alertThreshold', /grade in \(0, 1\]/);
  fails({ http: 3 }, 'http', /must be a mapping/);
  fails({ kafka: { sasl: { mechanism: 'plain', username: 'u' } } }, 'kafka.sasl', /passwordEnv/);
  fails({}, 'batch.BOGUS', /unknown key \(from environment variable DDCL_BATCH__BOGUS\)/, {
    DDCL_BATCH__BOGUS: '1',
  });
  fails([1, 2], '(top level)', /mapping/);
});

test('a bad value from the environment is blamed on the environment', () => {
  assert.throws(
    () => buildConfig({}, { DDCL_BATCH__SIZE: 'abc' }, 'file.yaml'),
    (e: unknown) => e instanceof ConfigError && e.source === 'environment' && e.key === 'batch.size',
  );
});

test('loadConfig reads YAML and reports unreadable or malformed files with their name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddcl-cfg-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'input:\n  topics: [payments]\nbatch:\n  size: 32\n');
  assert.equal(loadConfig(good, {}).batch.size, 32);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'input: [unclosed\n');
  assert.throws(
    () => loadConfig(bad, {}),
    (e: unknown) => e instanceof ConfigError && e.message.startsWith(bad),
  );
  assert.throws(() => loadConfig(join(dir, 'missing.yaml'), {}), /ENOENT/);
});

test('secrets come from the environment or a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddcl-sec-'));
  const f = join(dir, 'pw');
  writeFileSync(f, 's3cret\n');
  assert.equal(resolveSecret({ mechanism: 'plain', username: 'u', passwordFile: f }), 's3cret');
  assert.equal(resolveSecret({ mechanism: 'plain', username: 'u', passwordEnv: 'PW' }, { PW: 'x' }), 'x');
  assert.throws(
    () => resolveSecret({ mechanism: 'plain', username: 'u', passwordEnv: 'NOPE' }, {}),
    /NOPE is not set/,
  );
});

test('scoring terms reach the model build the daemon, bootstrap and retraining share', () => {
  // Defaults: the sum, every weight 1, that `ddcl eval tabular` measures.
  assert.deepEqual(scoringBuild(DEFAULT_CONFIG.scoring), {
    calibration: {
      rawScore: 's_mix',
      combine: {
        mode: 'sum',
        weights: { raw: 1, recon: 1, deviation: 1, inputMixture: 1, globalDeviation: 1 },
      },
    },
    inputDeviation: false,
    inputMixture: true,
    globalDeviation: true,
  });
  const c = buildConfig({
    scoring: {
      rawScore: 's_q',
      inputDeviation: true,
      inputMixture: false,
      globalDeviation: false,
      combine: 'max',
    },
  });
  assert.deepEqual(scoringBuild(c.scoring), {
    calibration: { rawScore: 's_q' },
    inputDeviation: true,
    inputMixture: false,
    globalDeviation: false,
  });
  const w = buildConfig({ scoring: { weights: { inputMixture: 3 } } }, { DDCL_SCORING__WEIGHTS__RECON: '0' });
  assert.deepEqual(w.scoring.weights, {
    raw: 1,
    recon: 0,
    deviation: 1,
    inputMixture: 3,
    globalDeviation: 1,
  });
});

test('deploy/ddcl.example.yaml loads and spells out the default scoring terms', () => {
  const c = loadConfig(join(process.cwd(), 'deploy', 'ddcl.example.yaml'), {});
  assert.equal(c.kafka.brokers.length > 0, true);
  for (const k of ['rawScore', 'inputMixture', 'globalDeviation', 'combine', 'weights'] as const)
    assert.deepEqual(c.scoring[k], DEFAULT_CONFIG.scoring[k], k);
});

test('features.extra appends validated fields to the spec derived from the schema (e.g. an amount per its average)', () => {
  const schema = loadSchemaJson('payment');
  const cfg = buildConfig({
    features: {
      extra: [
        { kind: 'numeric', path: 'amount', per: 'amount_avg_30d', name: 'amount_per_avg_30d', log1p: true },
      ],
    },
  });
  const spec = featureSpecFor(cfg, schema);
  const last = spec.fields[spec.fields.length - 1]!;
  assert.deepEqual(last, {
    kind: 'numeric',
    path: 'amount',
    per: 'amount_avg_30d',
    name: 'amount_per_avg_30d',
    log1p: true,
  });
  assert.equal(spec.fields.length, featureSpecFor(buildConfig({}), schema).fields.length + 1);
  assert.throws(
    () => featureSpecFor(buildConfig({ features: { extra: [{ kind: 'numeric' }] } }), schema),
    /features\.extra\[0\]/,
  );
  assert.throws(
    () => featureSpecFor(buildConfig({ features: { extra: 'amount' } }), schema),
    /must be a list/,
  );
});
