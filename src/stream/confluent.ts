// KafkaClient on @confluentinc/kafka-javascript (librdkafka) through its KafkaJS-compatible API.
// Differences from kafkajs handled here: options live under `kafkaJS: {...}` beside raw librdkafka
// properties; fromBeginning/autoCommit are per consumer, not per subscribe/run; sendOffsets takes
// the consumer object (its group metadata fences zombies), not a group id; eachBatch sizes come
// from 'js.consumer.max.batch.size'; heartbeats are librdkafka's own.
import { createRequire } from 'node:module';
import type { KafkaJS as CK } from '@confluentinc/kafka-javascript';
import {
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_WAIT_MS,
  byTopic,
  defaultLog,
  groupByTopic,
  makeLog,
  normaliseHeaders,
  toRecordExtra,
  tpKey,
} from './common.js';
import {
  KafkaConfigError,
  KafkaConnectionError,
  KafkaError,
  KafkaProtocolError,
  KafkaTimeoutError,
  KafkaTransactionError,
  RETRIABLE_BROKER_CODES,
} from './errors.js';
import type {
  Admin,
  BatchContext,
  ConsumedRecord,
  Consumer,
  ConsumerOptions,
  IsolationLevel,
  KafkaClient,
  KafkaClientConfig,
  LogRecord,
  PartitionWatermarks,
  Producer,
  ProducerOptions,
  ProducerRecord,
  RebalanceEvent,
  RecordBatch,
  RunOptions,
  TopicPartition,
  TopicPartitionOffset,
  TopicPartitions,
  TopicSpec,
  Transaction,
} from './types.js';

type ConfluentKafkaJS = typeof CK;
let loaded: ConfluentKafkaJS | undefined;
let codeNames: Map<number, string> | undefined;

function lib(): ConfluentKafkaJS {
  if (!loaded) {
    const mod = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as {
      KafkaJS: ConfluentKafkaJS;
    };
    loaded = mod.KafkaJS;
  }
  return loaded;
}

const IMPL = 'confluent' as const;

function codeName(code: number | undefined): string {
  if (code === undefined) return 'ERR_UNKNOWN';
  if (!codeNames) {
    codeNames = new Map();
    for (const [name, n] of Object.entries(lib().ErrorCodes as Record<string, number>))
      codeNames.set(n, name);
  }
  return codeNames.get(code) ?? `ERR_${code}`;
}

// librdkafka retries these internally; when one still surfaces, the operation may succeed later.
const CONNECTION = new Set([
  'ERR__TRANSPORT',
  'ERR__ALL_BROKERS_DOWN',
  'ERR__RESOLVE',
  'ERR_NETWORK_EXCEPTION',
  'ERR__DESTROY',
]);
const TIMEOUT = new Set([
  'ERR__TIMED_OUT',
  'ERR__MSG_TIMED_OUT',
  'ERR_REQUEST_TIMED_OUT',
  'ERR__TIMED_OUT_QUEUE',
]);
const RETRIABLE = new Set([
  ...CONNECTION,
  ...TIMEOUT,
  'ERR__QUEUE_FULL',
  'ERR__WAIT_COORD',
  'ERR__IN_PROGRESS',
  'ERR__RETRY',
]);

interface ConfluentErrorShape {
  name?: string;
  message?: string;
  code?: number;
  retriable?: boolean;
  fatal?: boolean;
  abortable?: boolean;
  errors?: unknown[];
}

/** Translates a Confluent KafkaJS-API error (or anything thrown) into a KafkaError. */
export function fromConfluentError(e: unknown, op: string, subject?: string): KafkaError {
  if (e instanceof KafkaError) return e;
  const err = (e ?? {}) as ConfluentErrorShape;
  const message = `${op}${subject ? ` (${subject})` : ''}: ${err.message ?? String(e)}`;
  const base = { op, impl: IMPL, subject, cause: e };
  if (err.name === 'KafkaJSAggregateError' && Array.isArray(err.errors) && err.errors.length > 0) {
    const first = fromConfluentError(err.errors[0], op, subject);
    const detail = (err.errors[0] as { message?: string }).message;
    return new (first.constructor as typeof KafkaError)(detail ? `${message}: ${detail}` : message, {
      ...base,
      code: first.code,
      retriable: first.retriable,
      ...(first.brokerCode !== undefined && { brokerCode: first.brokerCode }),
    });
  }
  const name = codeName(err.code);
  // Positive codes are the broker's protocol codes: drop librdkafka's 'ERR_' to get Kafka's name.
  const broker = (err.code ?? 0) > 0;
  const retriable =
    err.retriable === true || RETRIABLE.has(name) || (broker && RETRIABLE_BROKER_CODES.has(err.code!));
  const code = broker && name.startsWith('ERR_') ? name.slice(4) : name;
  const info = {
    ...base,
    code,
    retriable,
    fatal: err.fatal === true,
    abortable: err.abortable === true,
    ...(broker && { brokerCode: err.code }),
  };
  if (code === 'ERR__INVALID_ARG' || code === 'ERR__NOT_IMPLEMENTED') {
    return new KafkaConfigError(message, { ...base, code });
  }
  if (op.startsWith('transaction')) return new KafkaTransactionError(message, info);
  if (CONNECTION.has(name)) return new KafkaConnectionError(message, info);
  if (TIMEOUT.has(name)) return new KafkaTimeoutError(message, info);
  if (broker) return new KafkaProtocolError(message, info);
  return new KafkaError(message, info);
}

async function wrap<T>(op: string, fn: () => Promise<T>, subject?: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fromConfluentError(e, op, subject);
  }
}

/** The Logger shape the Confluent KafkaJS API takes, writing LogRecords. */
function makeLogger(sink: (r: LogRecord) => void, namespace?: string): CK.Logger {
  const at =
    (level: LogRecord['level']) =>
    (message: string, extra?: object): void =>
      sink({
        level,
        message,
        ...(namespace && { namespace }),
        ...(extra && { extra: toRecordExtra(extra) }),
      });
  return {
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    namespace: (ns: string) => makeLogger(sink, namespace ? `${namespace}.${ns}` : ns),
    setLogLevel: () => undefined, // filtering happens in `sink`
  };
}

function commonConfig(cfg: KafkaClientConfig): CK.CommonConstructorConfig {
  const { logLevel } = lib();
  const level = cfg.logLevel ?? 'warn';
  const levels: Record<string, CK.logLevel> = {
    nothing: logLevel.NOTHING,
    error: logLevel.ERROR,
    warn: logLevel.WARN,
    info: logLevel.INFO,
    debug: logLevel.DEBUG,
  };
  const kafkaJS: CK.KafkaConfig = {
    brokers: cfg.brokers,
    clientId: cfg.clientId ?? 'ddcl',
    logLevel: levels[level],
    logger: makeLogger(makeLog(level, cfg.log ?? defaultLog)),
  };
  if (cfg.connectionTimeoutMs !== undefined) kafkaJS.connectionTimeout = cfg.connectionTimeoutMs;
  if (cfg.requestTimeoutMs !== undefined) kafkaJS.requestTimeout = cfg.requestTimeoutMs;
  if (cfg.sasl) {
    const { mechanism, username, password } = cfg.sasl;
    kafkaJS.sasl = { mechanism, username, password } as CK.SASLOptions;
  }
  const raw: Record<string, string | number | boolean> = {};
  if (cfg.ssl) {
    kafkaJS.ssl = true;
    if (typeof cfg.ssl === 'object') {
      const t = cfg.ssl;
      if (t.ca !== undefined) raw['ssl.ca.pem'] = t.ca;
      if (t.cert !== undefined) raw['ssl.certificate.pem'] = t.cert;
      if (t.key !== undefined) raw['ssl.key.pem'] = t.key;
      if (t.passphrase !== undefined) raw['ssl.key.password'] = t.passphrase;
      if (t.rejectUnauthorized === false) raw['enable.ssl.certificate.verification'] = false;
    }
  }
  Object.assign(raw, cfg.librdkafka ?? {});
  return { ...(raw as CK.CommonConstructorConfig), kafkaJS };
}

function toMessages(records: ProducerRecord[]): CK.Message[] {
  return records.map((r) => {
    const m: CK.Message = { value: r.value, key: r.key ?? null };
    if (r.headers) m.headers = r.headers;
    if (r.partition !== undefined) m.partition = r.partition;
    if (r.timestamp !== undefined) m.timestamp = String(r.timestamp);
    return m;
  });
}

function toTopicMessages(records: ProducerRecord[]): CK.TopicMessages[] {
  return [...groupByTopic(records)].map(([topic, rs]) => ({ topic, messages: toMessages(rs) }));
}

function toOffsets(offsets: TopicPartitionOffset[]): CK.TopicOffsets[] {
  return [...byTopic(offsets)].map(([topic, list]) => ({
    topic,
    partitions: list.map((o) => ({ partition: o.partition, offset: o.offset })),
  }));
}

class ConfluentProducer implements Producer {
  readonly transactional: boolean;
  /** librdkafka allows one transaction at a time per producer: later callers queue behind it. */
  private txChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly p: CK.Producer,
    transactional: boolean,
  ) {
    this.transactional = transactional;
  }

  async send(records: ProducerRecord[]): Promise<void> {
    if (this.transactional) {
      throw new KafkaConfigError('a transactional producer sends only inside transaction()', {
        op: 'producer.send',
        impl: IMPL,
        code: 'ERR__STATE',
      });
    }
    if (records.length === 0) return;
    await wrap('producer.send', () => this.p.sendBatch({ topicMessages: toTopicMessages(records) }));
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    if (!this.transactional) {
      return Promise.reject(
        new KafkaConfigError('transaction() needs a producer made with a transactionalId', {
          op: 'producer.transaction',
          impl: IMPL,
        }),
      );
    }
    const run = this.txChain.then(() => this.runTransaction(fn));
    this.txChain = run.catch(() => undefined);
    return run;
  }

  private async runTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const tx = await wrap('transaction.begin', () => this.p.transaction());
    const handle: Transaction = {
      send: async (records) => {
        if (records.length === 0) return;
        await wrap('transaction.send', () => tx.sendBatch({ topicMessages: toTopicMessages(records) }));
      },
      sendOffsets: async ({ consumer, offsets }) => {
        if (!(consumer instanceof ConfluentConsumer)) {
          throw new KafkaConfigError('sendOffsets needs a consumer of the same (confluent) client', {
            op: 'transaction.sendOffsets',
            impl: IMPL,
          });
        }
        await wrap('transaction.sendOffsets', () =>
          tx.sendOffsets({ consumer: consumer.native, topics: toOffsets(offsets) }),
        );
      },
    };
    let result: T;
    try {
      result = await fn(handle);
    } catch (e) {
      if (tx.isActive()) await wrap('transaction.abort', () => tx.abort());
      throw e;
    }
    try {
      await tx.commit();
    } catch (e) {
      const err = fromConfluentError(e, 'transaction.commit');
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      throw err;
    }
    return result;
  }

  async disconnect(): Promise<void> {
    await wrap('producer.disconnect', () => this.p.disconnect());
  }
}

function toConsumed(topic: string, partition: number, m: CK.KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    headers: normaliseHeaders(m.headers),
    timestamp: Number(m.timestamp),
  };
}

interface RebalanceError {
  code: number;
}

class ConfluentConsumer implements Consumer {
  readonly impl = IMPL;
  private running = false;
  /** Set by run(); called from the rebalance_cb given at construction. */
  onRebalance: ((ev: RebalanceEvent) => void | Promise<void>) | undefined;

  constructor(
    readonly native: CK.Consumer,
    readonly groupId: string,
  ) {}

  async handleRebalance(err: RebalanceError, assignment: TopicPartition[]): Promise<void> {
    const { ErrorCodes } = lib();
    const type = err.code === ErrorCodes.ERR__ASSIGN_PARTITIONS ? 'assign' : 'revoke';
    const partitions = assignment.map((a) => ({ topic: a.topic, partition: a.partition }));
    // Returning nothing lets the library apply the assignment change itself, after we return.
    await this.onRebalance?.({ type, partitions });
  }

  async subscribe(topics: string[]): Promise<void> {
    await wrap('consumer.subscribe', () => this.native.subscribe({ topics }), topics.join(','));
  }

  async run(options: RunOptions): Promise<void> {
    if (this.running) {
      throw new KafkaConfigError('run() was already called', {
        op: 'consumer.run',
        impl: IMPL,
        subject: this.groupId,
      });
    }
    this.running = true;
    this.onRebalance = options.onRebalance;
    await wrap('consumer.run', () =>
      this.native.run({
        // Resolving only moves the local position; commits stay ours (autoCommit is off).
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        eachBatch: async (p) => {
          const { batch } = p;
          if (batch.messages.length === 0) return;
          const ctx: BatchContext = {
            heartbeat: () => p.heartbeat(),
            isRunning: () => p.isRunning(),
            isStale: () => p.isStale(),
          };
          const rb: RecordBatch = {
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m)),
            highWatermark: batch.highWatermark,
          };
          // A throw makes the library seek back to the batch's first record: it is delivered again.
          await options.eachBatch(rb, ctx);
        },
      }),
    );
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await wrap(
      'consumer.commit',
      () =>
        this.native.commitOffsets(
          offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
        ),
      this.groupId,
    );
  }

  pause(partitions: TopicPartitions[]): void {
    try {
      this.native.pause(partitions);
    } catch (e) {
      throw fromConfluentError(e, 'consumer.pause', this.groupId);
    }
  }

  resume(partitions: TopicPartitions[]): void {
    try {
      this.native.resume(partitions);
    } catch (e) {
      throw fromConfluentError(e, 'consumer.resume', this.groupId);
    }
  }

  paused(): TopicPartition[] {
    return this.native
      .paused()
      .flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
  }

  assignment(): TopicPartition[] {
    try {
      return this.native.assignment().map((a) => ({ topic: a.topic, partition: a.partition }));
    } catch {
      return []; // not connected (any more)
    }
  }

  seek(position: TopicPartitionOffset): void {
    this.native.seek(position);
  }

  async disconnect(): Promise<void> {
    await wrap('consumer.disconnect', () => this.native.disconnect(), this.groupId);
  }
}

class ConfluentAdmin implements Admin {
  constructor(private readonly a: CK.Admin) {}

  async createTopics(topics: TopicSpec[], options?: { timeoutMs?: number }): Promise<boolean> {
    return wrap(
      'admin.createTopics',
      () =>
        this.a.createTopics({
          timeout: options?.timeoutMs ?? 10000,
          topics: topics.map((t) => ({
            topic: t.topic,
            numPartitions: t.numPartitions ?? -1,
            replicationFactor: t.replicationFactor ?? -1,
            configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        }),
      topics.map((t) => t.topic).join(','),
    );
  }

  async deleteTopics(topics: string[], options?: { timeoutMs?: number }): Promise<void> {
    if (topics.length === 0) return;
    await wrap(
      'admin.deleteTopics',
      () => this.a.deleteTopics({ topics, timeout: options?.timeoutMs ?? 10000 }),
      topics.join(','),
    );
  }

  listTopics(): Promise<string[]> {
    return wrap('admin.listTopics', () => this.a.listTopics());
  }

  async fetchOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]> {
    const [res, meta] = await Promise.all([
      wrap('admin.fetchOffsets', () => this.a.fetchOffsets({ groupId, topics }), groupId),
      wrap('admin.fetchTopicMetadata', () => this.a.fetchTopicMetadata({ topics }), topics.join(',')),
    ]);
    // librdkafka leaves out partitions without a commit; kafkajs (and our contract) lists them as '-1'.
    const found = new Map<string, string>();
    for (const t of res)
      for (const p of t.partitions) found.set(tpKey({ topic: t.topic, partition: p.partition }), p.offset);
    return meta.flatMap((t) =>
      t.partitions
        .map((p) => p.partitionId)
        .sort((a, b) => a - b)
        .map((partition) => ({
          topic: t.name,
          partition,
          offset: found.get(tpKey({ topic: t.name, partition })) ?? '-1',
        })),
    );
  }

  async fetchTopicOffsets(
    topic: string,
    isolationLevel: IsolationLevel = 'read_committed',
  ): Promise<PartitionWatermarks[]> {
    const { IsolationLevel: IL } = lib();
    const res = await wrap(
      'admin.fetchTopicOffsets',
      () =>
        this.a.fetchTopicOffsets(topic, {
          isolationLevel: isolationLevel === 'read_committed' ? IL.READ_COMMITTED : IL.READ_UNCOMMITTED,
        }),
      topic,
    );
    return res
      .map((p) => ({ partition: p.partition, low: p.low, high: p.high }))
      .sort((x, y) => x.partition - y.partition);
  }

  async fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<TopicPartitionOffset[]> {
    const res = await wrap(
      'admin.fetchTopicOffsetsByTimestamp',
      () => this.a.fetchTopicOffsetsByTimestamp(topic, timestamp),
      topic,
    );
    return res
      .map((p) => ({ topic, partition: p.partition, offset: p.offset }))
      .sort((x, y) => x.partition - y.partition);
  }

  async disconnect(): Promise<void> {
    await wrap('admin.disconnect', () => this.a.disconnect());
  }
}

export class ConfluentClient implements KafkaClient {
  readonly impl = IMPL;
  private kafka: CK.Kafka | undefined;

  constructor(private readonly config: KafkaClientConfig) {
    if (config.brokers.length === 0) {
      throw new KafkaConfigError('no brokers configured', { op: 'client.create', impl: IMPL });
    }
  }

  /** Loads the native module on first use, so a config that picks kafkajs never needs it. */
  private client(): CK.Kafka {
    if (!this.kafka) {
      try {
        this.kafka = new (lib().Kafka)(commonConfig(this.config));
      } catch (e) {
        throw new KafkaConfigError(`cannot load @confluentinc/kafka-javascript: ${String(e)}`, {
          op: 'client.create',
          impl: IMPL,
          cause: e,
        });
      }
    }
    return this.kafka;
  }

  async producer(options: ProducerOptions = {}): Promise<Producer> {
    const transactional = options.transactionalId !== undefined;
    const kafkaJS: CK.ProducerConfig = {
      idempotent: transactional || (options.idempotent ?? true),
      acks: -1,
      allowAutoTopicCreation: true,
      ...(transactional && {
        transactionalId: options.transactionalId,
        transactionTimeout: options.transactionTimeoutMs ?? 60000,
      }),
      ...(options.compression && { compression: options.compression as CK.CompressionTypes }),
    };
    const cfg: CK.ProducerConstructorConfig = { kafkaJS, 'linger.ms': options.lingerMs ?? 5 };
    const p = this.client().producer(cfg);
    await wrap('producer.connect', () => p.connect());
    return new ConfluentProducer(p, transactional);
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    const classic = (options.groupProtocol ?? 'classic') === 'classic';
    const kafkaJS: CK.ConsumerConfig = {
      groupId: options.groupId,
      fromBeginning: options.fromBeginning ?? false,
      autoCommit: false,
      readUncommitted: (options.isolationLevel ?? 'read_committed') === 'read_uncommitted',
      allowAutoTopicCreation: true,
      ...(classic && options.sessionTimeoutMs !== undefined && { sessionTimeout: options.sessionTimeoutMs }),
      ...(classic &&
        options.heartbeatIntervalMs !== undefined && { heartbeatInterval: options.heartbeatIntervalMs }),
      ...(options.maxPollIntervalMs !== undefined && { rebalanceTimeout: options.maxPollIntervalMs }),
      maxWaitTimeInMs: options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_MS,
    };
    // rebalance_cb must be in the constructor config; the wrapper it calls exists only after.
    const holder: { consumer?: ConfluentConsumer } = {};
    const cfg: CK.ConsumerConstructorConfig = {
      kafkaJS,
      'js.consumer.max.batch.size': Math.max(1, options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE),
      ...(!classic && { 'group.protocol': 'consumer' as const }),
      rebalance_cb: (err: RebalanceError, assignment: TopicPartition[]) =>
        holder.consumer?.handleRebalance(err, assignment),
    };
    const c = this.client().consumer(cfg);
    const consumer = new ConfluentConsumer(c, options.groupId);
    holder.consumer = consumer;
    await wrap('consumer.connect', () => c.connect(), options.groupId);
    return consumer;
  }

  async admin(): Promise<Admin> {
    const a = this.client().admin();
    await wrap('admin.connect', () => a.connect());
    return new ConfluentAdmin(a);
  }
}
