// The burst spreader: requests that start in one turn of the event loop go on until the slice is
// spent and the rest wait for later turns; a lone request never waits. A virtual clock stands for
// the requests' work, so the test does not depend on how busy the machine is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLoopSlices } from '../../../src/proxy/loopSlices';
import { turnCounter } from '../../fixtures/turnCounter';

describe('loop slices', () => {
  it('a lone request, and each request of a quiet stream, goes on at once', async () => {
    let clock = 0;
    const slices = createLoopSlices(10, () => clock);
    for (let i = 0; i < 5; i++) {
      assert.equal(slices.turn(), undefined);
      clock += 50;
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  it('spreads a burst over turns of the loop: each turn starts at most a slice of work', async () => {
    let clock = 0;
    const slices = createLoopSlices(10, () => clock);
    const counter = turnCounter();
    const startedIn: number[] = [];
    // 60 requests whose bodies all arrive in one callback, each 2 ms of work once it may go on.
    await Promise.all(
      Array.from({ length: 60 }, async () => {
        for (let wait = slices.turn(); wait; wait = slices.turn()) await wait;
        startedIn.push(counter.now());
        clock += 2;
      }),
    );
    counter.stop();
    const perTurn = new Map<number, number>();
    for (const turn of startedIn) perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
    // 10 ms of slice at 2 ms a request: 5 start, and the sixth sees the slice spent.
    assert.deepEqual([...new Set(perTurn.values())], [5], `requests per turn: ${JSON.stringify([...perTurn])}`);
    assert.equal(perTurn.size, 12);
  });
});
