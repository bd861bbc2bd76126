// The training job as it crosses the thread boundary: plain, structured-cloneable data, with the
// big arrays (window bytes, parent weights, the ONNX graph and weights coming back) transferred.
// Shared by the main-thread side (worker.ts) and the worker entry (trainWorker.ts), and usable in
// process (runTrainJob) where no worker is wanted.
import {
  AvroCodec,
  ConfluentCodec,
  JsonCodec,
  LocalSchemaSource,
  RegistrySchemaSource,
  SchemaNotLoadedError,
  RecordError,
  type Codec,
  type DecodedRecord,
  type RegistrySourceOptions,
} from '../../codec/index.js';
import { Featurizer, type FeatureSpec } from '../../features/index.js';
import type { ArtifactParts, JsonValue, WeightsPart } from '../../registry/artifact.js';
import type { CalibrationOptions } from '../../serve/calibration.js';
import type { DeviceRequest } from '../../serve/device.js';
import { buildModel, partToTrainWeights, pickScoreTerms, type ScoreTermOptions } from '../buildModel.js';
import type { TrainConfig } from '../config.js';
import { RetrainError } from './errors.js';
import { unpackSamples, type PackedSamples } from './window.js';

/** How the window's bytes are decoded; schemas as JSON (.avsc contents). */
export type CodecConfig =
  | { format: 'json'; schema?: object; maxBytes?: number }
  | { format: 'avro'; readerSchema: object; writerSchema?: object }
  | {
      format: 'confluent';
      readerSchema: object;
      /** schema id -> writer schema (registry-less) */ schemas?: Record<string, object>;
      registry?: RegistrySourceOptions;
    };

export interface TrainJob {
  samples: PackedSamples;
  codec: CodecConfig;
  spec: FeatureSpec;
  /** true: `spec` is fitted (a serving featurizer's) and is reused as is, for fine-tuning. */
  specFitted: boolean;
  /** Without `resume`: that is `parentWeights`. */
  train: Partial<Omit<TrainConfig, 'resume'>>;
  /** The parent version's training weights, to start from (fine-tuning). */
  parentWeights?: WeightsPart;
  /**
   * Where to train (model.device): the worker starts tfjs through selectTrainDevice and reports
   * what ran in the summary. Ignored when `train.engine` is set. Default: the engine's own choice.
   */
  device?: DeviceRequest;
  build: ScoreTermOptions & {
    holdoutFraction?: number;
    maxTrainRows?: number;
    calibration?: CalibrationOptions;
    parentVersion?: string | null;
    inputSchemaFingerprint?: string;
    trainingWindow?: JsonValue;
  };
}

export interface TrainSummary {
  seconds: number;
  backend: string;
  /** Set when the job asked for a device: what was asked, what ran, and why it fell back. */
  device?: { requested: DeviceRequest; actual: string; fellBack: boolean; reasons: string[] };
  decodeErrors: number;
  rows: { total: number; refused: number; train: number; calibration: number };
}

export type TrainReply =
  | { ok: true; parts: ArtifactParts; summary: TrainSummary }
  | { ok: false; error: { name: string; message: string; stack?: string } };

export function makeCodec(c: CodecConfig): Codec {
  switch (c.format) {
    case 'json':
      return new JsonCodec({
        ...(c.schema ? { schema: c.schema } : {}),
        ...(c.maxBytes ? { maxBytes: c.maxBytes } : {}),
      });
    case 'avro':
      return new AvroCodec(c.readerSchema, c.writerSchema);
    case 'confluent': {
      const source = c.registry
        ? new RegistrySchemaSource(c.registry)
        : new LocalSchemaSource(
            Object.fromEntries(Object.entries(c.schemas ?? {}).map(([k, v]) => [Number(k), v])),
          );
      return new ConfluentCodec({ source, readerSchema: c.readerSchema });
    }
    default:
      throw new RetrainError(
        'bad-job',
        `unknown codec format ${JSON.stringify((c as { format: unknown }).format)}`,
        false,
      );
  }
}

/** Decodes every sample; undecodable ones are counted and left out (the DLQ already has them). */
export async function decodeAll(
  codec: Codec,
  values: readonly Buffer[],
): Promise<{ records: DecodedRecord[]; errors: number }> {
  const records: DecodedRecord[] = [];
  let errors = 0;
  for (const v of values) {
    try {
      try {
        records.push(codec.decode(v));
      } catch (e) {
        if (e instanceof SchemaNotLoadedError && codec instanceof ConfluentCodec)
          records.push(await codec.decodeAsync(v));
        else throw e;
      }
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      errors++;
    }
  }
  return { records, errors };
}

/** The job's work, wherever it runs: decode, build, hand back the parts. */
export async function runTrainJob(job: TrainJob): Promise<{ parts: ArtifactParts; summary: TrainSummary }> {
  const t0 = performance.now();
  const samples = unpackSamples(job.samples);
  if (samples.length === 0) throw new RetrainError('bad-job', 'the window is empty', false);
  const { records, errors } = await decodeAll(
    makeCodec(job.codec),
    samples.map((s) => s.value),
  );
  let train: Partial<Omit<TrainConfig, 'resume'>> = job.train;
  let device: TrainSummary['device'];
  if (job.device && job.train.engine === undefined) {
    // An explicit cuda or webgpu that cannot start throws (DeviceUnavailableError): the run fails
    // with that reason rather than training on the CPU unasked.
    const { selectTrainDevice } = await import('../../model/trainDevice.js');
    const r = await selectTrainDevice(job.device);
    train = { ...train, engine: r.engine };
    device = { requested: r.requested, actual: r.actual, fellBack: r.fellBack, reasons: r.reasons };
  }
  const built = await buildModel(job.spec, records, {
    train: { ...train, ...(job.parentWeights ? { resume: partToTrainWeights(job.parentWeights) } : {}) },
    ...(job.specFitted ? { featurizer: new Featurizer(job.spec) } : {}),
    ...(job.build.holdoutFraction !== undefined ? { holdoutFraction: job.build.holdoutFraction } : {}),
    ...(job.build.maxTrainRows !== undefined ? { maxTrainRows: job.build.maxTrainRows } : {}),
    ...(job.build.calibration ? { calibration: job.build.calibration } : {}),
    ...pickScoreTerms(job.build),
    ...(job.build.parentVersion !== undefined ? { parentVersion: job.build.parentVersion } : {}),
    ...(job.build.inputSchemaFingerprint !== undefined
      ? { inputSchemaFingerprint: job.build.inputSchemaFingerprint }
      : {}),
    ...(job.build.trainingWindow !== undefined ? { trainingWindow: job.build.trainingWindow } : {}),
  });
  return {
    parts: built.parts,
    summary: {
      seconds: (performance.now() - t0) / 1000,
      backend: built.result.backend,
      ...(device ? { device } : {}),
      decodeErrors: errors,
      rows: built.rows,
    },
  };
}

/** ArrayBuffers behind the big arrays of a job or of parts, each once (transfer lists refuse duplicates). */
export function transferables(...views: (ArrayBufferView | undefined)[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const v of views)
    if (v && v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) seen.add(v.buffer);
  return [...seen];
}

export function partsTransferables(p: ArtifactParts): ArrayBuffer[] {
  return transferables(p.onnx, ...Object.values(p.weights.tensors).map((t) => t.data));
}
