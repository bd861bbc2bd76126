// The Kafka side of the daemon: consume micro-batches, hand them to a processor, produce what it
// returns to the sinks, and commit offsets only after the sinks acknowledged.
//
// At-least-once (default): sends of successive batches overlap (up to `maxInFlight`), but each
// partition's acknowledgements are chained in offset order, so a commit never covers a record
// whose outputs were not acknowledged. Acknowledged offsets are committed together at most every
// `commitIntervalMs` (one request for all partitions instead of one per batch), and at once on
// revocation and stop. When the in-flight limit is reached, eachBatch waits for the oldest send:
// fetching stops (backpressure) instead of memory growing.
// Exactly-once (option): one transaction per batch carries the outputs and the consumer offsets.
import type { Logger } from '../obs/logger.js';
import type { DdclMetrics } from '../obs/metrics.js';
import { nextOffset } from '../stream/common.js';
import type {
  Consumer,
  ConsumerOptions,
  KafkaClient,
  Producer,
  ProducerRecord,
  RecordBatch,
  TopicPartition,
  TopicPartitionOffset,
} from '../stream/types.js';
import type { KafkaError } from '../stream/errors.js';

export interface ProcessedBatch {
  out: ProducerRecord[];
}

export interface BatchProcessor {
  process(batch: RecordBatch): Promise<ProcessedBatch>;
}

export interface RunnerOptions {
  client: KafkaClient;
  topics: string[];
  consumer: ConsumerOptions;
  delivery: 'at-least-once' | 'exactly-once';
  /** transactional.id for exactly-once; must be stable per instance across restarts. */
  transactionalId?: string;
  maxInFlight: number;
  /** Partitions whose batches are processed at once (default 1). */
  concurrency?: number;
  /** At-least-once: acknowledged offsets are committed together at most this often (default 100; 0 = per batch). */
  commitIntervalMs?: number;
  processor: BatchProcessor;
  log: Logger;
  metrics?: DdclMetrics;
  onAssignmentChange?: (assigned: TopicPartition[]) => void;
  /** Called once a batch's outputs are acknowledged (at-least-once) or its transaction committed. */
  onDelivered?: (batch: RecordBatch, at: number) => void;
}

const key = (t: string, p: number) => `${t}\u0000${p}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StreamRunner {
  private consumer?: Consumer;
  private producer?: Producer;
  private stopping = false;
  /** Per partition: the promise of its last commit (commits are chained in offset order; a rejection sticks). */
  private readonly chains = new Map<string, Promise<void>>();
  /** Sends not yet acknowledged, oldest first. */
  private readonly inFlight: Promise<void>[] = [];
  private assigned: TopicPartition[] = [];
  private crashed?: Error;
  /** Per partition: the next offset to commit, acknowledged but not committed yet. */
  private readonly committable = new Map<string, TopicPartitionOffset>();
  private commitTimer: NodeJS.Timeout | undefined;
  /** The commits in progress, one after another (a later one never lands before an earlier one). */
  private commits: Promise<void> = Promise.resolve();
  /** Exactly-once: one producer runs one transaction at a time; concurrent partitions queue here. */
  private txQueue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RunnerOptions) {}

  get assignment(): TopicPartition[] {
    return this.assigned;
  }

  get running(): boolean {
    return this.consumer !== undefined && !this.stopping && !this.crashed;
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.producer = await o.client.producer(
      o.delivery === 'exactly-once'
        ? { transactionalId: o.transactionalId ?? `ddcl-${o.consumer.groupId}` }
        : { idempotent: true },
    );
    this.consumer = await o.client.consumer({
      ...o.consumer,
      ...(o.delivery === 'exactly-once' ? { isolationLevel: 'read_committed' as const } : {}),
    });
    await this.consumer.subscribe(o.topics);
    await this.consumer.run({
      partitionsConsumedConcurrently: Math.max(1, o.concurrency ?? 1),
      eachBatch: (batch, ctx) => this.onBatch(batch, ctx.isStale),
      onRebalance: async (ev) => {
        if (ev.type === 'revoke') {
          // Let the revoked partitions' commits land before another member takes them over.
          await this.drain(ev.partitions);
          const gone = new Set(ev.partitions.map((p) => key(p.topic, p.partition)));
          for (const k of gone) this.chains.delete(k);
          this.assigned = this.assigned.filter((p) => !gone.has(key(p.topic, p.partition)));
        } else {
          for (const p of ev.partitions) this.chains.delete(key(p.topic, p.partition));
          const have = new Set(this.assigned.map((p) => key(p.topic, p.partition)));
          this.assigned = this.assigned.concat(
            ev.partitions.filter((p) => !have.has(key(p.topic, p.partition))),
          );
        }
        o.log.info('partitions changed', {
          type: ev.type,
          partitions: ev.partitions.length,
          assigned: this.assigned.length,
        });
        o.onAssignmentChange?.(this.assigned);
      },
      onCrash: (err) => {
        this.crashed = err;
        o.log.error('consumer crashed', { error: err.message });
      },
    });
  }

  private async onBatch(batch: RecordBatch, isStale: () => boolean): Promise<void> {
    if (this.stopping || batch.records.length === 0) return;
    const o = this.opts;
    const m = o.metrics;
    const t0 = performance.now();
    o.metrics?.eventsIn.inc({ topic: batch.topic }, batch.records.length);
    const processed = await o.processor.process(batch);
    m?.batchSeconds.observe({ stage: 'process' }, (performance.now() - t0) / 1000);
    if (isStale()) return; // revoked meanwhile: another member will process these records
    const last = batch.records[batch.records.length - 1]!;
    const offsets = [{ topic: batch.topic, partition: batch.partition, offset: nextOffset(last) }];
    if (batch.highWatermark !== '-1')
      m?.consumerLag.set(
        { topic: batch.topic, partition: String(batch.partition) },
        Number(BigInt(batch.highWatermark) - BigInt(offsets[0]!.offset)),
      );

    if (o.delivery === 'exactly-once') {
      const turn = this.txQueue.then(() => this.transactionWithRetry(processed.out, offsets, isStale));
      this.txQueue = turn.catch(() => undefined);
      await turn;
      o.onDelivered?.(batch, Date.now());
      this.countOut(processed.out);
      m?.batchSeconds.observe({ stage: 'end_to_end' }, (performance.now() - t0) / 1000);
      return;
    }

    const send = this.sendWithRetry(processed.out);
    const k = key(batch.topic, batch.partition);
    const prev = this.chains.get(k) ?? Promise.resolve();
    const chained = prev
      .then(() => send)
      .then(() => {
        o.onDelivered?.(batch, Date.now());
        this.countOut(processed.out);
        m?.batchSeconds.observe({ stage: 'end_to_end' }, (performance.now() - t0) / 1000);
        this.markCommittable(k, offsets[0]!);
      });
    // A failure here means we are stopping; the records stay uncommitted and are re-delivered.
    const settled = chained.catch((err: unknown) => {
      o.log.warn('batch not committed', {
        error: String(err),
        topic: batch.topic,
        partition: batch.partition,
      });
    });
    // The chain keeps the rejection: once a batch failed, no later offset of the partition commits.
    this.chains.set(k, chained);
    this.inFlight.push(settled);
    void settled.finally(() => {
      const i = this.inFlight.indexOf(settled);
      if (i >= 0) this.inFlight.splice(i, 1);
    });
    if (this.inFlight.length >= o.maxInFlight) {
      m?.paused.set(1);
      await this.inFlight[0];
      m?.paused.set(0);
    }
  }

  /** Records an acknowledged offset; the next flush commits it (chains call this in offset order). */
  private markCommittable(k: string, offset: TopicPartitionOffset): void {
    this.committable.set(k, offset);
    const interval = this.opts.commitIntervalMs ?? 100;
    if (interval <= 0) {
      void this.flushCommits();
      return;
    }
    this.commitTimer ??= setTimeout(() => void this.flushCommits(), interval);
  }

  /** Commits every acknowledged offset not committed yet; resolves when that commit is done. */
  private flushCommits(): Promise<void> {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    if (this.committable.size === 0) return this.commits;
    const offsets = [...this.committable.values()];
    this.committable.clear();
    this.commits = this.commits.then(() =>
      this.commitWithRetry(offsets).catch((err: unknown) => {
        // Not fatal for at-least-once: the records are delivered again after a restart.
        this.opts.log.warn('commit failed', { error: String(err), partitions: offsets.length });
      }),
    );
    return this.commits;
  }

  private countOut(out: ProducerRecord[]): void {
    const m = this.opts.metrics;
    if (!m) return;
    const counts = new Map<string, number>();
    for (const r of out) counts.set(r.topic, (counts.get(r.topic) ?? 0) + 1);
    for (const [sink, n] of counts) m.eventsOut.inc({ sink }, n);
  }

  /** The idempotent producer already retries; this outer loop rides out a broker restart. */
  private async sendWithRetry(out: ProducerRecord[]): Promise<void> {
    if (out.length === 0) return;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.producer!.send(out);
        return;
      } catch (err) {
        if (this.stopping && attempt > 0) throw err;
        this.opts.log.warn('produce failed, retrying', { error: (err as Error).message, attempt });
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  /**
   * One transaction for the batch's outputs and offsets. An aborted transaction left nothing
   * visible, so it is simply run again (e.g. CONCURRENT_TRANSACTIONS right after the previous
   * commit, or a broker restart); a fatal error (fenced: another instance took over) is thrown.
   */
  private async transactionWithRetry(
    out: ProducerRecord[],
    offsets: TopicPartitionOffset[],
    isStale: () => boolean,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.producer!.transaction(async (tx) => {
          if (out.length) await tx.send(out);
          await tx.sendOffsets({ consumer: this.consumer!, offsets });
        });
        return;
      } catch (err) {
        const e = err as Partial<KafkaError>;
        if (e.fatal || (this.stopping && attempt > 0) || attempt >= 20 || isStale()) throw err;
        this.opts.log.warn('transaction failed, retrying', { error: (err as Error).message, attempt });
        await sleep(Math.min(5000, 100 * 2 ** attempt));
      }
    }
  }

  private async commitWithRetry(
    offsets: { topic: string; partition: number; offset: string }[],
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.consumer!.commit(offsets);
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
        this.opts.log.warn('commit failed, retrying', { error: (err as Error).message, attempt });
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  /** Waits for the acknowledgements of these partitions (all when omitted), then commits them. */
  private async drain(partitions?: TopicPartition[]): Promise<void> {
    const keys = partitions ? partitions.map((p) => key(p.topic, p.partition)) : [...this.chains.keys()];
    await Promise.all(keys.map((k) => (this.chains.get(k) ?? Promise.resolve()).catch(() => undefined)));
    await this.flushCommits();
  }

  /** Graceful stop: no new batches, finish and commit the in-flight ones, close, within timeoutMs. */
  async stop(timeoutMs: number): Promise<{ clean: boolean }> {
    this.stopping = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const clean = await Promise.race([
      (async () => {
        await this.drain();
        await this.consumer?.disconnect();
        await this.producer?.disconnect();
        return true;
      })(),
      timeout,
    ]);
    clearTimeout(timer);
    return { clean };
  }

  get crashError(): Error | undefined {
    return this.crashed;
  }
}
