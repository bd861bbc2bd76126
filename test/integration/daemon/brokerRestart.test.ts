// The broker stops and starts again (keeping its data) while the daemon is consuming: the daemon
// rides it out, and every input offset, before and after the restart, ends up enriched and
// committed. Runs a broker of its own (KAFKA_DAEMON_RESTART_PORT, default 29092) so the shared
// test broker is never stopped under other tests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Daemon } from '../../../src/daemon/daemon.js';
import { createLogger } from '../../../src/obs/logger.js';
import { createKafkaClient } from '../../../src/stream/index.js';
import { LocalBroker, impls, uniqueName, waitFor } from '../helpers/kafka.js';
import {
  coverage,
  createTopic,
  daemonConfig,
  decodeEnriched,
  missingPositions,
  paymentEvents,
  produceEvents,
  readAll,
  sumHigh,
  trainedRegistry,
  waitCommitted,
} from './helpers.js';

const broker = new LocalBroker(Number(process.env.KAFKA_DAEMON_RESTART_PORT ?? 29092));
const N = 6000;
const P = 3;

describe('daemon across a broker restart', { timeout: 300000 }, () => {
  const ev = paymentEvents(N, { seed: 31, anomalyRate: 0.005 });
  let registry = '';
  before(async () => {
    await broker.start();
    registry = await trainedRegistry(ev, 1500);
  });
  after(async () => {
    await broker.stop();
  });

  for (const impl of impls()) {
    it(`${impl}: recovers and loses nothing`, { timeout: 150000 }, async () => {
      const client = createKafkaClient({
        impl,
        brokers: broker.brokers,
        clientId: `ddcl-it-restart-${impl}`,
        logLevel: 'nothing',
      });
      const admin = await client.admin();
      const producer = await client.producer();
      const topic = uniqueName(`dm-brk-${impl}`);
      await createTopic(admin, topic, P);
      const cfg = daemonConfig({ impl, brokers: broker.brokers, topic, registry });
      const daemon = new Daemon(cfg, { log: createLogger({ silent: true }) });
      try {
        await daemon.start();
        // The first half while the daemon consumes; the broker goes away right behind it.
        await produceEvents(producer, topic, ev, { partitions: P, to: N / 2, rate: 2000, chunk: 100 });
        // The daemon has produced output (it is mid-stream, not still starting) when the broker goes.
        await waitFor(
          'enriched output before the restart',
          async () => (await sumHigh(admin, `${topic}.ddcl.enriched`)) > 0,
          30000,
          50,
        );
        const before = await sumHigh(admin, `${topic}.ddcl.enriched`);
        const t0 = Date.now();
        await broker.restart();
        const downMs = Date.now() - t0;
        // The second half once it is back.
        await produceEvents(producer, topic, ev, { partitions: P, from: N / 2, chunk: 500 });
        const t1 = Date.now();
        await waitCommitted(admin, cfg.kafka.groupId, topic, 90000);
        const rows = (await readAll(client, admin, `${topic}.ddcl.enriched`)).map(decodeEnriched);
        const cov = coverage(rows);
        process.stdout.write(
          `# ${impl}: ${before} enriched before the restart (${downMs} ms down), ${rows.length} in the end for ${N}; all committed ${Date.now() - t1} ms after the second half\n`,
        );
        assert.deepEqual(missingPositions(cov, N, P), [], 'every input offset enriched');
        assert.equal(daemon.processor.counts.dlq, 0);
        assert.ok(daemon.processor.counts.scored >= N, `scored ${daemon.processor.counts.scored}`);
      } finally {
        await daemon.stop();
        await producer.disconnect();
        await admin.disconnect();
      }
    });
  }
});
