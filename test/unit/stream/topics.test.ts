import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ddclTopicSpecs, ensureTopics } from '../../../src/stream/topics.js';
import type { Admin, TopicSpec } from '../../../src/stream/types.js';

test('default layout: enriched per input, shared alerts, dlq and a compacted one-partition models topic', () => {
  const specs = ddclTopicSpecs(['payments', 'logins']);
  assert.deepEqual(
    specs.map((s) => s.topic),
    ['payments.ddcl.enriched', 'logins.ddcl.enriched', 'ddcl.alerts', 'ddcl.dlq', 'ddcl.models'],
  );
  const models = specs[4]!;
  assert.equal(models.numPartitions, 1);
  assert.equal(models.config?.['cleanup.policy'], 'compact');
});

test('configured output names are the ones created', () => {
  const specs = ddclTopicSpecs(['in'], {
    enrichedSuffix: '.scored',
    alertsTopic: 'ops.alerts',
    dlqTopic: 'ops.dead',
    modelsTopic: 'ops.models',
    numPartitions: 6,
  });
  assert.deepEqual(
    specs.map((s) => s.topic),
    ['in.scored', 'ops.alerts', 'ops.dead', 'ops.models'],
  );
  assert.deepEqual(
    specs.map((s) => s.numPartitions),
    [6, 6, 6, 1],
  );
});

test('ensureTopics creates only the missing topics', async () => {
  const created: TopicSpec[][] = [];
  const admin = {
    listTopics: () => Promise.resolve(['in.scored', 'ops.dead']),
    createTopics: (t: TopicSpec[]) => {
      created.push(t);
      return Promise.resolve(true);
    },
  } as unknown as Admin;
  await ensureTopics(
    admin,
    ddclTopicSpecs(['in'], { enrichedSuffix: '.scored', alertsTopic: 'ops.alerts', dlqTopic: 'ops.dead' }),
  );
  assert.deepEqual(
    created.map((c) => c.map((s) => s.topic)),
    [['ops.alerts', 'ddcl.models']],
  );
});
