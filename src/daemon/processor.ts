// The per-batch hot path: decode -> featurize -> score (ONNX Runtime) -> calibrate -> explain ->
// output records for the sinks (enriched, alerts, dead letters). No logging per event, no
// allocation per event beyond the output records themselves.
import type { Type } from 'avsc';
import {
  RecordError,
  SchemaNotLoadedError,
  loadSchema,
  type Codec,
  type DecodedRecord,
} from '../codec/index.js';
import type { DdclMetrics } from '../obs/metrics.js';
import type { ServingModel } from '../serve/servingModel.js';
import type { ConsumedRecord, ProducerRecord, RecordBatch } from '../stream/types.js';
import type { BatchProcessor, ProcessedBatch } from './runner.js';

export interface SinkTopics {
  enrichedSuffix: string;
  alertsTopic: string;
  dlqTopic: string;
  /** Produce every scored event to `<topic><enrichedSuffix>`. */
  enriched: boolean;
}

export interface AlertInfo {
  source: { topic: string; partition: number; offset: string };
  key: Buffer | null;
  eventTime: number | null;
  record: DecodedRecord;
  score: number;
  grade: number;
  nearest: number;
  top: { name: string; value: number; expected: number; deviation: number; direction: 'above' | 'below' }[];
  model: { name: string; version: string };
}

export interface InlierSample {
  value: Buffer;
  timestamp: number;
}

export interface ProcessorOptions {
  codec: Codec;
  sinks: SinkTopics;
  alertThreshold: number;
  topFeatures: number;
  /** Field of the decoded record holding the event time (epoch ms); else the Kafka timestamp. */
  timeField?: string;
  metrics?: DdclMetrics;
  /** Called with every alert (the demo prints them). */
  onAlert?: (a: AlertInfo) => void;
  /** Called with the inliers of each batch (grade below the threshold): the training window. */
  onInliers?: (samples: InlierSample[], model: ServingModel) => void;
  /** Keep the decoded records of inliers for onInliers (default: raw bytes only). */
}

export class NoModelError extends Error {
  override readonly name = 'NoModelError';
  readonly retriable = true;
}

export class ScoringProcessor implements BatchProcessor {
  private model: ServingModel | undefined;
  /**
   * Feature buffers not in use. Batches of different partitions are processed concurrently
   * (batch.concurrency) and each holds its own buffer across the awaited scoring: ONNX Runtime
   * reads the input on its own thread, and the explanations read it afterwards.
   */
  private readonly buffers: Float32Array[] = [];
  private readonly alertType: Type = loadSchema('alert');
  private readonly enrichedType: Type = loadSchema('enriched');
  /** Scored event counts, for the demo's summary and tests. */
  readonly counts = { scored: 0, alerts: 0, dlq: 0 };

  constructor(private readonly opts: ProcessorOptions) {}

  /** The serving model; a swap takes effect at the next batch (the in-flight one keeps the old). */
  setModel(m: ServingModel): ServingModel | undefined {
    const old = this.model;
    this.model = m;
    return old;
  }

  get current(): ServingModel | undefined {
    return this.model;
  }

  async process(batch: RecordBatch): Promise<ProcessedBatch> {
    const m = this.model;
    if (!m) throw new NoModelError('no model loaded yet');
    const need = batch.records.length * m.dim;
    let X = this.buffers.pop() ?? new Float32Array(0);
    if (X.length < need) X = new Float32Array(need);
    try {
      return await this.processInto(batch, m, X);
    } finally {
      if (this.buffers.length < 8) this.buffers.push(X);
    }
  }

  private async processInto(batch: RecordBatch, m: ServingModel, X: Float32Array): Promise<ProcessedBatch> {
    const o = this.opts;
    const { records, topic, partition } = batch;
    const dim = m.dim;
    const out: ProducerRecord[] = [];
    const decoded: DecodedRecord[] = [];
    const rowOf: number[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      let rec: DecodedRecord;
      try {
        if (r.value === null) throw new NullValueError();
        try {
          rec = o.codec.decode(r.value);
        } catch (e) {
          // A Confluent id not cached yet: fetch the writer schema, then decode again.
          if (e instanceof SchemaNotLoadedError && 'decodeAsync' in o.codec)
            rec = await (o.codec as { decodeAsync(b: Buffer): Promise<DecodedRecord> }).decodeAsync(r.value);
          else throw e;
        }
        m.featurizer.featurize(rec, X, rowOf.length * dim);
      } catch (e) {
        if (!(e instanceof RecordError) && !(e instanceof NullValueError)) throw e;
        out.push(this.deadLetter(r, topic, partition, e));
        continue;
      }
      decoded.push(rec);
      rowOf.push(i);
    }
    const n = rowOf.length;
    if (n > 0) {
      const t0 = performance.now();
      const s = await m.score(X, n);
      o.metrics?.batchSeconds.observe({ stage: 'score' }, (performance.now() - t0) / 1000);
      const inliers: InlierSample[] = [];
      const now = Date.now();
      const modelRef = { name: m.name, version: m.version };
      for (let j = 0; j < n; j++) {
        const r = records[rowOf[j]!]!;
        const { z, grade } = m.calibrator.grade(s, j);
        const nearest = s.nearest[j]!;
        const isAlert = grade >= o.alertThreshold;
        o.metrics?.grade.observe(grade);
        const eventTime = this.eventTime(decoded[j]!, r);
        if (o.sinks.enriched) {
          out.push({
            topic: topic + o.sinks.enrichedSuffix,
            key: r.key,
            value: this.enrichedType.toBuffer({
              source: { topic, partition, offset: Number(r.offset) },
              key: r.key,
              event_time: eventTime,
              original: r.value,
              ddcl: {
                model_name: m.name,
                model_version: m.version,
                scored_at: now,
                score: z,
                grade,
                nearest_prototype: nearest,
                is_alert: isAlert,
              },
            }),
          });
        }
        if (isAlert) {
          const ex = m.explainer.explain(X, j * dim, nearest, o.topFeatures);
          const info: AlertInfo = {
            source: { topic, partition, offset: r.offset },
            key: r.key,
            eventTime,
            record: decoded[j]!,
            score: z,
            grade,
            nearest,
            top: ex.top,
            model: modelRef,
          };
          out.push({
            topic: o.sinks.alertsTopic,
            key: `${topic}-${partition}-${r.offset}`,
            value: this.alertType.toBuffer({
              source: { topic, partition, offset: Number(r.offset) },
              key: r.key,
              event_time: eventTime,
              detected_at: now,
              model: modelRef,
              score: z,
              grade,
              threshold: o.alertThreshold,
              nearest_prototype: nearest,
              top_features: ex.top.map((f) => ({
                ...f,
                direction: f.direction === 'above' ? 'ABOVE' : 'BELOW',
              })),
            }),
            headers: { 'ddcl-model': `${m.name}@${m.version}` },
          });
          this.counts.alerts++;
          o.metrics?.alerts.inc({ topic });
          o.onAlert?.(info);
        } else if (o.onInliers && r.value) inliers.push({ value: r.value, timestamp: r.timestamp });
      }
      this.counts.scored += n;
      if (inliers.length) o.onInliers?.(inliers, m);
    }
    return { out };
  }

  private eventTime(rec: DecodedRecord, r: ConsumedRecord): number | null {
    const f = this.opts.timeField;
    if (f) {
      const v = rec[f];
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (v instanceof Date) return v.getTime();
    }
    return Number.isFinite(r.timestamp) ? r.timestamp : null;
  }

  private deadLetter(
    r: ConsumedRecord,
    topic: string,
    partition: number,
    e: RecordError | NullValueError,
  ): ProducerRecord {
    this.counts.dlq++;
    const info =
      e instanceof RecordError
        ? e.toJSON()
        : {
            name: 'DecodeError',
            code: 'null_value',
            path: '$',
            value: 'null',
            reason: 'the message has no value',
          };
    this.opts.metrics?.dlq.inc({ code: info.code });
    return {
      topic: this.opts.sinks.dlqTopic,
      key: r.key,
      value: r.value ?? Buffer.alloc(0),
      headers: {
        'ddcl-error': info.name,
        'ddcl-error-code': info.code,
        'ddcl-error-path': info.path,
        'ddcl-error-value': info.value,
        'ddcl-error-reason': info.reason.slice(0, 512),
        'ddcl-source-topic': topic,
        'ddcl-source-partition': String(partition),
        'ddcl-source-offset': r.offset,
      },
    };
  }
}

class NullValueError extends Error {
  override readonly name = 'NullValueError';
}
