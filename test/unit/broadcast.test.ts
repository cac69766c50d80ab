// broadcastBody shares a leader's live stream with followers without standing in its pipe: the
// leader's client reads the very body it was given, and followers get the same bytes, late or not,
// each at its own pace, with only what some reader still needs kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { broadcastBody, type Broadcast, type BroadcastEnd } from '../../src/core/stream/broadcast';
import { followerStream } from '../../src/core/stream/follower-stream';

/** A reader that takes everything it is woken for and writes down what it got. */
function recorder(broadcast: Broadcast): { chunks: string[]; over: () => BroadcastEnd | undefined; close: () => void } {
  const chunks: string[] = [];
  const reader = broadcast.join(() => drain());
  assert.ok(reader);
  const drain = (): void => {
    for (let chunk = reader.take(); chunk; chunk = reader.take()) chunks.push(chunk.toString());
  };
  drain();
  return { chunks, over: () => reader.over, close: () => reader.close() };
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
  const follower = recorder(broadcast);
  assert.deepEqual(follower.chunks, [], 'paused until a consumer comes');
  assert.equal(await readThroughPipe(body), 'data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
  assert.deepEqual(follower.chunks, ['data: 1\n\n', 'data: 2\n\n', 'data: [DONE]\n\n']);
  assert.deepEqual(follower.over(), { ended: true });
});

test('a follower that joins late gets what it missed, then the rest, then the end', async () => {
  const source = new PassThrough();
  const { body, broadcast } = broadcastBody(source);
  const read = readThroughPipe(body);
  source.write('a');
  await tick();
  const late = recorder(broadcast);
  assert.deepEqual(late.chunks, ['a']);
  source.write('b');
  source.end();
  assert.equal(await read, 'ab');
  assert.deepEqual(late.chunks, ['a', 'b']);
  assert.deepEqual(late.over(), { ended: true });
  const after = recorder(broadcast);
  assert.deepEqual([after.chunks, after.over()], [['a', 'b'], { ended: true }], 'after the end: the whole body and its end');
});

test('followers learn when the body is destroyed or breaks, never that it ended', async () => {
  const leaving = new PassThrough();
  const left = broadcastBody(leaving);
  void readThroughPipe(left.body);
  const followerOfLeaving = recorder(left.broadcast);
  leaving.write('a');
  left.body.destroy();
  await tick();
  assert.match((followerOfLeaving.over() as { failed: string }).failed, /went away/);

  const breaking = new PassThrough();
  const broke = broadcastBody(breaking);
  broke.body.on('error', () => undefined);
  const followerOfBroken = recorder(broke.broadcast);
  breaking.destroy(new Error('socket hang up'));
  await tick();
  assert.deepEqual(followerOfBroken.over(), { failed: 'socket hang up' });
});

test('the leader reads the body it was given, not a copy in a second stream', () => {
  const source = new PassThrough();
  assert.equal(broadcastBody(source).body, source);
});

test('a body longer than the join limit admits no new follower, and keeps only what its followers have not read', async () => {
  const source = new PassThrough();
  const { body, broadcast } = broadcastBody(source, { joinBytes: 10 });
  const read = readThroughPipe(body);
  const early = broadcast.join(() => undefined)!;
  for (let i = 0; i < 200; i++) source.write(Buffer.alloc(1, 97));
  await tick();
  assert.equal(broadcast.join(() => undefined), undefined, 'too long to join');
  let taken = 0;
  while (early.take()) taken++;
  assert.equal(taken, 200, 'the follower that was there from the start gets every chunk');
  source.end();
  await read;
  assert.deepEqual(early.over, { ended: true });
});

test('a follower that stops reading holds no copy of the stream, however much the leader reads', async () => {
  const source = new PassThrough();
  const { body, broadcast } = broadcastBody(source);
  const read = readThroughPipe(body);
  const follower = followerStream(broadcast, Promise.resolve(undefined), { api: 'anthropic.messages', includeUsage: false, leaderIncludesUsage: false, request: {}, leaderRequest: {} })!.body;
  const stalled = new Writable({ highWaterMark: 1024, write: () => undefined });
  follower.pipe(stalled);
  const chunk = Buffer.alloc(64 * 1024, 97);
  for (let i = 0; i < 100; i++) {
    source.write(chunk);
    await tick();
  }
  // Counting what a PassThrough would hold on its writable side too.
  const held = follower.readableLength + ((follower as unknown as Partial<Writable>).writableLength ?? 0);
  assert.ok(held <= follower.readableHighWaterMark + chunk.length, `the follower's stream holds ${held} bytes`);
  source.end();
  assert.equal((await read).length, 100 * chunk.length);
});

test('a follower of a Responses stream that breaks off gets an error event numbered after the last event', async () => {
  const source = new PassThrough();
  const { body, broadcast } = broadcastBody(source);
  body.resume();
  const follower = followerStream(broadcast, Promise.resolve(undefined), { api: 'openai.responses', includeUsage: false, leaderIncludesUsage: false, request: {}, leaderRequest: {} })!.body;
  const read = readThroughPipe(follower);
  for (let sequence = 0; sequence < 3; sequence++) source.write(`event: response.in_progress\ndata: {"type":"response.in_progress","sequence_number":${sequence}}\n\n`);
  await tick();
  source.destroy(new Error('socket hang up'));
  const last = (await read).trimEnd().split('\n\n').at(-1)!;
  assert.match(last, /^event: error\n/);
  assert.equal(JSON.parse(last.split('data: ')[1]!).sequence_number, 3);
});

test('once the leader\'s client has gone, the body goes at the pace of its slowest follower', async () => {
  const source = new PassThrough({ highWaterMark: 1024 });
  const { body, broadcast } = broadcastBody(source, { lagBytes: 4096 });
  const reader = broadcast.join(() => undefined)!;
  assert.equal(broadcast.readOn(), true);
  const chunk = Buffer.alloc(1024, 97);
  for (let i = 0; i < 64; i++) source.write(chunk);
  await tick();
  assert.ok(body.isPaused(), 'paused while the follower is behind');
  let taken = 0;
  while (reader.take()) taken++;
  await tick();
  assert.ok(taken < 64, `held back: ${taken} of 64 chunks read`);
  source.end();
  for (let step = 0; step < 100 && !reader.over; step++) {
    while (reader.take()) taken++;
    await tick();
  }
  while (reader.take()) taken++;
  assert.equal(taken, 64);
  assert.deepEqual(reader.over, { ended: true });
});
