import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetrainError } from '../../../src/train/retrain/errors.js';
import {
  InlierWindow,
  packSamples,
  unpackSamples,
  type WindowSample,
} from '../../../src/train/retrain/window.js';

const s = (i: number, ts = i * 1000): WindowSample => ({ value: Buffer.from(`event-${i}`), timestamp: ts });
const ids = (w: InlierWindow): string[] => w.snapshot().map((x) => x.value.toString());

describe('InlierWindow', () => {
  it('keeps the newest maxEvents, oldest first', () => {
    const w = new InlierWindow({ maxEvents: 5, maxAgeMs: 1e12 });
    w.add([s(0), s(1), s(2)]);
    assert.deepEqual(ids(w), ['event-0', 'event-1', 'event-2']);
    w.add([s(3), s(4), s(5), s(6)]);
    assert.equal(w.size, 5);
    assert.deepEqual(ids(w), ['event-2', 'event-3', 'event-4', 'event-5', 'event-6']);
    w.add(Array.from({ length: 12 }, (_, i) => s(10 + i)));
    assert.deepEqual(ids(w), ['event-17', 'event-18', 'event-19', 'event-20', 'event-21']);
    assert.equal(w.added, 19);
  });

  it('evicts by age relative to the newest timestamp, not the wall clock', () => {
    const w = new InlierWindow({ maxEvents: 100, maxAgeMs: 2500 });
    w.add([s(0), s(1), s(2)]); // timestamps 0, 1000, 2000: all within 2500 of 2000
    assert.equal(w.size, 3);
    w.add([s(4)]); // newest 4000: 0 and 1000 are older than 1500
    assert.deepEqual(ids(w), ['event-2', 'event-4']);
    assert.equal(w.newest, 4000);
  });

  it('drops a late record already older than the age bound, and hides one that aged in the middle', () => {
    const w = new InlierWindow({ maxEvents: 10, maxAgeMs: 2000 });
    w.add([s(5), s(9, 10_000)]); // 5000 is now older than 8000: evicted from the head
    assert.deepEqual(ids(w), ['event-9']);
    w.add([s(1, 1000)]); // late: never enters
    assert.deepEqual(ids(w), ['event-9']);
    w.add([s(2, 8700), s(3, 10_600)]);
    assert.deepEqual(ids(w), ['event-9', 'event-2', 'event-3']);
    w.add([s(4, 10_800)]); // 8700 < 8800 but sits behind 10_000 in arrival order: filtered on snapshot
    assert.deepEqual(ids(w), ['event-9', 'event-3', 'event-4']);
  });

  it('copies values so a consumer buffer can be reused', () => {
    const w = new InlierWindow({ maxEvents: 4, maxAgeMs: 1e9 });
    const buf = Buffer.from('abc');
    w.add([{ value: buf, timestamp: 1 }]);
    buf.write('xyz');
    assert.equal(w.snapshot()[0]!.value.toString(), 'abc');
  });

  it('clear empties it', () => {
    const w = new InlierWindow({ maxEvents: 4, maxAgeMs: 1e9 });
    w.add([s(1), s(2)]);
    w.clear();
    assert.equal(w.size, 0);
    assert.deepEqual(w.snapshot(), []);
  });

  it('refuses bounds that are not positive', () => {
    assert.throws(
      () => new InlierWindow({ maxEvents: 0, maxAgeMs: 1 }),
      (e: unknown) => e instanceof RetrainError && e.problem === 'bad-window',
    );
    assert.throws(() => new InlierWindow({ maxEvents: 1, maxAgeMs: 0 }), RetrainError);
  });

  it('pack/unpack round-trips bytes and timestamps in one transferable buffer', () => {
    const xs = [s(1), { value: Buffer.alloc(0), timestamp: 5 }, s(22)];
    const p = packSamples(xs);
    assert.equal(p.offsets.length, 4);
    assert.equal(
      p.bytes.length,
      xs.reduce((a, x) => a + x.value.length, 0),
    );
    const back = unpackSamples(p);
    assert.deepEqual(
      back.map((x) => [x.value.toString(), x.timestamp]),
      xs.map((x) => [x.value.toString(), x.timestamp]),
    );
  });
});
