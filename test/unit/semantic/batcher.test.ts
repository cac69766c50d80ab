// The worker's reply batching: urgent replies leave at the end of the turn with whatever waits;
// replies nobody waits for leave after the delay, never before, and never lost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageBatcher } from '../../../src/core/semantic/batcher';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('MessageBatcher', () => {
  it('sends the urgent items of one turn in one message, with the lazy ones queued before', async () => {
    const sent: string[][] = [];
    const batcher = new MessageBatcher<string>((items) => sent.push(items), 1000);
    batcher.push('insert 1', false);
    batcher.push('lookup 2', true);
    batcher.push('lookup 3', true);
    batcher.push('insert 4', false);
    assert.deepEqual(sent, [], 'nothing leaves within the turn');
    await nextTurn();
    assert.deepEqual(sent, [['insert 1', 'lookup 2', 'lookup 3', 'insert 4']]);
  });

  it('holds a lazy item until the delay, then sends it alone', async () => {
    const sent: string[][] = [];
    const batcher = new MessageBatcher<string>((items) => sent.push(items), 40);
    const started = performance.now();
    batcher.push('insert 1', false);
    await nextTurn();
    await sleep(5);
    assert.deepEqual(sent, [], 'a lazy item does not leave at the end of its turn');
    while (sent.length === 0 && performance.now() - started < 2000) await sleep(2);
    assert.deepEqual(sent, [['insert 1']]);
    assert.ok(performance.now() - started >= 39, 'not before the delay');
    await sleep(60);
    assert.equal(sent.length, 1, 'its timer sends nothing more');
  });

  it('sends a waiting lazy item with the next urgent one, and flush sends everything at once', async () => {
    const sent: string[][] = [];
    const batcher = new MessageBatcher<string>((items) => sent.push(items), 10_000);
    batcher.push('insert 1', false);
    await nextTurn();
    batcher.push('lookup 2', true);
    await nextTurn();
    assert.deepEqual(sent, [['insert 1', 'lookup 2']]);
    batcher.push('insert 3', false);
    batcher.flush();
    batcher.flush();
    assert.deepEqual(sent, [['insert 1', 'lookup 2'], ['insert 3']], 'flush sends at once, and an empty flush sends nothing');
  });
});
