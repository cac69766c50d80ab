// The order a bounded L1b index evicts in: least recently added or used first, each shift cheap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentEntries } from '../../../src/core/semantic/recentEntries';
import { blockedMs } from '../blockedMs';

describe('RecentEntries', () => {
  it('shifts the least recently added key first; a use or a new add moves a key to the back', () => {
    const recent = new RecentEntries();
    for (const key of ['a', 'b', 'c', 'd']) recent.added('p', key);
    recent.touch('a');
    recent.added('p', 'b'); // added again (replaced)
    recent.removed('p', 'b'); // ...and the old copy's removal leaves the new one held
    assert.equal(recent.size, 4);
    assert.deepEqual([recent.shift(), recent.shift(), recent.shift(), recent.shift(), recent.shift()], ['c', 'd', 'a', 'b', undefined]);
    assert.equal(recent.size, 0);
  });

  it('keeps a key two holders hold until both remove it; a touch of an absent key adds nothing', () => {
    const recent = new RecentEntries();
    recent.added('p', 'k');
    recent.added('p', 'k');
    recent.removed('p', 'k');
    assert.equal(recent.has('k'), true);
    recent.removed('p', 'k');
    assert.equal(recent.has('k'), false);
    recent.touch('k');
    assert.equal(recent.size, 0);
  });

  it('agrees with a plain model under random adds, uses, removes and shifts', () => {
    const recent = new RecentEntries();
    const model: string[] = [];
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let step = 0; step < 20_000; step++) {
      const key = `k${random(300)}`;
      const at = model.indexOf(key);
      switch (random(4)) {
        case 0:
          if (at < 0) {
            recent.added('p', key);
            model.push(key);
          }
          break;
        case 1:
          recent.touch(key);
          if (at >= 0) model.push(...model.splice(at, 1));
          break;
        case 2:
          if (at >= 0) {
            recent.removed('p', key);
            model.splice(at, 1);
          }
          break;
        default:
          assert.equal(recent.shift(), model.shift());
      }
      assert.equal(recent.size, model.length);
    }
  });

  it('stays cheap as a full index evicts one entry per add (a fresh walk per shift cost ~25 µs at 100k)', () => {
    const recent = new RecentEntries();
    for (let i = 0; i < 100_000; i++) recent.added('p', `key-${i}`);
    const ms = blockedMs(() => {
      for (let i = 100_000; i < 300_000; i++) {
        recent.added('p', `key-${i}`);
        recent.shift();
      }
    });
    assert.equal(recent.size, 100_000);
    assert.equal(recent.shift(), 'key-200000');
    assert.ok(ms < 1000, `${ms} ms for 200k adds and shifts`);
  });
});
