// Retraining inside the daemon on the real broker (issue 6): a swap under load loses no event and
// scores none twice; a challenger that fails the gate is never served; two daemon processes in one
// consumer group both serve the model one of them trained; a restart resumes with the current
// version (no cold start). Needs the compiled CLI (npx tsc -p .) for the child-process daemons.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSchema } from '../../../src/codec/index.js';
import { buildConfig } from '../../../src/config/config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { inlierWindow, startRetraining } from '../../../src/daemon/retraining.js';
import { ModelRegistry } from '../../../src/registry/registry.js';
import { createKafkaClient, type ConsumedRecord } from '../../../src/stream/index.js';
import type { RetrainOutcome } from '../../../src/train/retrain/index.js';
import { brokers, clientConfig, uniqueName, waitFor } from '../helpers/kafka.js';
import {
  ChildDaemon,
  createTopic,
  daemonConfigObject,
  paymentEvents,
  place,
  produceEvents,
  readAll,
  trainedRegistry,
  waitCommitted,
  writeConfig,
} from '../daemon/helpers.js';

const P = 2;
const enrichedType = loadSchema('enriched');

function versionsByPosition(records: ConsumedRecord[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of records) {
    const v = enrichedType.fromBuffer(r.value!) as {
      source: { partition: number; offset: number };
      ddcl: { model_version: string };
    };
    const k = `${v.source.partition}-${v.source.offset}`;
    m.set(k, [...(m.get(k) ?? []), v.ddcl.model_version]);
  }
  return m;
}

/** An in-process daemon with its side loop, retraining every `everyEvents` inliers. */
async function startWithRetraining(cfgObj: Record<string, unknown>, outcomes: RetrainOutcome[]) {
  const cfg = buildConfig(cfgObj, {}, 'test');
  const window = inlierWindow(cfg);
  let rt: Awaited<ReturnType<typeof startRetraining>> | undefined;
  const d = new Daemon(cfg, { onInliers: (s) => (rt ? rt.observe(s) : window.add(s)) });
  await d.start();
  rt = await startRetraining(d, window, { onOutcome: (o) => outcomes.push(o) });
  return { d, rt, cfg };
}

describe('retraining in the daemon', { timeout: 600000 }, () => {
  const N = 9000;
  const ev = paymentEvents(N, { seed: 31, anomalyRate: 0.005 });

  it(
    'swaps under load: every input offset enriched exactly once, by the old model before and the new one after',
    { timeout: 240000 },
    async () => {
      const client = createKafkaClient(clientConfig('confluent'));
      const admin = await client.admin();
      const producer = await client.producer();
      const topic = uniqueName('rt-swap');
      await createTopic(admin, topic, P);
      const registry = await trainedRegistry(ev, 1500);
      const cfgObj = daemonConfigObject({
        impl: 'confluent',
        brokers: brokers(),
        topic,
        registry,
        minEvents: 1000,
      });
      (cfgObj.training as Record<string, unknown>).everyEvents = 2500;
      const outcomes: RetrainOutcome[] = [];
      const { d, rt, cfg } = await startWithRetraining(cfgObj, outcomes);
      try {
        // The first part of the stream triggers a retraining; the rest keeps flowing while it trains
        // and after the swap.
        await produceEvents(producer, topic, ev, { partitions: P, to: 4000, rate: 1500 });
        const rest = produceEvents(producer, topic, ev, { partitions: P, from: 4000, rate: 300 });
        await waitFor(
          'an accepted retraining and its swap',
          () => outcomes.some((o) => o.result === 'accepted') && d.model?.version !== 'v0001',
          180000,
          200,
        );
        await rest;
        await waitCommitted(admin, cfg.kafka.groupId, topic, 120000);
        const rows = await readAll(client, admin, `${topic}.ddcl.enriched`);
        const byPos = versionsByPosition(rows);
        const missing: string[] = [];
        const twice: string[] = [];
        for (let i = 0; i < N; i++) {
          const p = place(i, P);
          const vs = byPos.get(`${p.partition}-${p.offset}`);
          if (!vs) missing.push(`${p.partition}-${p.offset}`);
          else if (vs.length > 1) twice.push(`${p.partition}-${p.offset}`);
        }
        assert.deepEqual(missing, [], 'no event lost across the swap');
        assert.deepEqual(twice, [], 'no event scored twice across the swap');
        const versions = new Set([...byPos.values()].flat());
        assert.ok(
          versions.has('v0001') && versions.size >= 2,
          `served versions: ${[...versions].join(', ')}`,
        );
        // Per partition the served version never goes back: the swap happens between batches.
        for (let part = 0; part < P; part++) {
          let last = '';
          for (let off = 0; byPos.has(`${part}-${off}`); off++) {
            const v = byPos.get(`${part}-${off}`)![0]!;
            assert.ok(v >= last, `partition ${part} offset ${off}: ${v} after ${last}`);
            last = v;
          }
        }
      } finally {
        await rt.stop();
        await d.stop();
        await producer.disconnect();
        await admin.disconnect();
      }
    },
  );

  it('a challenger that fails the gate is never served', { timeout: 240000 }, async () => {
    const client = createKafkaClient(clientConfig('confluent'));
    const admin = await client.admin();
    const producer = await client.producer();
    const topic = uniqueName('rt-gate');
    await createTopic(admin, topic, P);
    const registry = await trainedRegistry(ev, 1500);
    const cfgObj = daemonConfigObject({
      impl: 'confluent',
      brokers: brokers(),
      topic,
      registry,
      minEvents: 1000,
    });
    // A separation floor no model can reach: every challenger is rejected.
    Object.assign(cfgObj.training as Record<string, unknown>, {
      everyEvents: 2000,
      gate: { maxAlertRateRatio: 3, minSeparation: 1e9, maxDeadFraction: 0.5, holdoutFraction: 0.2 },
    });
    const outcomes: RetrainOutcome[] = [];
    const { d, rt, cfg } = await startWithRetraining(cfgObj, outcomes);
    try {
      await produceEvents(producer, topic, ev, { partitions: P, to: 5000, rate: 2000 });
      await waitFor(
        'a rejected retraining',
        () => outcomes.some((o) => o.result === 'rejected'),
        180000,
        200,
      );
      await waitCommitted(admin, cfg.kafka.groupId, topic, 120000);
      const rejected = outcomes.find((o) => o.result === 'rejected')!;
      assert.ok(
        rejected.decision!.reasons.some((r) => r.code === 'low-separation'),
        JSON.stringify(rejected.decision!.reasons),
      );
      assert.equal(d.model?.version, 'v0001');
      const reg = new ModelRegistry(registry);
      assert.equal(await reg.current('payments'), 'v0001');
      const versions = new Set(
        [...versionsByPosition(await readAll(client, admin, `${topic}.ddcl.enriched`)).values()].flat(),
      );
      assert.deepEqual([...versions], ['v0001'], 'only the serving model scored');
    } finally {
      await rt.stop();
      await d.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it(
    'two daemon processes in one group both serve the model one of them trained; a restart resumes with it',
    { timeout: 420000 },
    async () => {
      const client = createKafkaClient(clientConfig('confluent'));
      const admin = await client.admin();
      const producer = await client.producer();
      const topic = uniqueName('rt-two');
      await createTopic(admin, topic, 4);
      const registry = await trainedRegistry(ev, 1500);
      const groupId = uniqueName('g-rt-two');
      const base = daemonConfigObject({
        impl: 'confluent',
        brokers: brokers(),
        topic,
        registry,
        groupId,
        minEvents: 1000,
      });
      const trainer = writeConfig({ ...base, training: { ...(base.training as object), everyEvents: 1500 } });
      const scorer = writeConfig({ ...base, training: { ...(base.training as object), enabled: false } });
      const a = new ChildDaemon(trainer);
      const b = new ChildDaemon(scorer);
      let c: ChildDaemon | undefined;
      const loaded = (child: ChildDaemon, version: string) =>
        child.log
          .split('\n')
          .some((l) => l.includes('"model loaded"') && l.includes(`"version":"${version}"`));
      try {
        // Both members must hold partitions before the stream starts, or the first one to join
        // consumes most of it alone and the trainer sees too few inliers.
        const holds = (child: ChildDaemon) =>
          child.log
            .split('\n')
            .some(
              (l) =>
                l.includes('"partitions changed"') &&
                l.includes('"type":"assign"') &&
                !l.includes('"assigned":4'),
            );
        await waitFor('both daemons holding partitions', () => holds(a) && holds(b), 90000, 200);
        await produceEvents(producer, topic, ev, { partitions: 4, rate: 1500 });
        // The first accepted version (a challenger may be rejected by the gate before one passes).
        const accepted = (): string | undefined => {
          const line = a.log.split('\n').find((l) => l.includes('"retrained model accepted"'));
          return line ? (JSON.parse(line) as { version: string }).version : undefined;
        };
        await waitFor(
          'the trainer accepted a new version',
          () => accepted() !== undefined && loaded(a, accepted()!),
          240000,
          250,
        ).catch((e: Error) => {
          throw new Error(
            `${e.message}; trainer log: ${a.log
              .split('\n')
              .filter((l) => /retrain|error|warn|partitions|stopped/i.test(l))
              .slice(-12)
              .join(' | ')}`,
          );
        });
        const version = accepted()!;
        await waitFor(
          `the other instance loaded the announced version ${version}`,
          () => loaded(b, version),
          60000,
          250,
        );
        assert.ok(!b.log.includes('retraining scheduled'), 'the scoring-only instance does not train');
        await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
        // Restart: the registry's current version is served at once, without a first training.
        c = new ChildDaemon(scorer);
        await waitFor(
          'the restarted daemon loaded a model',
          () => c!.log.includes('"model loaded"'),
          90000,
          200,
        );
        const firstLoad = c.log.split('\n').find((l) => l.includes('"model loaded"'))!;
        const current = await new ModelRegistry(registry).current('payments');
        assert.ok(current && current >= 'v0002', `current ${current}`);
        assert.ok(firstLoad.includes(`"version":"${current}"`), firstLoad);
        assert.ok(!c.log.includes('no model yet'), 'no cold start');
      } finally {
        await Promise.all([a.kill(), b.kill(), c?.kill()]);
        await producer.disconnect();
        await admin.disconnect();
      }
    },
  );
});
