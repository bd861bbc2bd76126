// The daemon's configuration: a typed object with its defaults and docs in one place, read from
// YAML, overridden from the environment, validated at start. An invalid config fails with a
// message that names the key and what is wrong.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly source?: string,
  ) {
    super(`${source ? `${source}: ` : ''}${key}: ${problem}`);
  }
}

export type Device = 'auto' | 'cpu' | 'cuda' | 'webgpu';

export interface SaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  /** Literal password (prefer passwordEnv or passwordFile; never logged). */
  password?: string;
  passwordEnv?: string;
  passwordFile?: string;
}

export interface TlsConfig {
  enabled: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized: boolean;
}

export interface DdclConfig {
  kafka: {
    /** 'confluent' (@confluentinc/kafka-javascript, librdkafka) or 'kafkajs' (pure JS). */
    client: 'confluent' | 'kafkajs';
    brokers: string[];
    clientId: string;
    groupId: string;
    tls?: TlsConfig;
    sasl?: SaslConfig;
  };
  input: {
    topics: string[];
    /** 'json', 'avro' (plain Avro body), 'confluent' (magic byte + schema id + Avro). */
    format: 'json' | 'avro' | 'confluent';
    /** Reader schema (.avsc) for avro/confluent; optional for json (then features must be declared). */
    schema?: string;
    /** Registry-less Confluent mode: schema id -> .avsc file. */
    schemaIds?: Record<string, string>;
    registryUrl?: string;
    /** Field holding the entity key (per-key shingles); defaults to the Kafka message key. */
    keyField?: string;
    /** Field holding the event time (epoch ms or ISO); defaults to the Kafka timestamp. */
    timeField?: string;
  };
  /** Feature spec overrides (see src/features); derived from the schema when omitted. */
  features?: Record<string, unknown>;
  /**
   * size: most records per micro-batch; lingerMs: longest fetch wait; maxInFlight: batches whose
   * sinks are not acknowledged yet before fetching pauses; concurrency: partitions processed at
   * once (with 1, librdkafka's KafkaJS layer serves several assigned partitions in turn and a
   * record can wait hundreds of ms behind another partition's fetch); commitIntervalMs: acknowledged
   * offsets are committed together at most this often (0 = after every batch).
   */
  batch: {
    size: number;
    lingerMs: number;
    maxInFlight: number;
    concurrency: number;
    commitIntervalMs: number;
  };
  output: {
    enrichedSuffix: string;
    alertsTopic: string;
    dlqTopic: string;
    modelsTopic: string;
    enriched: boolean;
  };
  delivery: 'at-least-once' | 'exactly-once';
  model: { name: string; registry: string; device: Device; threads: number };
  /**
   * rawScore and the terms below shape the models trained from now on (their calibration): 's_q'
   * (sum_k q_k d_k), 's_min' (nearest prototype) or 's_mix' (default: a mixture over the
   * prototypes, share and spread of each, over the DDCL distances); inputDeviation adds each
   * event's distance, per feature, from the members of its nearest prototype; inputMixture
   * (default on) a mixture over the prototypes in input space (each an isotropic Gaussian over its
   * members' features, weighted by its share); globalDeviation (default on) the squared
   * standardised distance from the training rows' mean. combine: 'sum' (default) grades the
   * weighted sum of the terms' z (the reconstruction error's too, when the model has a decoder),
   * 'max' the largest (the raw score's z per prototype). Weights default to 1 each (not tuned);
   * `ddcl eval tabular` measures these defaults. A served model grades with what it was built with.
   */
  scoring: {
    alertThreshold: number;
    topFeatures: number;
    rawScore: 's_q' | 's_min' | 's_mix';
    inputDeviation: boolean;
    inputMixture: boolean;
    globalDeviation: boolean;
    combine: 'max' | 'sum';
    weights: { raw: number; recon: number; deviation: number; inputMixture: number; globalDeviation: number };
  };
  training: {
    enabled: boolean;
    /** node-cron expression, e.g. "0 * * * *"; empty = no schedule. */
    schedule: string;
    /** Retrain after this many new inlier events (0 = off). */
    everyEvents: number;
    window: { maxEvents: number; maxAgeMs: number };
    /** Events needed before the first model is trained when none is loaded. */
    minEvents: number;
    /** The network trains on at most this many rows of the window (evenly spaced). */
    maxTrainRows: number;
    gate: {
      maxAlertRateRatio: number;
      minSeparation: number;
      maxDeadFraction: number;
      holdoutFraction: number;
    };
    /** Trainer hyper-parameters (see src/train/trainer.ts TrainConfig). */
    params: Record<string, unknown>;
  };
  http: { enabled: boolean; host: string; port: number };
  log: { level: 'error' | 'warn' | 'info' | 'debug'; format: 'json' | 'pretty' };
  shutdown: { timeoutMs: number };
}

export const DEFAULT_CONFIG: DdclConfig = {
  kafka: { client: 'confluent', brokers: ['127.0.0.1:9092'], clientId: 'ddcl', groupId: 'ddcl' },
  input: { topics: [], format: 'json' },
  batch: { size: 512, lingerMs: 20, maxInFlight: 4, concurrency: 4, commitIntervalMs: 100 },
  output: {
    enrichedSuffix: '.ddcl.enriched',
    alertsTopic: 'ddcl.alerts',
    dlqTopic: 'ddcl.dlq',
    modelsTopic: 'ddcl.models',
    enriched: true,
  },
  delivery: 'at-least-once',
  model: { name: 'default', registry: 'models', device: 'auto', threads: 2 },
  scoring: {
    alertThreshold: 0.99,
    topFeatures: 3,
    rawScore: 's_mix',
    inputDeviation: false,
    inputMixture: true,
    globalDeviation: true,
    combine: 'sum',
    weights: { raw: 1, recon: 1, deviation: 1, inputMixture: 1, globalDeviation: 1 },
  },
  training: {
    enabled: true,
    schedule: '',
    everyEvents: 0,
    window: { maxEvents: 50_000, maxAgeMs: 6 * 3600_000 },
    minEvents: 2_000,
    maxTrainRows: 20_000,
    gate: { maxAlertRateRatio: 3, minSeparation: 1e-3, maxDeadFraction: 0.5, holdoutFraction: 0.2 },
    params: {},
  },
  http: { enabled: true, host: '127.0.0.1', port: 9464 },
  log: { level: 'info', format: 'json' },
  shutdown: { timeoutMs: 10_000 },
};

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys whose value is free-form (not checked against the defaults' shape). */
const FREE_FORM = new Set(['features', 'training.params', 'input.schemaIds', 'kafka.tls', 'kafka.sasl']);
/** Optional keys absent from the defaults. */
const OPTIONAL: Record<string, 'string' | 'object'> = {
  'input.schema': 'string',
  'input.registryUrl': 'string',
  'input.keyField': 'string',
  'input.timeField': 'string',
  'input.schemaIds': 'object',
  features: 'object',
  'kafka.tls': 'object',
  'kafka.sasl': 'object',
};
const ENUMS: Record<string, readonly string[]> = {
  'kafka.client': ['confluent', 'kafkajs'],
  'input.format': ['json', 'avro', 'confluent'],
  delivery: ['at-least-once', 'exactly-once'],
  'model.device': ['auto', 'cpu', 'cuda', 'webgpu'],
  'scoring.rawScore': ['s_q', 's_min', 's_mix'],
  'scoring.combine': ['max', 'sum'],
  'log.level': ['error', 'warn', 'info', 'debug'],
  'log.format': ['json', 'pretty'],
};

function merge(base: Plain, over: Plain, path: string, source: string): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const key = path ? `${path}.${k}` : k;
    if (FREE_FORM.has(key)) {
      if (!isPlain(v)) throw new ConfigError(key, `must be a mapping, got ${JSON.stringify(v)}`, source);
      out[k] = v;
      continue;
    }
    if (!(k in base) && !(key in OPTIONAL)) {
      const known = Object.keys(base).concat(
        Object.keys(OPTIONAL)
          .filter(
            (o) => o.startsWith(path ? path + '.' : '') && !o.slice(path ? path.length + 1 : 0).includes('.'),
          )
          .map((o) => o.split('.').pop()!),
      );
      throw new ConfigError(key, `unknown key (known here: ${[...new Set(known)].join(', ')})`, source);
    }
    const b = base[k];
    if (isPlain(b)) {
      if (!isPlain(v)) throw new ConfigError(key, `must be a mapping, got ${JSON.stringify(v)}`, source);
      out[k] = merge(b, v, key, source);
    } else out[k] = v;
  }
  return out;
}

function check(cfg: Plain, defaults: Plain, path: string, source: string): void {
  for (const [k, d] of Object.entries(defaults)) {
    const key = path ? `${path}.${k}` : k;
    const v = cfg[k];
    if (FREE_FORM.has(key)) continue;
    if (isPlain(d)) {
      check(v as Plain, d, key, source);
      continue;
    }
    if (Array.isArray(d)) {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
        throw new ConfigError(key, `must be a list of strings, got ${JSON.stringify(v)}`, source);
    } else if (typeof d === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new ConfigError(key, `must be a number, got ${JSON.stringify(v)}`, source);
    } else if (typeof d === 'boolean') {
      if (typeof v !== 'boolean')
        throw new ConfigError(key, `must be true or false, got ${JSON.stringify(v)}`, source);
    } else if (typeof d === 'string') {
      if (typeof v !== 'string')
        throw new ConfigError(key, `must be a string, got ${JSON.stringify(v)}`, source);
    }
    const allowed = ENUMS[key];
    if (allowed && !allowed.includes(v as string))
      throw new ConfigError(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`, source);
  }
  for (const [key, kind] of Object.entries(OPTIONAL)) {
    if (path !== key.split('.').slice(0, -1).join('.')) continue;
    const v = cfg[key.split('.').pop()!];
    if (v === undefined) continue;
    if (kind === 'string' && typeof v !== 'string')
      throw new ConfigError(key, `must be a string, got ${JSON.stringify(v)}`, source);
    if (kind === 'object' && !isPlain(v))
      throw new ConfigError(key, `must be a mapping, got ${JSON.stringify(v)}`, source);
  }
}

function positive(cfg: DdclConfig, source: string): void {
  const pos: [string, number][] = [
    ['batch.size', cfg.batch.size],
    ['batch.maxInFlight', cfg.batch.maxInFlight],
    ['batch.concurrency', cfg.batch.concurrency],
    ['model.threads', cfg.model.threads],
    ['training.window.maxEvents', cfg.training.window.maxEvents],
    ['training.minEvents', cfg.training.minEvents],
    ['training.maxTrainRows', cfg.training.maxTrainRows],
    ['shutdown.timeoutMs', cfg.shutdown.timeoutMs],
  ];
  for (const [k, v] of pos)
    if (!(v > 0) || !Number.isInteger(v))
      throw new ConfigError(k, `must be a positive integer, got ${v}`, source);
  if (cfg.batch.lingerMs < 0)
    throw new ConfigError('batch.lingerMs', `must be >= 0, got ${cfg.batch.lingerMs}`, source);
  if (!(cfg.batch.commitIntervalMs >= 0))
    throw new ConfigError(
      'batch.commitIntervalMs',
      `must be >= 0, got ${cfg.batch.commitIntervalMs}`,
      source,
    );
  if (!(cfg.scoring.alertThreshold > 0 && cfg.scoring.alertThreshold <= 1))
    throw new ConfigError(
      'scoring.alertThreshold',
      `must be a grade in (0, 1], got ${cfg.scoring.alertThreshold}`,
      source,
    );
  for (const [k, v] of Object.entries(cfg.scoring.weights))
    if (!(v >= 0)) throw new ConfigError(`scoring.weights.${k}`, `must be >= 0, got ${v}`, source);
  if (cfg.http.port < 0 || cfg.http.port > 65535 || !Number.isInteger(cfg.http.port))
    throw new ConfigError('http.port', `must be a port number 0..65535, got ${cfg.http.port}`, source);
  if (cfg.kafka.brokers.length === 0)
    throw new ConfigError('kafka.brokers', 'must name at least one broker (host:port)', source);
  for (const b of cfg.kafka.brokers)
    if (!/^[^:\s]+:\d{1,5}$/.test(b))
      throw new ConfigError('kafka.brokers', `"${b}" is not host:port`, source);
  if (cfg.input.format !== 'json' && !cfg.input.schema)
    throw new ConfigError(
      'input.schema',
      `is required when input.format is ${cfg.input.format} (a .avsc file)`,
      source,
    );
  const t = cfg.training.gate.holdoutFraction;
  if (!(t > 0 && t < 1))
    throw new ConfigError('training.gate.holdoutFraction', `must be in (0, 1), got ${t}`, source);
  if (cfg.kafka.sasl) {
    const s = cfg.kafka.sasl;
    if (!['plain', 'scram-sha-256', 'scram-sha-512'].includes(s.mechanism))
      throw new ConfigError(
        'kafka.sasl.mechanism',
        `must be plain, scram-sha-256 or scram-sha-512, got ${JSON.stringify(s.mechanism)}`,
        source,
      );
    if (typeof s.username !== 'string') throw new ConfigError('kafka.sasl.username', 'is required', source);
    if (s.password === undefined && !s.passwordEnv && !s.passwordFile)
      throw new ConfigError('kafka.sasl', 'needs one of password, passwordEnv, passwordFile', source);
  }
}

/**
 * Environment overrides: DDCL_<SECTION>__<KEY>[__<KEY>...]=value, e.g.
 * DDCL_KAFKA__BROKERS=a:9092,b:9092, DDCL_BATCH__SIZE=256, DDCL_MODEL__DEVICE=cpu. Keys are
 * matched case-insensitively against the config's camelCase keys; values are parsed as YAML
 * scalars (numbers, booleans) and lists split on commas where the key is a list.
 */
export function envOverrides(env: NodeJS.ProcessEnv): Plain {
  const out: Plain = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('DDCL_') || !name.includes('__') || raw === undefined) continue;
    const parts = name.slice(5).split('__').filter(Boolean);
    let base: unknown = DEFAULT_CONFIG;
    let node: Plain = out;
    const keys: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const candidates = isPlain(base) ? Object.keys(base) : [];
      const optionalHere = Object.keys(OPTIONAL)
        .filter((o) => o.split('.').slice(0, -1).join('.') === keys.join('.'))
        .map((o) => o.split('.').pop()!);
      const want = parts[i].toLowerCase().replace(/_/g, '');
      const key = [...candidates, ...optionalHere].find((c) => c.toLowerCase() === want);
      if (!key)
        throw new ConfigError(
          `${keys.concat(parts[i]).join('.')}`,
          `unknown key (from environment variable ${name})`,
          'environment',
        );
      keys.push(key);
      base = isPlain(base) ? base[key] : undefined;
      if (i === parts.length - 1) {
        node[key] = Array.isArray(base)
          ? raw
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : parseScalar(raw);
      } else {
        node[key] = isPlain(node[key]) ? node[key] : {};
        node = node[key] as Plain;
      }
    }
  }
  return out;
}

function parseScalar(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return raw;
}

/** Builds a validated config from a parsed object (file contents) plus environment overrides. */
export function buildConfig(fileObj: unknown, env: NodeJS.ProcessEnv = {}, source = 'config'): DdclConfig {
  if (fileObj !== null && fileObj !== undefined && !isPlain(fileObj))
    throw new ConfigError('(top level)', 'must be a mapping of sections', source);
  let merged = merge(DEFAULT_CONFIG as unknown as Plain, (fileObj as Plain) ?? {}, '', source);
  const fromEnv = envOverrides(env);
  merged = merge(merged, fromEnv, '', 'environment');
  const cfg = merged as unknown as DdclConfig;
  try {
    check(merged, DEFAULT_CONFIG as unknown as Plain, '', source);
    positive(cfg, source);
  } catch (e) {
    // Blame the environment when the offending key came from it.
    if (e instanceof ConfigError && hasPath(fromEnv, e.key))
      throw new ConfigError(e.key, e.problem, 'environment');
    throw e;
  }
  return cfg;
}

function hasPath(obj: Plain, key: string): boolean {
  let node: unknown = obj;
  for (const k of key.split('.')) {
    if (!isPlain(node) || !(k in node)) return false;
    node = node[k];
  }
  return true;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): DdclConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '(file)',
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      file,
    );
  }
  let obj: unknown;
  try {
    obj = parseYaml(text);
  } catch (err) {
    throw new ConfigError('(yaml)', (err as Error).message.split('\n')[0], file);
  }
  return buildConfig(obj, env, file);
}

/** Resolves the SASL password from the environment or a file; never from logs. */
export function resolveSecret(s: SaslConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (s.passwordEnv) {
    const v = env[s.passwordEnv];
    if (v === undefined)
      throw new ConfigError('kafka.sasl.passwordEnv', `environment variable ${s.passwordEnv} is not set`);
    return v;
  }
  if (s.passwordFile) {
    try {
      return readFileSync(s.passwordFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        'kafka.sasl.passwordFile',
        `cannot read ${s.passwordFile}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
  }
  return s.password ?? '';
}
