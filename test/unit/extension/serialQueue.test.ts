import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerialQueue } from '../../../src/extension/lifecycle/serialQueue';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('SerialQueue', () => {
  it('runs one task at a time, in the order they were queued', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    const task = (name: string, turns: number) => async () => {
      events.push(`${name} start`);
      for (let i = 0; i < turns; i++) await tick();
      events.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([queue.run(task('a', 3)), queue.run(task('b', 1)), queue.run(task('c', 0))]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(events, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('gives a failure to its caller and carries on with the next task', async () => {
    const queue = new SerialQueue();
    const failing = queue.run(async () => {
      await tick();
      throw new Error('boom');
    });
    const next = queue.run(async () => 'next');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'next');
  });
});
