// KafkaClient on kafkajs (pure JS). The fallback where the native Confluent client is unavailable.
import { createRequire } from 'node:module';
import type * as K from 'kafkajs';
import {
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_WAIT_MS,
  byTopic,
  defaultLog,
  expandPartitions,
  groupByTopic,
  makeLog,
  normaliseHeaders,
  toRecordExtra,
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
  KafkaClient,
  KafkaClientConfig,
  LogRecord,
  PartitionWatermarks,
  Producer,
  ProducerOptions,
  ProducerRecord,
  RecordBatch,
  RunOptions,
  TopicPartition,
  TopicPartitionOffset,
  TopicPartitions,
  TopicSpec,
  Transaction,
} from './types.js';

type KafkajsModule = typeof K;
let loaded: KafkajsModule | undefined;
function lib(): KafkajsModule {
  if (!loaded) loaded = createRequire(import.meta.url)('kafkajs') as KafkajsModule;
  return loaded;
}

const IMPL = 'kafkajs' as const;

interface KafkajsErrorShape {
  name?: string;
  message?: string;
  retriable?: boolean;
  type?: string;
  code?: number;
  originalError?: unknown;
  cause?: unknown;
  errors?: unknown[];
}

/** Translates a kafkajs error (or anything thrown) into a KafkaError. */
export function fromKafkajsError(e: unknown, op: string, subject?: string): KafkaError {
  if (e instanceof KafkaError) return e;
  const err = (e ?? {}) as KafkajsErrorShape;
  const name = err.name ?? 'Error';
  const message = `${op}${subject ? ` (${subject})` : ''}: ${err.message ?? String(e)}`;
  // After kafkajs exhausted its own retries, what counts is what went wrong underneath.
  const underneath = err.cause ?? err.originalError;
  const inner =
    name === 'KafkaJSNumberOfRetriesExceeded' && underneath && typeof underneath === 'object'
      ? (underneath as KafkajsErrorShape)
      : err;
  const innerName = inner.name ?? name;
  const base = { op, impl: IMPL, subject, cause: e };
  if (name === 'KafkaJSAggregateError' && Array.isArray(err.errors) && err.errors.length > 0) {
    const first = fromKafkajsError(err.errors[0], op, subject);
    const detail = (err.errors[0] as { message?: string }).message;
    return new (first.constructor as typeof KafkaError)(detail ? `${message}: ${detail}` : message, {
      ...base,
      code: first.code,
      retriable: first.retriable,
      ...(first.brokerCode !== undefined && { brokerCode: first.brokerCode }),
    });
  }
  if (
    innerName === 'KafkaJSConnectionError' ||
    innerName === 'KafkaJSConnectionClosedError' ||
    innerName === 'KafkaJSNoBrokerAvailableError' ||
    innerName === 'KafkaJSBrokerNotFound'
  ) {
    return new KafkaConnectionError(message, { ...base, code: innerName, retriable: true });
  }
  if (
    innerName === 'KafkaJSRequestTimeoutError' ||
    innerName === 'KafkaJSTimeout' ||
    innerName === 'KafkaJSLockTimeout'
  ) {
    return new KafkaTimeoutError(message, { ...base, code: innerName, retriable: true });
  }
  if (inner.type) {
    const fatal =
      inner.type === 'INVALID_PRODUCER_EPOCH' ||
      inner.type === 'PRODUCER_FENCED' ||
      inner.type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED';
    const Cls = op.startsWith('transaction') ? KafkaTransactionError : KafkaProtocolError;
    return new Cls(message, {
      ...base,
      code: inner.type,
      ...(typeof inner.code === 'number' && { brokerCode: inner.code }),
      retriable:
        inner.retriable === true ||
        (typeof inner.code === 'number' && RETRIABLE_BROKER_CODES.has(inner.code)),
      fatal,
      abortable: Cls === KafkaTransactionError && !fatal,
    });
  }
  if (
    innerName === 'KafkaJSNonRetriableError' ||
    innerName === 'KafkaJSInvariantViolation' ||
    innerName === 'KafkaJSNotImplemented'
  ) {
    return new KafkaError(message, { ...base, code: innerName, retriable: false });
  }
  return new KafkaError(message, { ...base, code: innerName, retriable: inner.retriable === true });
}

async function wrap<T>(op: string, fn: () => Promise<T>, subject?: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fromKafkajsError(e, op, subject);
  }
}

function levelName(l: K.logLevel): LogRecord['level'] {
  const { logLevel } = lib();
  if (l === logLevel.ERROR) return 'error';
  if (l === logLevel.WARN) return 'warn';
  if (l === logLevel.INFO) return 'info';
  return 'debug';
}

function kafkajsConfig(cfg: KafkaClientConfig): K.KafkaConfig {
  const { logLevel } = lib();
  const level = cfg.logLevel ?? 'warn';
  const sink = makeLog(level, cfg.log ?? defaultLog);
  const levels: Record<string, K.logLevel> = {
    nothing: logLevel.NOTHING,
    error: logLevel.ERROR,
    warn: logLevel.WARN,
    info: logLevel.INFO,
    debug: logLevel.DEBUG,
  };
  const out: K.KafkaConfig = {
    brokers: cfg.brokers,
    clientId: cfg.clientId ?? 'ddcl',
    logLevel: levels[level],
    logCreator: () => (entry: K.LogEntry) => {
      const { message, ...extra } = entry.log;
      sink({
        level: levelName(entry.level),
        message: String(message),
        namespace: entry.namespace,
        extra: toRecordExtra(extra),
      });
    },
  };
  if (cfg.connectionTimeoutMs !== undefined) out.connectionTimeout = cfg.connectionTimeoutMs;
  if (cfg.requestTimeoutMs !== undefined) out.requestTimeout = cfg.requestTimeoutMs;
  if (cfg.ssl === true) out.ssl = true;
  else if (cfg.ssl && typeof cfg.ssl === 'object') {
    const t = cfg.ssl;
    out.ssl = {
      ...(t.ca !== undefined && { ca: t.ca }),
      ...(t.cert !== undefined && { cert: t.cert }),
      ...(t.key !== undefined && { key: t.key }),
      ...(t.passphrase !== undefined && { passphrase: t.passphrase }),
      rejectUnauthorized: t.rejectUnauthorized ?? true,
    };
  }
  if (cfg.sasl) {
    const { mechanism, username, password } = cfg.sasl;
    out.sasl =
      mechanism === 'plain'
        ? { mechanism, username, password }
        : mechanism === 'scram-sha-256'
          ? { mechanism, username, password }
          : { mechanism, username, password };
  }
  return out;
}

function toMessages(records: ProducerRecord[]): K.Message[] {
  return records.map((r) => {
    const m: K.Message = { value: r.value, key: r.key ?? null };
    if (r.headers) m.headers = r.headers;
    if (r.partition !== undefined) m.partition = r.partition;
    if (r.timestamp !== undefined) m.timestamp = String(r.timestamp);
    return m;
  });
}

function toTopicMessages(records: ProducerRecord[]): K.TopicMessages[] {
  return [...groupByTopic(records)].map(([topic, rs]) => ({ topic, messages: toMessages(rs) }));
}

function toOffsets(offsets: TopicPartitionOffset[]): K.TopicOffsets[] {
  return [...byTopic(offsets)].map(([topic, list]) => ({
    topic,
    partitions: list.map((o) => ({ partition: o.partition, offset: o.offset })),
  }));
}

class KafkajsProducer implements Producer {
  readonly transactional: boolean;
  /** One transaction at a time per producer: later callers queue behind the running one. */
  private txChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly p: K.Producer,
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
    // With one request in flight (idempotent), sends that arrive while one is on the wire go out
    // together in the next request, in call order (so per-partition order holds), instead of
    // each waiting its own round trip.
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ records, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private readonly queued: {
    records: ProducerRecord[];
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  private flushing = false;

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queued.length > 0) {
        let n = 0;
        let take = 0;
        while (take < this.queued.length && (take === 0 || n + this.queued[take]!.records.length <= 10_000))
          n += this.queued[take++]!.records.length;
        const group = this.queued.splice(0, take);
        const all = group.length === 1 ? group[0]!.records : group.flatMap((g) => g.records);
        try {
          await wrap('producer.send', () =>
            this.p.sendBatch({ topicMessages: toTopicMessages(all), acks: -1 }),
          );
          for (const g of group) g.resolve();
        } catch (e) {
          for (const g of group) g.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    if (!this.transactional) {
      throw new KafkaConfigError('transaction() needs a producer made with a transactionalId', {
        op: 'producer.transaction',
        impl: IMPL,
      });
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
        await wrap('transaction.send', () =>
          tx.sendBatch({ topicMessages: toTopicMessages(records), acks: -1 }),
        );
      },
      sendOffsets: async ({ consumer, offsets }) => {
        if (!(consumer instanceof KafkajsConsumer)) {
          throw new KafkaConfigError('sendOffsets needs a consumer of the same (kafkajs) client', {
            op: 'transaction.sendOffsets',
            impl: IMPL,
          });
        }
        await wrap('transaction.sendOffsets', () =>
          tx.sendOffsets({ consumerGroupId: consumer.groupId, topics: toOffsets(offsets) }),
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
      const err = fromKafkajsError(e, 'transaction.commit');
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      throw err;
    }
    return result;
  }

  async disconnect(): Promise<void> {
    await wrap('producer.disconnect', () => this.p.disconnect());
  }
}

function toConsumed(topic: string, partition: number, m: K.KafkaMessage): ConsumedRecord {
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

class KafkajsConsumer implements Consumer {
  readonly impl = IMPL;
  private assigned: TopicPartition[] = [];
  private subscribed: string[] = [];
  private running = false;
  private readonly removers: (() => void)[] = [];

  constructor(
    private readonly c: K.Consumer,
    readonly groupId: string,
    private readonly opts: ConsumerOptions,
  ) {}

  async subscribe(topics: string[]): Promise<void> {
    this.subscribed.push(...topics);
    await wrap(
      'consumer.subscribe',
      () => this.c.subscribe({ topics, fromBeginning: this.opts.fromBeginning ?? false }),
      topics.join(','),
    );
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
    const { events } = this.c;
    this.removers.push(
      this.c.on(events.GROUP_JOIN, (ev) => {
        const next: TopicPartition[] = [];
        for (const [topic, parts] of Object.entries(ev.payload.memberAssignment)) {
          for (const partition of parts) next.push({ topic, partition });
        }
        this.assigned = next;
        void Promise.resolve(options.onRebalance?.({ type: 'assign', partitions: next })).catch(
          () => undefined,
        );
      }),
      this.c.on(events.REBALANCING, () => {
        const prev = this.assigned;
        this.assigned = [];
        if (prev.length) {
          void Promise.resolve(options.onRebalance?.({ type: 'revoke', partitions: prev })).catch(
            () => undefined,
          );
        }
      }),
      this.c.on(events.CRASH, (ev) => {
        if (!ev.payload.restart)
          options.onCrash?.(fromKafkajsError(ev.payload.error, 'consumer.run', this.groupId));
      }),
    );
    const maxBatch = Math.max(1, this.opts.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE);
    await wrap('consumer.run', () =>
      this.c.run({
        autoCommit: false,
        // We resolve ourselves, chunk by chunk: kafkajs fetches again from the last resolved offset,
        // so a chunk not handed out (paused, stopping, stale) is fetched again rather than skipped.
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        eachBatch: async (p) => {
          const { batch } = p;
          const ctx: BatchContext = {
            heartbeat: () => p.heartbeat(),
            isRunning: () => p.isRunning(),
            isStale: () => p.isStale(),
          };
          const isPaused = () =>
            this.c.paused().some((t) => t.topic === batch.topic && t.partitions.includes(batch.partition));
          for (let i = 0; i < batch.messages.length; i += maxBatch) {
            if (!p.isRunning() || p.isStale() || isPaused()) return;
            const slice = batch.messages.slice(i, i + maxBatch);
            const rb: RecordBatch = {
              topic: batch.topic,
              partition: batch.partition,
              records: slice.map((m) => toConsumed(batch.topic, batch.partition, m)),
              highWatermark: batch.highWatermark,
            };
            await options.eachBatch(rb, ctx);
            // A seek (or revocation) during the call moved the position: resolving would undo it.
            if (p.isStale()) return;
            p.resolveOffset(slice[slice.length - 1]!.offset);
            await p.heartbeat();
          }
        },
      }),
    );
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await wrap(
      'consumer.commit',
      () =>
        this.c.commitOffsets(
          offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
        ),
      this.groupId,
    );
  }

  pause(partitions: TopicPartitions[]): void {
    this.c.pause(partitions);
  }

  resume(partitions: TopicPartitions[]): void {
    this.c.resume(partitions);
  }

  paused(): TopicPartition[] {
    return expandPartitions(this.c.paused(), this.assigned);
  }

  assignment(): TopicPartition[] {
    return [...this.assigned];
  }

  seek(position: TopicPartitionOffset): void {
    this.c.seek(position);
  }

  async disconnect(): Promise<void> {
    for (const r of this.removers.splice(0)) r();
    this.assigned = [];
    await wrap('consumer.disconnect', () => this.c.disconnect(), this.groupId);
  }

  /** Which topics subscribe() was given (for diagnostics). */
  topics(): string[] {
    return [...this.subscribed];
  }
}

class KafkajsAdmin implements Admin {
  constructor(private readonly a: K.Admin) {}

  async createTopics(topics: TopicSpec[], options?: { timeoutMs?: number }): Promise<boolean> {
    return wrap(
      'admin.createTopics',
      () =>
        this.a.createTopics({
          waitForLeaders: true,
          ...(options?.timeoutMs !== undefined && { timeout: options.timeoutMs }),
          topics: topics.map((t) => ({
            topic: t.topic,
            ...(t.numPartitions !== undefined && { numPartitions: t.numPartitions }),
            ...(t.replicationFactor !== undefined && { replicationFactor: t.replicationFactor }),
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
      () =>
        this.a.deleteTopics({
          topics,
          ...(options?.timeoutMs !== undefined && { timeout: options.timeoutMs }),
        }),
      topics.join(','),
    );
  }

  listTopics(): Promise<string[]> {
    return wrap('admin.listTopics', () => this.a.listTopics());
  }

  async fetchOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]> {
    const res = await wrap('admin.fetchOffsets', () => this.a.fetchOffsets({ groupId, topics }), groupId);
    return res.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })),
    );
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionWatermarks[]> {
    // kafkajs' admin always lists offsets read_committed.
    const res = await wrap('admin.fetchTopicOffsets', () => this.a.fetchTopicOffsets(topic), topic);
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

export class KafkajsClient implements KafkaClient {
  readonly impl = IMPL;
  private readonly kafka: K.Kafka;

  constructor(config: KafkaClientConfig) {
    if (config.brokers.length === 0) {
      throw new KafkaConfigError('no brokers configured', { op: 'client.create', impl: IMPL });
    }
    this.kafka = new (lib().Kafka)(kafkajsConfig(config));
  }

  async producer(options: ProducerOptions = {}): Promise<Producer> {
    const transactional = options.transactionalId !== undefined;
    const idempotent = transactional || (options.idempotent ?? true);
    const cfg: K.ProducerConfig = {
      idempotent,
      allowAutoTopicCreation: true,
      // kafkajs keeps ordering and idempotence only with one request in flight.
      ...(idempotent && { maxInFlightRequests: 1 }),
      ...(transactional && {
        transactionalId: options.transactionalId,
        transactionTimeout: options.transactionTimeoutMs ?? 60000,
      }),
    };
    const p = this.kafka.producer(cfg);
    await wrap('producer.connect', () => p.connect());
    return new KafkajsProducer(p, transactional);
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    if (options.groupProtocol === 'consumer') {
      throw new KafkaConfigError("kafkajs supports only the 'classic' group protocol", {
        op: 'consumer.create',
        impl: IMPL,
        subject: options.groupId,
      });
    }
    const cfg: K.ConsumerConfig = {
      groupId: options.groupId,
      readUncommitted: (options.isolationLevel ?? 'read_committed') === 'read_uncommitted',
      allowAutoTopicCreation: true,
      ...(options.sessionTimeoutMs !== undefined && { sessionTimeout: options.sessionTimeoutMs }),
      ...(options.heartbeatIntervalMs !== undefined && { heartbeatInterval: options.heartbeatIntervalMs }),
      ...(options.maxPollIntervalMs !== undefined && { rebalanceTimeout: options.maxPollIntervalMs }),
      // kafkajs' own default (5 s) also delays disconnect by up to that long.
      maxWaitTimeInMs: options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_MS,
    };
    const c = this.kafka.consumer(cfg);
    await wrap('consumer.connect', () => c.connect(), options.groupId);
    return new KafkajsConsumer(c, options.groupId, options);
  }

  async admin(): Promise<Admin> {
    const a = this.kafka.admin();
    await wrap('admin.connect', () => a.connect());
    return new KafkajsAdmin(a);
  }
}
