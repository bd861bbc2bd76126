// The first model of a daemon that has none: read the first `training.minEvents` events of the
// input topics with a throwaway consumer group (nothing is committed for the real group), train,
// write the version, make it current. Scoring then starts from the beginning of the topics, so
// the events the first model was trained on are scored too (score first, then learn, does not
// hold for the very first window; that is the bootstrap's price, and it is logged).
import { randomUUID } from 'node:crypto';
import { DecodeError, type DecodedRecord } from '../codec/index.js';
import { buildModel } from '../train/buildModel.js';
import type { TrainConfig } from '../train/config.js';
import type { Daemon } from './daemon.js';
import { featureSpecFor } from './daemon.js';
import { scoringBuild } from './scoring.js';

export async function bootstrapFromTopics(d: Daemon, opts: { timeoutMs?: number } = {}): Promise<void> {
  const cfg = d.cfg;
  const want = cfg.training.minEvents;
  d.log.info('no model yet: reading the first events to train one', {
    events: want,
    topics: cfg.input.topics,
  });
  const records: DecodedRecord[] = [];
  let refused = 0;
  const consumer = await d.client.consumer({
    groupId: `ddcl-bootstrap-${randomUUID()}`,
    fromBeginning: true,
    maxBatchSize: 1000,
  });
  await consumer.subscribe(cfg.input.topics);
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    eachBatch: async (batch) => {
      for (const r of batch.records) {
        if (records.length >= want) break;
        if (!r.value) continue;
        try {
          records.push(d.codec.decode(r.value));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          refused++;
        }
      }
      if (records.length >= want) resolveDone();
    },
  });
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  await consumer.disconnect();
  if (timedOut)
    throw new Error(`bootstrap: only ${records.length} of ${want} events arrived within ${timeoutMs} ms`);
  const t0 = performance.now();
  const built = await buildModel(featureSpecFor(cfg, d.schema), records, {
    train: cfg.training.params as Partial<TrainConfig>,
    holdoutFraction: cfg.training.gate.holdoutFraction,
    ...scoringBuild(cfg.scoring),
    trainingWindow: { source: 'bootstrap', topics: cfg.input.topics, rows: records.length, refused },
  });
  const version = await d.registry.write(cfg.model.name, built.parts);
  await d.registry.setCurrent(cfg.model.name, version);
  d.log.info('first model trained', {
    version,
    rows: built.rows,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
  });
  d.metrics.trainingRuns.inc({ result: 'accepted' });
  await d.loadModel(version);
}
