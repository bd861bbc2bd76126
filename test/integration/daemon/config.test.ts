// `ddcl run` with an invalid config (a child process of the compiled CLI): it exits non-zero
// before touching Kafka, with a message that names the offending key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokers } from '../helpers/kafka.js';
import { ChildDaemon, daemonConfigObject, writeConfig } from './helpers.js';

function base(): Record<string, Record<string, unknown>> {
  return daemonConfigObject({
    impl: 'confluent',
    brokers: brokers(),
    topic: 'never-created',
    registry: '/nonexistent',
  }) as Record<string, Record<string, unknown>>;
}

describe('ddcl run with an invalid config', { timeout: 60000 }, () => {
  const cases: {
    name: string;
    edit: (c: Record<string, Record<string, unknown>>) => void;
    env?: NodeJS.ProcessEnv;
    key: string;
  }[] = [
    { name: 'a negative batch size', edit: (c) => (c.batch!.size = -3), key: 'batch.size' },
    { name: 'an unknown Kafka client', edit: (c) => (c.kafka!.client = 'rdkafka'), key: 'kafka.client' },
    { name: 'an unknown key', edit: (c) => (c.scoring!.alertTreshold = 0.9), key: 'scoring.alertTreshold' },
    {
      name: 'a broker that is not host:port',
      edit: (c) => (c.kafka!.brokers = ['localhost']),
      key: 'kafka.brokers',
    },
    {
      name: 'a bad environment override',
      edit: () => undefined,
      env: { DDCL_BATCH__SIZE: 'lots' },
      key: 'batch.size',
    },
  ];
  for (const c of cases)
    it(`exits non-zero naming the key: ${c.name}`, async () => {
      const cfg = base();
      c.edit(cfg);
      const child = new ChildDaemon(writeConfig(cfg), c.env ?? {});
      const timer = setTimeout(() => void child.kill(), 20000);
      const r = await child.exited;
      clearTimeout(timer);
      assert.ok(r.code !== null && r.code !== 0, `exit code ${r.code}: ${child.log}`);
      assert.match(child.stderr, /invalid config/, child.log);
      assert.ok(child.stderr.includes(c.key), `stderr names ${c.key}: ${child.stderr}`);
      if (c.env) assert.match(child.stderr, /environment/);
    });
});
