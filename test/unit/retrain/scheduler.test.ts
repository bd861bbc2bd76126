import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetrainError } from '../../../src/train/retrain/errors.js';
import { RetrainScheduler, type Trigger } from '../../../src/train/retrain/scheduler.js';

const deferred = (): { promise: Promise<void>; resolve: () => void } => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('RetrainScheduler', () => {
  it('never overlaps runs: a trigger during a run is skipped and counted', async () => {
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    const skipped: Trigger[] = [];
    const s = new RetrainScheduler({
      run: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await gate.promise;
        running--;
      },
      onSkip: (t) => skipped.push(t),
    });
    s.start();
    const first = s.trigger();
    assert.equal(s.running, true);
    assert.equal(await s.trigger(), false);
    assert.equal(await s.trigger('cron'), false);
    gate.resolve();
    assert.equal(await first, true);
    assert.equal(s.running, false);
    assert.equal(await s.trigger(), true);
    assert.equal(maxRunning, 1);
    assert.deepEqual({ runs: s.stats.runs, skipped: s.stats.skipped }, { runs: 2, skipped: 2 });
    assert.deepEqual(
      skipped.map((t) => t.reason),
      ['manual', 'cron'],
    );
    await s.stop();
  });

  it('triggers every N observed events, counting from the start of the last run', async () => {
    const reasons: string[] = [];
    let release = deferred();
    const s = new RetrainScheduler({
      everyEvents: 100,
      run: async (t) => {
        reasons.push(t.reason);
        await release.promise;
      },
    });
    s.start();
    s.observe(60);
    assert.equal(reasons.length, 0);
    s.observe(50); // 110 >= 100: runs
    assert.deepEqual(reasons, ['events']);
    assert.equal(s.stats.eventsSinceRun, 0);
    s.observe(120); // crossed while running: one skip
    assert.equal(s.stats.skipped, 1);
    release.resolve();
    await new Promise((r) => setImmediate(r));
    release = deferred();
    s.observe(99);
    assert.equal(reasons.length, 1);
    s.observe(1);
    assert.deepEqual(reasons, ['events', 'events']);
    release.resolve();
    await s.stop();
    s.observe(1000); // stopped: no run
    assert.equal(reasons.length, 2);
  });

  it('a failing run is counted and reported, and the next one still runs', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const s = new RetrainScheduler({
      run: async () => {
        if (n++ === 0) throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    s.start();
    assert.equal(await s.trigger(), true);
    assert.equal(await s.trigger(), true);
    assert.equal(s.stats.failed, 1);
    assert.equal((errors[0] as Error).message, 'boom');
    await s.stop();
  });

  it('fires on a cron schedule (6 fields: every second) and stops', async () => {
    const at: number[] = [];
    const s = new RetrainScheduler({
      cron: '* * * * * *',
      run: async (t) => {
        assert.equal(t.reason, 'cron');
        at.push(Date.now());
      },
    });
    s.start();
    assert.ok(s.nextRun instanceof Date);
    const deadline = Date.now() + 3500;
    while (at.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await s.stop();
    assert.ok(at.length >= 2, `cron fired ${at.length} times in 3.5 s`);
    const n = at.length;
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(at.length, n, 'no run after stop');
    assert.equal(s.nextRun, null);
  });

  it('refuses an invalid cron expression and a negative event count', () => {
    assert.throws(
      () => new RetrainScheduler({ cron: 'every hour', run: async () => {} }),
      (e: unknown) => e instanceof RetrainError && e.problem === 'bad-schedule' && !e.retriable,
    );
    assert.throws(() => new RetrainScheduler({ everyEvents: -1, run: async () => {} }), RetrainError);
  });
});
