// broadcastBody shares a leader's live stream with followers without standing in its pipe: the
// leader's client reads the very body it was given, and followers get the same bytes, late or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { broadcastBody, type BroadcastListener } from '../../src/core/stream/broadcast';

/** A listener that writes down what it was told. */
function recorder(): BroadcastListener & { chunks: string[]; ended: boolean; failed: string | undefined } {
  const seen = { chunks: [] as string[], ended: false, failed: undefined as string | undefined };
  return Object.assign(seen, {
    chunk: (chunk: Buffer) => void seen.chunks.push(chunk.toString()),
    end: () => void (seen.ended = true),
    fail: (reason: string) => void (seen.failed = reason),
  });
}

/** Reads `body` to its end through a pipe, as the proxy's response does. */
function readThroughPipe(body: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const sink = new Writable({ write: (chunk: Buffer, _encoding, callback) => ((text += chunk.toString()), callback()) });
    sink.on('finish', () => resolve(text));
    body.pipe(sink);
  });
}

test('nothing flows before the body has a consumer, and the consumer gets every byte', async () => {
  const source = Readable.from(['data: 1\n\n', 'data: 2\n\n', 'data: [DONE]\n\n'].map((text) => Buffer.from(text)));
  const { body, broadcast } = broadcastBody(source);
  await tick();
  await tick();
  const follower = recorder();
  broadcast.subscribe(follower);
  assert.deepEqual(follower.chunks, [], 'paused until a consumer comes');
  assert.equal(await readThroughPipe(body), 'data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
  assert.deepEqual(follower.chunks, ['data: 1\n\n', 'data: 2\n\n', 'data: [DONE]\n\n']);
  assert.equal(follower.ended, true);
});

test('a follower that joins late gets what it missed, then the rest, then the end', async () => {
  const source = new PassThrough();
  const { body, broadcast } = broadcastBody(source);
  const read = readThroughPipe(body);
  source.write('a');
  await tick();
  const late = recorder();
  broadcast.subscribe(late);
  assert.deepEqual(late.chunks, ['a']);
  source.write('b');
  source.end();
  assert.equal(await read, 'ab');
  assert.deepEqual(late.chunks, ['a', 'b']);
  assert.equal(late.ended, true);
  const after = recorder();
  broadcast.subscribe(after);
  assert.deepEqual([after.chunks, after.ended], [['a', 'b'], true], 'after the end: the whole body and its end');
});

test('followers fail when the leading client goes away or the body breaks, never end', async () => {
  const leaving = new PassThrough();
  const left = broadcastBody(leaving);
  void readThroughPipe(left.body);
  const followerOfLeaving = recorder();
  left.broadcast.subscribe(followerOfLeaving);
  leaving.write('a');
  left.body.destroy();
  await tick();
  assert.equal(followerOfLeaving.ended, false);
  assert.match(followerOfLeaving.failed ?? '', /went away/);

  const breaking = new PassThrough();
  const broke = broadcastBody(breaking);
  broke.body.on('error', () => undefined);
  const followerOfBroken = recorder();
  broke.broadcast.subscribe(followerOfBroken);
  breaking.destroy(new Error('socket hang up'));
  await tick();
  assert.equal(followerOfBroken.failed, 'socket hang up');
  assert.equal(followerOfBroken.ended, false);
});

test('the leader reads the body it was given, not a copy in a second stream', () => {
  const source = new PassThrough();
  assert.equal(broadcastBody(source).body, source);
});
