// `kill -9` of a daemon (a child `node bin/ddcl.js run`) in the middle of the stream, then a
// restart with the same config: at-least-once, every input offset ends up with an enriched record
// (duplicates allowed); exactly-once, a read_committed reader sees each input offset exactly once.
// Both Kafka clients. Needs the compiled CLI (npx tsc -p .).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createKafkaClient } from '../../../src/stream/index.js';
import { brokers, clientConfig, impls, sleep, uniqueName, waitFor } from '../helpers/kafka.js';
import {
  ChildDaemon,
  coverage,
  createTopic,
  daemonConfigObject,
  decodeEnriched,
  missingPositions,
  paymentEvents,
  produceEvents,
  readAll,
  sumHigh,
  trainedRegistry,
  waitCommitted,
  writeConfig,
} from './helpers.js';

const N = 6000;
const P = 3;
const RATE = 1500; // events/s: the stream lasts 4 s, so the kill lands in the middle of it

describe('daemon killed with SIGKILL and restarted', { timeout: 300000 }, () => {
  const ev = paymentEvents(N, { seed: 21, anomalyRate: 0.005 });
  let registry = '';
  before(async () => {
    registry = await trainedRegistry(ev, 1500);
  });

  for (const impl of impls())
    for (const delivery of ['at-least-once', 'exactly-once'] as const) {
      it(
        `${impl}, ${delivery}: ${delivery === 'exactly-once' ? 'each input offset enriched exactly once (read_committed)' : 'every input offset enriched'}`,
        { timeout: 120000 },
        async () => {
          const client = createKafkaClient(clientConfig(impl));
          const admin = await client.admin();
          const producer = await client.producer();
          const topic = uniqueName(`dm-kill-${impl}-${delivery === 'exactly-once' ? 'eos' : 'alo'}`);
          const enriched = `${topic}.ddcl.enriched`;
          await createTopic(admin, topic, P);
          const cfgObj = daemonConfigObject({
            impl,
            brokers: brokers(),
            topic,
            registry,
            delivery,
            groupId: uniqueName(`g-kill-${impl}`),
          });
          const groupId = (cfgObj.kafka as { groupId: string }).groupId;
          const file = writeConfig(cfgObj);
          const iso = delivery === 'exactly-once' ? ('read_committed' as const) : undefined;
          let first: ChildDaemon | undefined;
          let second: ChildDaemon | undefined;
          try {
            first = new ChildDaemon(file);
            await waitFor(
              'the first daemon to consume',
              () => first!.log.includes('"consuming"'),
              60000,
              100,
            );
            const producing = produceEvents(producer, topic, ev, { partitions: P, rate: RATE, chunk: 100 });
            await waitFor('enriched output', async () => (await sumHigh(admin, enriched)) > 300, 30000, 100);
            await sleep(500);
            const killed = await first.kill('SIGKILL');
            assert.equal(killed.signal, 'SIGKILL');
            const atKill = await sumHigh(admin, enriched, iso);
            await producing;
            assert.ok(atKill > 0 && atKill < N, `killed mid-stream (${atKill} of ${N} enriched)`);

            second = new ChildDaemon(file);
            const t0 = Date.now();
            await waitCommitted(admin, groupId, topic, 90000);
            const recoverMs = Date.now() - t0;
            const rows = (await readAll(client, admin, enriched, iso ? { isolationLevel: iso } : {})).map(
              decodeEnriched,
            );
            const cov = coverage(rows);
            assert.deepEqual(missingPositions(cov, N, P), [], 'every input offset has an enriched record');
            const dups = rows.length - cov.size;
            process.stdout.write(
              `# ${impl} ${delivery}: ${atKill} enriched at the kill, ${rows.length} enriched records in the end for ${N} events (${dups} duplicates); restart to all committed ${recoverMs} ms\n`,
            );
            if (delivery === 'exactly-once') {
              assert.equal(rows.length, N, 'read_committed: no duplicates');
              assert.equal(cov.size, N);
            }
            const stopped = await second.kill('SIGTERM');
            assert.equal(stopped.code, 0, `graceful stop exits 0:\n${second.log.slice(-2000)}`);
          } catch (e) {
            process.stderr.write(
              `first daemon:\n${first?.log.slice(-3000)}\nsecond daemon:\n${second?.log.slice(-3000)}\n`,
            );
            throw e;
          } finally {
            await first?.kill();
            await second?.kill();
            await producer.disconnect();
            await admin.disconnect();
          }
        },
      );
    }
});
