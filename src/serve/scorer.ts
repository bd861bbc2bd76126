// Scores micro-batches with ONNX Runtime: the per-event hot path. Never imports tfjs.

import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ScoreBatch } from '../model/types.js';
import { INPUT_NAME, RECON_OUTPUT } from './onnx/export.js';
import { ScoreInputError, ScorerError } from './errors.js';

export { ScoreInputError, ScorerError } from './errors.js';

export interface ScorerOptions {
  /** ONNX Runtime intra-op threads (default: ONNX Runtime's choice, all cores). */
  intraOpThreads?: number;
  /**
   * Execution providers to try, in order, each on its own (e.g. ['cuda', 'webgpu', 'cpu']).
   * The first that creates a session wins; `executionProvider` says which. Default ['cpu'].
   */
  executionProviders?: string[];
}

const FETCHED = ['D', 'q', 's_min', 's_q', 'r', 'v', 'nearest'] as const;

/** A provider that could not create a session, and why. */
export interface ProviderFailure {
  provider: string;
  error: string;
}

export class OnnxScorer {
  /** Providers tried before `executionProvider` that failed (empty when the first worked). */
  readonly providerFailures: readonly ProviderFailure[];
  private readonly fetchNames: string[];
  private released = false;

  private constructor(
    private readonly session: InferenceSession,
    readonly inputDim: number,
    readonly K: number,
    readonly hasRecon: boolean,
    readonly executionProvider: string,
    failures: ProviderFailure[],
  ) {
    this.providerFailures = failures;
    this.fetchNames = hasRecon ? [...FETCHED, RECON_OUTPUT] : [...FETCHED];
  }

  static async create(onnxBytes: Uint8Array, opts: ScorerOptions = {}): Promise<OnnxScorer> {
    const providers = opts.executionProviders ?? ['cpu'];
    if (providers.length === 0) throw new ScorerError('no execution provider given', 'OnnxScorer.create');
    const failures: ProviderFailure[] = [];
    for (const ep of providers) {
      const options: InferenceSession.SessionOptions = {
        executionProviders: [ep],
        graphOptimizationLevel: 'all',
      };
      if (opts.intraOpThreads !== undefined) options.intraOpNumThreads = opts.intraOpThreads;
      let session: InferenceSession;
      try {
        session = await InferenceSession.create(onnxBytes, options);
      } catch (e) {
        failures.push({ provider: ep, error: e instanceof Error ? e.message : String(e) });
        continue;
      }
      const { inputDim, K, hasRecon } = describe(session);
      return new OnnxScorer(session, inputDim, K, hasRecon, ep, failures);
    }
    throw new ScorerError(
      `no execution provider could create a session: ${failures.map((f) => `${f.provider}: ${f.error}`).join('; ')}`,
      'OnnxScorer.create',
    );
  }

  /** Score n events, X row-major n x inputDim (finite values: the featurizer's job). */
  async score(X: Float32Array, n: number): Promise<ScoreBatch> {
    if (this.released) throw new ScorerError('scorer was released', 'OnnxScorer.score');
    if (!Number.isInteger(n) || n < 0 || X.length !== n * this.inputDim) {
      throw new ScoreInputError(n, this.inputDim, X.length, 'OnnxScorer.score');
    }
    if (n === 0) return this.empty();
    const feeds = { [INPUT_NAME]: new Tensor('float32', X, [n, this.inputDim]) };
    // Outputs are fresh arrays each call: onnxruntime-node copies them out even into
    // pre-allocated fetches (measured: pre-allocating was no faster), so the caller may keep them.
    let out: InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds, this.fetchNames);
    } catch (e) {
      throw new ScorerError(`run failed for batch of ${n}`, 'OnnxScorer.score', { cause: e });
    }
    const f32 = (name: string): Float32Array => out[name]!.data as Float32Array;
    const batch: ScoreBatch = {
      n,
      K: this.K,
      D: f32('D'),
      q: f32('q'),
      sMin: f32('s_min'),
      sQ: f32('s_q'),
      r: f32('r'),
      v: f32('v'),
      nearest: lowWords(out['nearest']!.data as BigInt64Array),
    };
    if (this.hasRecon) batch.recon = f32(RECON_OUTPUT);
    return batch;
  }

  private empty(): ScoreBatch {
    const z = new Float32Array(0);
    const b: ScoreBatch = {
      n: 0,
      K: this.K,
      D: z,
      q: z,
      sMin: z,
      sQ: z,
      r: z,
      v: z,
      nearest: new Int32Array(0),
    };
    if (this.hasRecon) b.recon = z;
    return b;
  }

  /** Free the native session. Later `score` calls throw ScorerError. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** int64 indices < 2^31 as Int32: the low word of each little-endian element, no BigInt math. */
function lowWords(a: BigInt64Array): Int32Array {
  const words = new Int32Array(a.buffer, a.byteOffset, a.length * 2);
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = words[2 * i]!;
  return out;
}

function describe(session: InferenceSession): { inputDim: number; K: number; hasRecon: boolean } {
  const where = 'OnnxScorer.create';
  const input = session.inputMetadata.find((m) => m.name === INPUT_NAME);
  if (input === undefined || !input.isTensor || input.type !== 'float32' || input.shape.length !== 2) {
    throw new ScorerError(`model has no float32 input '${INPUT_NAME}' of rank 2`, where);
  }
  const inputDim = input.shape[1];
  if (typeof inputDim !== 'number') {
    throw new ScorerError(
      `input '${INPUT_NAME}' has no fixed feature dimension (${String(inputDim)})`,
      where,
    );
  }
  const D = session.outputMetadata.find((m) => m.name === 'D');
  const K = D !== undefined && D.isTensor ? D.shape[1] : undefined;
  if (typeof K !== 'number') throw new ScorerError("model has no output 'D' of shape [N, K]", where);
  for (const name of FETCHED) {
    if (!session.outputNames.includes(name)) throw new ScorerError(`model has no output '${name}'`, where);
  }
  return { inputDim, K, hasRecon: session.outputNames.includes(RECON_OUTPUT) };
}
