// One retraining run, end to end: snapshot the window, hold back its newest slice, train on the
// rest in a worker, gate the challenger against the serving model on the slice, store it in the
// registry (rejected versions too, for the record: they never become current), move `current`
// only when accepted, then hand the artifact to the daemon (`onModel`, which swaps between
// batches) and announce it on the models topic. A failed or rejected run leaves serving as it was.
import { EventEmitter } from 'node:events';
import type { FeatureSpec } from '../../features/index.js';
import type { Logger } from '../../obs/logger.js';
import type { DdclMetrics } from '../../obs/metrics.js';
import type { ModelArtifact, ArtifactParts, JsonValue } from '../../registry/artifact.js';
import type { ModelRegistry } from '../../registry/registry.js';
import { ServingModel, type ServingModelOptions } from '../../serve/servingModel.js';
import type { Producer } from '../../stream/types.js';
import type { CalibrationOptions } from '../../serve/calibration.js';
import type { DeviceRequest } from '../../serve/device.js';
import { pickScoreTerms, type ScoreTermOptions } from '../buildModel.js';
import type { TrainConfig } from '../config.js';
import { resolveConfig } from '../config.js';
import { announce, type ModelAnnouncement } from './announce.js';
import { decisionJson, validateChallenger, type GateConfig, type GateDecision } from './gate.js';
import { decodeAll, makeCodec, type CodecConfig, type TrainJob, type TrainSummary } from './job.js';
import type { Trigger } from './scheduler.js';
import { packSamples, type InlierWindow } from './window.js';
import { trainInWorker } from './worker.js';

export type Trainer = (job: TrainJob) => Promise<{ parts: ArtifactParts; summary: TrainSummary }>;

/** The input-space score terms (ScoreTermOptions) are those new models fit (config scoring). */
export interface RetrainerOptions extends ScoreTermOptions {
  name: string;
  registry: ModelRegistry;
  window: InlierWindow;
  codec: CodecConfig;
  /** The feature spec (unfitted) a fresh model is fitted from. */
  spec: FeatureSpec;
  train: Partial<Omit<TrainConfig, 'resume'>>;
  gate?: Partial<GateConfig>;
  /** Fraction of the window held back for the gate. Default 0.2. */
  holdoutFraction?: number;
  /**
   * Which events are held back: 'interleaved' (default; every k-th, so the slice spans the same
   * hours as the training rows: a window of about one daily cycle otherwise holds back hours
   * neither model has seen) or 'newest' (the latest events, what comes next).
   */
  holdout?: 'interleaved' | 'newest';
  /** Fewer samples in the window: the run is skipped. Default 2000. */
  minEvents?: number;
  /** The network trains on at most this many window rows (buildModel maxTrainRows). Default 20000. */
  maxTrainRows?: number;
  /**
   * 'fine-tune' (default): start from the serving model's weights and fitted features when they
   * fit the train params (same K and DCL variant, not dual-linear); 'fresh': always from scratch.
   */
  mode?: 'fine-tune' | 'fresh';
  /** The model serving now (the gate's baseline and the parent). */
  serving: () => ServingModel | ModelArtifact | undefined;
  /** An accepted version is current: swap it in (between batches). */
  onModel?: (artifact: ModelArtifact, outcome: RetrainOutcome) => void | Promise<void>;
  /** Announce accepted versions here. */
  announce?: { producer: Producer; topic: string; uri?: (a: ModelArtifact) => string };
  /** Store rejected versions (never current) for the record. Default true. */
  keepRejected?: boolean;
  inputSchemaFingerprint?: string;
  /** How new models' calibration is fitted (scoring.rawScore, scoring.combine). */
  calibration?: CalibrationOptions;
  /** Where training runs (model.device); reported in the log and ddcl_device_info{stage="train"}. */
  device?: DeviceRequest;
  /** Default: a fresh worker thread per run. */
  trainer?: Trainer;
  log?: Logger;
  metrics?: DdclMetrics;
}

export type RetrainResult = 'accepted' | 'rejected' | 'failed' | 'skipped';

export interface RetrainOutcome {
  result: RetrainResult;
  /** Registry version written (accepted, or rejected when kept). */
  version?: string;
  parentVersion: string | null;
  decision?: GateDecision;
  /** Why a run was skipped or failed. */
  reason?: string;
  error?: Error;
  mode?: 'fine-tune' | 'fresh';
  window: { events: number; train: number; holdout: number; fromTs: number | null; toTs: number | null };
  summary?: TrainSummary;
  seconds: number;
  announcement?: ModelAnnouncement;
}

export interface RetrainerEvents {
  outcome: [RetrainOutcome];
  model: [ModelArtifact];
}

const artifactOf = (m: ServingModel | ModelArtifact): ModelArtifact =>
  m instanceof ServingModel ? m.artifact : m;

export class Retrainer extends EventEmitter<RetrainerEvents> {
  private busy = false;

  constructor(private readonly o: RetrainerOptions) {
    super();
  }

  get running(): boolean {
    return this.busy;
  }

  /** One run; never throws (a failure is an outcome). Overlapping calls are skipped. */
  async retrain(trigger?: Trigger): Promise<RetrainOutcome> {
    const t0 = performance.now();
    const o = this.o;
    const servingNow = o.serving();
    const parent = servingNow ? artifactOf(servingNow) : undefined;
    const parentVersion = parent?.manifest.version ?? null;
    const emptyWindow = { events: 0, train: 0, holdout: 0, fromTs: null, toTs: null };
    if (this.busy)
      return this.done(
        { result: 'skipped', reason: 'a run is in progress', parentVersion, window: emptyWindow, seconds: 0 },
        trigger,
      );
    this.busy = true;
    try {
      const snap = o.window.snapshot();
      const minEvents = o.minEvents ?? 2000;
      const win = {
        events: snap.length,
        train: 0,
        holdout: 0,
        fromTs: snap[0]?.timestamp ?? null,
        toTs: snap[snap.length - 1]?.timestamp ?? null,
      };
      if (snap.length < minEvents)
        return this.done(
          {
            result: 'skipped',
            reason: `window holds ${snap.length} events, fewer than ${minEvents}`,
            parentVersion,
            window: win,
            seconds: (performance.now() - t0) / 1000,
          },
          trigger,
        );
      // The held-back slice is seen by neither model in training.
      const { trainSamples, holdSamples } = splitHoldout(
        snap,
        o.holdoutFraction ?? 0.2,
        o.holdout ?? 'interleaved',
      );
      win.train = trainSamples.length;
      win.holdout = holdSamples.length;
      const mode = o.mode === 'fresh' || !parent || !canResume(parent, o.train) ? 'fresh' : 'fine-tune';
      const job: TrainJob = {
        samples: packSamples(trainSamples),
        codec: o.codec,
        spec: mode === 'fine-tune' ? (parent!.features as unknown as FeatureSpec) : o.spec,
        specFitted: mode === 'fine-tune',
        train: o.train,
        ...(o.device ? { device: o.device } : {}),
        ...(mode === 'fine-tune' ? { parentWeights: parent!.weights } : {}),
        build: {
          parentVersion,
          maxTrainRows: o.maxTrainRows ?? 20_000,
          ...(o.calibration ? { calibration: o.calibration } : {}),
          ...pickScoreTerms(o),
          ...(o.inputSchemaFingerprint !== undefined
            ? { inputSchemaFingerprint: o.inputSchemaFingerprint }
            : {}),
          trainingWindow: {
            fromTs: win.fromTs,
            toTs: trainSamples[trainSamples.length - 1]?.timestamp ?? null,
            rows: trainSamples.length,
            holdoutRows: holdSamples.length,
            mode,
            trigger: trigger?.reason ?? 'manual',
          },
        },
      };
      let built: { parts: ArtifactParts; summary: TrainSummary };
      try {
        built = await (o.trainer ?? ((j: TrainJob) => trainInWorker(j)))(job);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        return this.done(
          {
            result: 'failed',
            reason: error.message,
            error,
            mode,
            parentVersion,
            window: win,
            seconds: (performance.now() - t0) / 1000,
          },
          trigger,
        );
      }
      const { records: slice } = await decodeAll(
        makeCodec(o.codec),
        holdSamples.map((s) => s.value),
      );
      const K = built.parts.prototypes.snapshot.K;
      const decision = await validateChallenger(built.parts, K, parent, slice, o.gate);
      const parts: ArtifactParts = {
        ...built.parts,
        parentVersion,
        validation: decisionJson(decision, { mode, trigger: trigger?.reason ?? 'manual' }),
      };
      const base = { parentVersion, decision, mode, window: win, summary: built.summary } as const;
      if (!decision.accepted) {
        const version = o.keepRejected === false ? undefined : await o.registry.write(o.name, parts);
        return this.done(
          {
            result: 'rejected',
            ...(version ? { version } : {}),
            reason: decision.reasons.map((r) => r.message).join('; '),
            ...base,
            seconds: (performance.now() - t0) / 1000,
          },
          trigger,
        );
      }
      const version = await o.registry.write(o.name, parts);
      // promote loads and validates the written version before moving current.
      const artifact = await o.registry.promote(o.name, version);
      const outcome: RetrainOutcome = {
        result: 'accepted',
        version,
        ...base,
        seconds: (performance.now() - t0) / 1000,
      };
      if (o.announce)
        outcome.announcement = await announce(
          o.announce.producer,
          o.announce.topic,
          artifact,
          o.announce.uri ? { uri: o.announce.uri(artifact) } : {},
        );
      await o.onModel?.(artifact, outcome);
      this.emit('model', artifact);
      return this.done(outcome, trigger);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      return this.done(
        {
          result: 'failed',
          reason: error.message,
          error,
          parentVersion,
          window: emptyWindow,
          seconds: (performance.now() - t0) / 1000,
        },
        trigger,
      );
    } finally {
      this.busy = false;
    }
  }

  private done(out: RetrainOutcome, trigger?: Trigger): RetrainOutcome {
    const { log, metrics } = this.o;
    const fields = {
      model: this.o.name,
      result: out.result,
      version: out.version,
      parent: out.parentVersion,
      mode: out.mode,
      trigger: trigger?.reason,
      window: out.window,
      seconds: Number(out.seconds.toFixed(2)),
      reason: out.reason,
      ...(out.summary?.device
        ? {
            device: out.summary.device.actual,
            backend: out.summary.backend,
            ...(out.summary.device.fellBack ? { fallback: out.summary.device.reasons } : {}),
          }
        : {}),
      gate: out.decision
        ? { reasons: out.decision.reasons.map((r) => r.code), metrics: out.decision.metrics }
        : undefined,
    };
    if (out.result === 'failed')
      log?.error('retraining failed', { ...fields, error: out.error?.stack ?? out.error?.message });
    else if (out.result === 'rejected') log?.warn('retrained model rejected by the gate', fields);
    else log?.info(out.result === 'accepted' ? 'retrained model accepted' : 'retraining skipped', fields);
    if (metrics) {
      metrics.trainingRuns.inc({ result: out.result });
      const dev = out.summary?.device;
      if (dev) metrics.setDevice('train', dev.requested, dev.actual);
      if (out.result !== 'skipped') metrics.trainingSeconds.observe(out.seconds);
      const m = out.decision?.metrics;
      if (m)
        for (const [term, key] of [
          ['L_q', 'L_q'],
          ['L_OLS', 'L_OLS'],
          ['V', 'V'],
        ] as const)
          if (typeof m[key] === 'number') metrics.trainingLoss.set({ term }, m[key]);
    }
    this.emit('outcome', out);
    return out;
  }
}

/** Splits a window (oldest first) into training samples and the held-back slice, both in window order. */
export function splitHoldout<T>(
  snap: readonly T[],
  fraction: number,
  how: 'interleaved' | 'newest',
): { trainSamples: T[]; holdSamples: T[] } {
  if (!(fraction > 0 && fraction < 1))
    throw new RangeError(`holdoutFraction must be in (0, 1), got ${fraction}`);
  if (how === 'newest') {
    const nHold = Math.max(1, Math.round(snap.length * fraction));
    return { trainSamples: snap.slice(0, snap.length - nHold), holdSamples: snap.slice(snap.length - nHold) };
  }
  // Offset by one from buildModel's own calibration split (every k-th ending at k-1), so the
  // two slices do not line up on the same phase.
  const every = Math.max(2, Math.round(1 / fraction));
  const trainSamples: T[] = [];
  const holdSamples: T[] = [];
  snap.forEach((s, i) => (i % every === 0 ? holdSamples : trainSamples).push(s));
  return { trainSamples, holdSamples };
}

/** The parent's weights can seed training with these params (same K and variant; dual-linear is tied to n). */
export function canResume(parent: ModelArtifact, train: Partial<TrainConfig>): boolean {
  const meta = parent.weights.meta as { format?: string; dcl?: { variant?: string; K?: number } } | null;
  const c = resolveConfig(train);
  return (
    meta?.format === 'ddcl.train-weights.v1' &&
    meta.dcl?.variant === c.variant &&
    c.variant !== 'dual-linear' &&
    meta.dcl?.K === c.K
  );
}

/** On start: the registry's current version, ready to serve (undefined when none was promoted). */
export async function loadCurrent(
  registry: ModelRegistry,
  name: string,
  opts: ServingModelOptions = {},
): Promise<ServingModel | undefined> {
  const v = await registry.current(name);
  if (v === undefined) return undefined;
  return ServingModel.fromArtifact(await registry.load(name, v), opts);
}

/** The manifest's validation as written by the retrainer (for `ddcl models` and tests). */
export function validationOf(a: ModelArtifact): { accepted?: boolean; reasons?: { code: string }[] } {
  const v = a.manifest.validation as JsonValue;
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as { accepted?: boolean; reasons?: { code: string }[] })
    : {};
}
