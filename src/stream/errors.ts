// Typed errors for the stream layer. Callers branch on the class or on `retriable`/`fatal`, never
// on message text. Each implementation translates its library's errors into these (see
// confluent.ts, kafkajs.ts); the original stays reachable as `cause`.
import type { KafkaImpl } from './types.js';

export interface KafkaErrorInfo {
  /**
   * The library's name for the error: for broker errors the Kafka protocol name as the library
   * spells it (e.g. 'INVALID_CONFIG'; librdkafka abbreviates a few, e.g. 'UNKNOWN_TOPIC_OR_PART'),
   * for local ones e.g. 'ERR__TRANSPORT' (confluent) or 'KafkaJSConnectionError' (kafkajs).
   * Compare `brokerCode` across implementations.
   */
  code: string;
  /** The Kafka protocol error code when the broker answered with an error (same for both implementations). */
  brokerCode?: number;
  /** Trying the same operation again may succeed. */
  retriable: boolean;
  /** The client (e.g. a fenced transactional producer) is unusable: make a new one. */
  fatal?: boolean;
  /** For transactions: abort the current transaction, then the producer can go on. */
  abortable?: boolean;
  /** What was being done, e.g. 'producer.send', 'consumer.commit'. */
  op: string;
  impl?: KafkaImpl;
  /** The topic, group or other value the operation was about. */
  subject?: string;
  cause?: unknown;
}

export class KafkaError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly fatal: boolean;
  readonly abortable: boolean;
  readonly op: string;
  readonly impl: KafkaImpl | undefined;
  readonly subject: string | undefined;
  readonly brokerCode: number | undefined;

  constructor(message: string, info: KafkaErrorInfo) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = new.target.name;
    this.code = info.code;
    this.retriable = info.retriable;
    this.fatal = info.fatal ?? false;
    this.abortable = info.abortable ?? false;
    this.op = info.op;
    this.impl = info.impl;
    this.subject = info.subject;
    this.brokerCode = info.brokerCode;
  }
}

/** Invalid options or a misuse of the API (e.g. send() on a transactional producer). Never retriable. */
export class KafkaConfigError extends KafkaError {
  constructor(message: string, info: Omit<KafkaErrorInfo, 'retriable' | 'code'> & { code?: string }) {
    super(message, { ...info, code: info.code ?? 'INVALID_CONFIG', retriable: false });
  }
}

/** The broker could not be reached or the connection dropped. */
export class KafkaConnectionError extends KafkaError {}

/** A request or delivery did not complete in time. */
export class KafkaTimeoutError extends KafkaError {}

/** The broker answered with an error code (unknown topic, not coordinator, authorization...). */
export class KafkaProtocolError extends KafkaError {}

/** A transaction could not begin, send, add offsets, commit or abort. See `abortable` and `fatal`. */
export class KafkaTransactionError extends KafkaError {}

/**
 * Kafka protocol error codes a client may retry (Kafka's RetriableException family, plus
 * REBALANCE_IN_PROGRESS, which clears once the member rejoined). Both libraries under-report some
 * of these (librdkafka names 14 GROUP_LOAD_IN_PROGRESS and flags none outside transactions).
 */
export const RETRIABLE_BROKER_CODES: ReadonlySet<number> = new Set([
  2, // CORRUPT_MESSAGE
  3, // UNKNOWN_TOPIC_OR_PARTITION
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  8, // REPLICA_NOT_AVAILABLE
  13, // NETWORK_EXCEPTION
  14, // COORDINATOR_LOAD_IN_PROGRESS
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR
  19, // NOT_ENOUGH_REPLICAS
  20, // NOT_ENOUGH_REPLICAS_AFTER_APPEND
  27, // REBALANCE_IN_PROGRESS
  51, // CONCURRENT_TRANSACTIONS
  56, // KAFKA_STORAGE_ERROR
  72, // LISTENER_NOT_FOUND
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
  78, // OFFSET_NOT_AVAILABLE
  80, // PREFERRED_LEADER_NOT_AVAILABLE
  89, // THROTTLING_QUOTA_EXCEEDED
  100, // UNKNOWN_TOPIC_ID
  103, // INCONSISTENT_TOPIC_ID
]);

export function isKafkaError(e: unknown): e is KafkaError {
  return e instanceof KafkaError;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : JSON.stringify(e);
}
