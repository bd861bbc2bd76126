// readWindowFromKafka by timestamp, and announce + AnnouncementListener on a compacted topic,
// against the real broker (KAFKA_BROKERS, default the scripts/kafka.sh one), on both clients.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelRegistry } from '../../../src/registry/registry.js';
import { createKafkaClient } from '../../../src/stream/index.js';
import type { Admin, KafkaClient } from '../../../src/stream/types.js';
import { buildModel } from '../../../src/train/buildModel.js';
import {
  announce,
  AnnouncementListener,
  loadAnnounced,
  modelsTopicSpec,
  type ModelAnnouncement,
} from '../../../src/train/retrain/announce.js';
import { readWindowFromKafka } from '../../../src/train/retrain/window.js';
import { clientConfig, impls, uniqueName, waitFor } from '../helpers/kafka.js';
import { events, spec, TINY } from '../../unit/retrain/fixtures.js';

for (const impl of impls()) {
  describe(`retrain on Kafka (${impl})`, () => {
    let client: KafkaClient;
    let admin: Admin;
    before(async () => {
      client = createKafkaClient(clientConfig(impl));
      admin = await client.admin();
    });
    after(async () => {
      await admin.disconnect();
    });

    it('readWindowFromKafka reads the records since a timestamp, up to the end at start', async () => {
      const topic = uniqueName('ddcl-rt-window');
      await admin.createTopics([{ topic, numPartitions: 2 }]);
      const producer = await client.producer();
      const t0 = Date.now() - 3_600_000;
      try {
        // 300 records one second apart per partition, an hour ago.
        for (const p of [0, 1])
          await producer.send(
            Array.from({ length: 300 }, (_, i) => ({
              topic,
              partition: p,
              value: Buffer.from(`${p}:${i}`),
              timestamp: t0 + i * 1000,
            })),
          );
        const since = t0 + 200_000; // records 200..299 of each partition
        const w = await readWindowFromKafka(client, [topic], since, { timeoutMs: 60_000 });
        assert.equal(w.length, 200);
        assert.ok(w.every((s) => s.timestamp >= since));
        for (let i = 1; i < w.length; i++)
          assert.ok(w[i]!.timestamp >= w[i - 1]!.timestamp, 'sorted by timestamp');
        const ids = new Set(w.map((s) => s.value.toString()));
        for (const p of [0, 1]) for (const i of [200, 250, 299]) assert.ok(ids.has(`${p}:${i}`));
        assert.ok(!ids.has('0:199'));
        const newest = await readWindowFromKafka(client, [topic], since, {
          maxEvents: 50,
          timeoutMs: 60_000,
        });
        assert.equal(newest.length, 50);
        assert.ok(newest.every((s) => s.timestamp >= t0 + 275_000));
        assert.deepEqual(
          await readWindowFromKafka(client, [topic], Date.now() + 60_000),
          [],
          'nothing after the end',
        );
      } finally {
        await producer.disconnect();
        await admin.deleteTopics([topic]);
      }
    });

    it('announce + listener: every announced version reaches a listener that starts later, from the beginning', async (t) => {
      const topic = uniqueName('ddcl-rt-models');
      await admin.createTopics([modelsTopicSpec(topic)]);
      const root = mkdtempSync(join(tmpdir(), 'ddcl-rt-reg-'));
      t.after(() => rmSync(root, { recursive: true, force: true }));
      const reg = new ModelRegistry(root);
      const built = await buildModel(
        spec(),
        events(800).map((e) => e.event),
        { train: TINY },
      );
      const v1 = await reg.write('pay', built.parts);
      const v2 = await reg.write('pay', { ...built.parts, parentVersion: v1 });
      const producer = await client.producer();
      const seen: ModelAnnouncement[] = [];
      const listener = new AnnouncementListener(client, {
        topic,
        model: 'pay',
        onAnnouncement: (a) => void seen.push(a),
      });
      try {
        const a1 = await announce(producer, topic, await reg.promote('pay', v1));
        assert.equal(a1.version, 'v0001');
        await listener.start();
        await announce(producer, topic, await reg.promote('pay', v2));
        await waitFor('two announcements', () => seen.length >= 2, 60_000);
        assert.deepEqual(
          seen.map((a) => a.version),
          ['v0001', 'v0002'],
        );
        const last = listener.latest('pay')!;
        assert.equal(last.name, 'pay');
        assert.equal(last.parent_version, 'v0001');
        assert.equal(last.input_dim, built.parts.inputDim);
        assert.equal(last.fingerprint, built.featurizer.fingerprint);
        assert.equal(typeof last.created, 'number');
        const loaded = await loadAnnounced(last);
        assert.equal(loaded.manifest.version, 'v0002');
        // A second instance (its own group) sees them too.
        const again: string[] = [];
        const other = new AnnouncementListener(client, {
          topic,
          onAnnouncement: (a) => void again.push(a.version),
        });
        assert.notEqual(other.groupId, listener.groupId);
        await other.start();
        try {
          await waitFor('the second listener', () => again.length >= 2, 60_000);
        } finally {
          await other.stop();
        }
        assert.deepEqual(again, ['v0001', 'v0002']);
      } finally {
        await listener.stop();
        await producer.disconnect();
        await admin.deleteTopics([topic]);
      }
    });
  });
}
