// The daemon's side loop (DESIGN.md): inliers -> window -> scheduler -> trainer in a worker ->
// validation gate -> registry -> hot swap between batches -> announcement on the models topic,
// and the listener through which every instance of the group loads announced versions.
import { readFileSync } from 'node:fs';
import type { DdclConfig } from '../config/config.js';
import type { Producer } from '../stream/types.js';
import {
  AnnouncementListener,
  InlierWindow,
  RetrainScheduler,
  Retrainer,
  modelsTopicSpec,
  type CodecConfig,
  type RetrainOutcome,
} from '../train/retrain/index.js';
import type { TrainConfig } from '../train/config.js';
import type { Daemon } from './daemon.js';
import { featureSpecFor } from './daemon.js';
import type { InlierSample } from './processor.js';
import { scoringBuild } from './scoring.js';

export function codecConfigFor(cfg: DdclConfig, schema: object | undefined): CodecConfig {
  const i = cfg.input;
  if (i.format === 'json') return { format: 'json', ...(schema ? { schema } : {}) };
  if (i.format === 'avro') return { format: 'avro', readerSchema: schema! };
  return {
    format: 'confluent',
    readerSchema: schema!,
    ...(i.schemaIds
      ? {
          schemas: Object.fromEntries(
            Object.entries(i.schemaIds).map(([id, f]) => [
              id,
              JSON.parse(readFileSync(String(f), 'utf8')) as object,
            ]),
          ),
        }
      : {}),
    ...(i.registryUrl ? { registry: { host: i.registryUrl } } : {}),
  };
}

/** What a retrainer takes from the config: the same in the daemon's side loop and the train role. */
export function retrainerSettings(cfg: DdclConfig, schema: object | undefined) {
  const g = cfg.training.gate;
  return {
    name: cfg.model.name,
    codec: codecConfigFor(cfg, schema),
    spec: featureSpecFor(cfg, schema),
    train: cfg.training.params as Partial<TrainConfig>,
    gate: {
      alertThreshold: cfg.scoring.alertThreshold,
      maxAlertRateRatio: g.maxAlertRateRatio,
      minSeparation: g.minSeparation,
      maxDeadFraction: g.maxDeadFraction,
    },
    holdoutFraction: g.holdoutFraction,
    minEvents: cfg.training.minEvents,
    maxTrainRows: cfg.training.maxTrainRows,
    device: cfg.model.device,
    ...scoringBuild(cfg.scoring),
  };
}

/** The window the processor's inliers go into; create it before the daemon so onInliers can feed it. */
export function inlierWindow(cfg: DdclConfig): InlierWindow {
  return new InlierWindow({
    maxEvents: cfg.training.window.maxEvents,
    maxAgeMs: cfg.training.window.maxAgeMs,
  });
}

export interface Retraining {
  window: InlierWindow;
  scheduler?: RetrainScheduler;
  retrainer?: Retrainer;
  listener: AnnouncementListener;
  /** Feed the processor's inliers here. */
  observe(samples: InlierSample[]): void;
  stop(): Promise<void>;
}

export interface RetrainingOptions {
  onOutcome?: (o: RetrainOutcome) => void;
}

/**
 * Starts the side loop for a started daemon. Training runs only when `training.enabled` (the
 * `train` role can run elsewhere: `ddcl train --from-kafka`); the announcement listener runs
 * always, so that this instance swaps to every version announced for its model.
 */
export async function startRetraining(
  d: Daemon,
  window: InlierWindow,
  opts: RetrainingOptions = {},
): Promise<Retraining> {
  const cfg = d.cfg;
  const name = cfg.model.name;
  const topic = cfg.output.modelsTopic;
  const admin = await d.client.admin();
  try {
    await admin.createTopics([modelsTopicSpec(topic)]);
  } finally {
    await admin.disconnect();
  }
  // Swaps run one at a time: the retrainer's callback and the announcement of the same version
  // arrive together, and only the first may load it.
  let swapping: Promise<void> = Promise.resolve();
  const swapTo = (version: string, why: string): Promise<void> => {
    const next = swapping.then(async () => {
      if (d.model?.version === version) return;
      d.log.info('swapping model', { model: name, version, why, from: d.model?.version ?? null });
      await d.loadModel(version);
    });
    swapping = next.catch(() => undefined);
    return next;
  };
  const listener = new AnnouncementListener(d.client, {
    topic,
    model: name,
    onAnnouncement: async (a) => {
      // Announcements of older versions (the compacted topic replays its latest) are skipped.
      const current = await d.registry.current(name);
      if (a.version === d.model?.version || (current !== undefined && a.version < current)) return;
      try {
        await swapTo(a.version, 'announced');
      } catch (e) {
        d.log.error('announced model could not be loaded; the serving model stays', {
          version: a.version,
          error: (e as Error).message,
        });
      }
    },
    onError: (e, where) => d.log.warn('not a model announcement', { error: e.message, ...where }),
  });
  await listener.start();

  let producer: Producer | undefined;
  let retrainer: Retrainer | undefined;
  let scheduler: RetrainScheduler | undefined;
  if (cfg.training.enabled && (cfg.training.schedule || cfg.training.everyEvents > 0)) {
    producer = await d.client.producer({ idempotent: true });
    retrainer = new Retrainer({
      ...retrainerSettings(cfg, d.schema),
      registry: d.registry,
      window,
      serving: () => d.model,
      announce: { producer, topic },
      log: d.log,
      metrics: d.metrics,
      // The announcement reaches this instance too; swapping here as well is immediate.
      onModel: async (a) => swapTo(a.manifest.version, 'retrained'),
    });
    if (opts.onOutcome) retrainer.on('outcome', opts.onOutcome);
    scheduler = new RetrainScheduler({
      ...(cfg.training.schedule ? { cron: cfg.training.schedule } : {}),
      ...(cfg.training.everyEvents > 0 ? { everyEvents: cfg.training.everyEvents } : {}),
      run: async (t) => {
        await retrainer!.retrain(t);
      },
      onError: (e) => d.log.error('retraining failed', { error: e instanceof Error ? e.message : String(e) }),
      onSkip: (t) => d.log.info('retraining skipped: a run is in progress', { trigger: t.reason }),
    });
    scheduler.start();
    d.log.info('retraining scheduled', {
      cron: cfg.training.schedule || null,
      everyEvents: cfg.training.everyEvents || null,
      window: cfg.training.window,
    });
  }
  return {
    window,
    ...(scheduler ? { scheduler } : {}),
    ...(retrainer ? { retrainer } : {}),
    listener,
    observe(samples) {
      window.add(samples);
      scheduler?.observe(samples.length);
    },
    async stop() {
      await scheduler?.stop();
      await listener.stop();
      await producer?.disconnect();
    },
  };
}
