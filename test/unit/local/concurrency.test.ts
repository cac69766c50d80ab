// The text channel (callback producer → for-await consumer), the abortable mutex, and untilAborted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { untilAborted } from '../../../src/core/abortable';
import { Mutex } from '../../../src/core/local/mutex';
import { TextChannel } from '../../../src/core/local/textChannel';

void test('a text channel delivers chunks pushed before and after the reader waits, then ends', async () => {
  const channel = new TextChannel();
  channel.push('a');
  const reading = (async () => {
    const out: string[] = [];
    for await (const chunk of channel) out.push(chunk);
    return out;
  })();
  await Promise.resolve();
  channel.push('b');
  channel.push('');
  channel.push('c');
  channel.close();
  channel.push('ignored');
  assert.deepEqual(await reading, ['a', 'b', 'c']);
});

void test('a failed text channel raises after the buffered chunks', async () => {
  const channel = new TextChannel();
  channel.push('a');
  channel.fail(new Error('engine crashed'));
  const iterator = channel[Symbol.asyncIterator]();
  assert.deepEqual(await iterator.next(), { value: 'a', done: false });
  await assert.rejects(iterator.next(), /engine crashed/);
});

void test('the mutex serves waiters in order and a waiter that gives up never takes the lock', async () => {
  const mutex = new Mutex();
  const order: string[] = [];
  const releaseFirst = await mutex.acquire();
  const gaveUp = new AbortController();
  const second = mutex.acquire(gaveUp.signal).then((release) => (order.push('second'), release));
  const third = mutex.acquire().then((release) => (order.push('third'), release));
  gaveUp.abort(new Error('over budget'));
  await assert.rejects(second, /over budget/);
  releaseFirst();
  const releaseThird = await third;
  assert.deepEqual(order, ['third']);
  assert.equal(mutex.locked, true);
  releaseThird();
  releaseThird();
  assert.equal(mutex.locked, false);
});

void test('untilAborted stops waiting on abort and swallows a late rejection', async () => {
  let rejectLate!: (error: Error) => void;
  const work = new Promise<string>((_resolve, reject) => (rejectLate = reject));
  const controller = new AbortController();
  const waiting = untilAborted(work, controller.signal);
  controller.abort(new Error('budget'));
  await assert.rejects(waiting, /budget/);
  rejectLate(new Error('late failure'));
  assert.equal(await untilAborted(Promise.resolve('ok'), new AbortController().signal), 'ok');
});
