// The train role: `ddcl train --from-kafka --since 1h --config FILE` reads its window from the input
// topics by timestamp, gates, promotes and announces the new version on the models topic.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ModelRegistry } from '../../../src/registry/registry.js';
import { createKafkaClient } from '../../../src/stream/index.js';
import { decodeAnnouncement } from '../../../src/train/retrain/index.js';
import { brokers, clientConfig, uniqueName } from '../helpers/kafka.js';
import {
  createTopic,
  daemonConfigObject,
  paymentEvents,
  produceEvents,
  readAll,
  ROOT,
  trainedRegistry,
  writeConfig,
} from '../daemon/helpers.js';

function ddcl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'ddcl.js'), ...args],
      { cwd: ROOT, maxBuffer: 1 << 24 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('ddcl train --from-kafka', { timeout: 300000 }, () => {
  it(
    'trains on the window since a time, promotes and announces the version',
    { timeout: 240000 },
    async () => {
      const client = createKafkaClient(clientConfig('confluent'));
      const admin = await client.admin();
      const producer = await client.producer();
      const topic = uniqueName('rt-role');
      try {
        await createTopic(admin, topic, 2);
        const ev = paymentEvents(4000, { seed: 41, anomalyRate: 0.005 });
        const registry = await trainedRegistry(ev, 1500);
        await produceEvents(producer, topic, ev, { partitions: 2 });
        const cfg = daemonConfigObject({
          impl: 'confluent',
          brokers: brokers(),
          topic,
          registry,
          minEvents: 1000,
        });
        const file = writeConfig(cfg);
        const r = await ddcl(['train', '--from-kafka', '--since', '1h', '--config', file, '--json']);
        assert.equal(r.code, 0, r.stderr.slice(-2000));
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
          result: string;
          version: string;
          rows: number;
        };
        assert.equal(out.result, 'accepted');
        assert.equal(out.rows, 4000);
        assert.equal(await new ModelRegistry(registry).current('payments'), out.version);
        const models = await readAll(client, admin, (cfg.output as { modelsTopic: string }).modelsTopic);
        const a = decodeAnnouncement(models[models.length - 1]!.value!);
        assert.equal(a.name, 'payments');
        assert.equal(a.version, out.version);
        // A window that starts after the last event holds nothing: the run is skipped, exit 3.
        const none = await ddcl(['train', '--from-kafka', '--since', '1ms', '--config', file, '--json']);
        assert.equal(none.code, 3, none.stderr.slice(-1000));
        assert.equal(
          (JSON.parse(none.stdout.trim().split('\n').pop()!) as { result: string }).result,
          'skipped',
        );
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    },
  );

  it('needs --config', async () => {
    const r = await ddcl(['train', '--from-kafka']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--from-kafka needs --config FILE/);
  });
});
