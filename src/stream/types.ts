// The small Kafka client surface the daemon codes against. Two implementations sit behind it:
// `confluent` (@confluentinc/kafka-javascript, librdkafka, through its KafkaJS-compatible API; the
// default) and `kafkajs` (pure JS fallback). Everything here is plain data; no library type leaks.
//
// Offsets are decimal strings (int64 does not fit a JS number). A committed offset is, as in
// Kafka itself, the offset of the NEXT record to read: after processing record r, commit
// `nextOffset(r)` = r.offset + 1.

export type KafkaImpl = 'confluent' | 'kafkajs';

export type LogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface LogRecord {
  level: Exclude<LogLevel, 'nothing'>;
  message: string;
  /** Which client part logged it (e.g. "Consumer", "librdkafka"). */
  namespace?: string;
  extra?: Record<string, unknown>;
}

/** TLS material as PEM text. `ssl: true` alone means TLS with the system trust store. */
export interface TlsConfig {
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
  /** Default true. false disables certificate verification (tests only). */
  rejectUnauthorized?: boolean;
}

export interface SaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface KafkaClientConfig {
  /** Default 'confluent'. */
  impl?: KafkaImpl;
  brokers: string[];
  clientId?: string;
  ssl?: boolean | TlsConfig;
  sasl?: SaslConfig;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Default 'warn'. */
  logLevel?: LogLevel;
  /** Where client logs go; default: error and warn as JSON lines on stderr. */
  log?: (record: LogRecord) => void;
  /** Raw librdkafka properties, passed through as they are (confluent only; ignored by kafkajs). */
  librdkafka?: Record<string, string | number | boolean>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** `offset`: the next offset to read (what a commit stores). */
export interface TopicPartitionOffset extends TopicPartition {
  offset: string;
}

/** A set of partitions of topics, as pause/resume take it; no `partitions` means all of the topic's. */
export interface TopicPartitions {
  topic: string;
  partitions?: number[];
}

export interface ProducerRecord {
  topic: string;
  key?: Buffer | string | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string>;
  partition?: number;
  /** Milliseconds since the epoch; default: the producer's clock. */
  timestamp?: number;
}

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProducerOptions {
  /** Default true (at-least-once without duplicates from producer retries). */
  idempotent?: boolean;
  /** Makes the producer transactional (implies idempotent); then only transaction() may send. */
  transactionalId?: string;
  /** Default 60000. */
  transactionTimeoutMs?: number;
  /** confluent only: librdkafka's linger.ms (default 5). */
  lingerMs?: number;
  compression?: Compression;
}

export interface Producer {
  readonly transactional: boolean;
  /** Resolves once the broker acknowledged every record (acks=all); rejects with a KafkaError otherwise. */
  send(records: ProducerRecord[]): Promise<void>;
  /**
   * Runs fn inside one Kafka transaction: commits when fn resolves, aborts when it throws (and
   * rethrows). Records sent and offsets added through `tx` become visible to read_committed
   * consumers atomically, or not at all.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  disconnect(): Promise<void>;
}

export interface Transaction {
  send(records: ProducerRecord[]): Promise<void>;
  /**
   * Adds the consumer group's offsets (next offsets to read) to the transaction, so they are
   * committed with it. `consumer` must come from the same KafkaClient implementation.
   */
  sendOffsets(args: { consumer: Consumer; offsets: TopicPartitionOffset[] }): Promise<void>;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** A header repeated under one key keeps its last value. */
  headers: Record<string, Buffer>;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** Records of one topic-partition, in offset order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** The partition's high watermark when fetched (for lag); '-1' when unknown. */
  highWatermark: string;
}

export interface BatchContext {
  /** Keeps group membership alive during long processing (a no-op where the library heartbeats itself). */
  heartbeat(): Promise<void>;
  /** false once the consumer is disconnecting: stop and return. */
  isRunning(): boolean;
  /** true when the batch's partition was revoked or seeked meanwhile: its records should be dropped. */
  isStale(): boolean;
}

export interface RebalanceEvent {
  type: 'assign' | 'revoke';
  partitions: TopicPartition[];
}

export interface RunOptions {
  /**
   * Called per micro-batch of one partition. Offsets are NOT committed automatically: call
   * `consumer.commit` once the sinks acknowledged. When it throws, the batch is delivered again
   * (from the last position reached; kafkajs retries with back-off and may restart the consumer).
   */
  eachBatch(batch: RecordBatch, ctx: BatchContext): Promise<void>;
  /**
   * Partitions assigned or revoked. confluent awaits it before the change takes effect; kafkajs
   * does not, and reports 'revoke' when it learns of a rebalance (its groups are eager: all
   * partitions go), not on disconnect.
   */
  onRebalance?(event: RebalanceEvent): void | Promise<void>;
  /**
   * The consumer stopped on an error it will not recover from by itself (kafkajs, after its
   * restarts gave up). librdkafka recovers by itself, so the confluent client never calls it.
   */
  onCrash?(error: Error): void;
  /** Default 1. */
  partitionsConsumedConcurrently?: number;
}

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface ConsumerOptions {
  groupId: string;
  /** Where a partition without a committed offset starts. Default false (latest). */
  fromBeginning?: boolean;
  /** Default read_committed. */
  isolationLevel?: IsolationLevel;
  /** Most records handed to one eachBatch call. Default 500. */
  maxBatchSize?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Longest time one eachBatch may take before the member is dropped (max.poll.interval / rebalance timeout). */
  maxPollIntervalMs?: number;
  /** How long the broker may hold a fetch waiting for data. Default 500. */
  maxWaitTimeMs?: number;
  /** confluent only: 'consumer' is the KIP-848 protocol of Kafka 4.x. Default 'classic'. */
  groupProtocol?: 'classic' | 'consumer';
}

export interface Consumer {
  readonly groupId: string;
  readonly impl: KafkaImpl;
  subscribe(topics: string[]): Promise<void>;
  /** Starts the fetch loop; resolves once it runs. Call once, after subscribe. */
  run(options: RunOptions): Promise<void>;
  /** Commits these offsets (next offsets to read) for the group; resolves when the coordinator stored them. */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Stops fetching from these partitions (backpressure); valid while they are assigned. */
  pause(partitions: TopicPartitions[]): void;
  resume(partitions: TopicPartitions[]): void;
  /** Partitions currently paused. */
  paused(): TopicPartition[];
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /** Moves the fetch position of one assigned partition. */
  seek(position: TopicPartitionOffset): void;
  /** Leaves the group and closes. Does not commit. */
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  /** Default: the broker's num.partitions. */
  numPartitions?: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic configs, e.g. { 'cleanup.policy': 'compact' }. */
  config?: Record<string, string>;
}

export interface PartitionWatermarks {
  partition: number;
  low: string;
  high: string;
}

export interface Admin {
  /** Creates the topics that do not exist yet; resolves true when all were created, false when some existed. */
  createTopics(topics: TopicSpec[], options?: { timeoutMs?: number }): Promise<boolean>;
  deleteTopics(topics: string[], options?: { timeoutMs?: number }): Promise<void>;
  listTopics(): Promise<string[]>;
  /** The group's committed offsets for these topics; '-1' for a partition without one. */
  fetchOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]>;
  /** Low and high watermarks per partition (read_committed: high is the last stable offset). */
  fetchTopicOffsets(topic: string, isolationLevel?: IsolationLevel): Promise<PartitionWatermarks[]>;
  /** Per partition, the earliest offset whose timestamp is >= ts (the high watermark when none is). */
  fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<TopicPartitionOffset[]>;
  disconnect(): Promise<void>;
}

export interface KafkaClient {
  readonly impl: KafkaImpl;
  /** A connected producer. */
  producer(options?: ProducerOptions): Promise<Producer>;
  /** A connected consumer (not yet subscribed). */
  consumer(options: ConsumerOptions): Promise<Consumer>;
  /** A connected admin client. */
  admin(): Promise<Admin>;
}
