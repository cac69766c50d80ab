/**
 * The tee of an upstream body: a plain (JSON) body goes on as it is and is collected whoever reads
 * it; a broken or abandoned body is never an answer; a stream still gets its closing error frame.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PassThrough, Readable, Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { teeUpstreamBody } from '../../src/core/upstream/tee';

const ANSWER = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'four' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const JSON_OPTIONS = { api: 'openai.chat' as const, contentType: 'application/json', collect: true };

/** A source that already holds its whole body in three chunks before anyone reads it, as an upstream answer often does. */
function bufferedSource(text: string): PassThrough {
  const source = new PassThrough();
  const bytes = Buffer.from(text);
  source.write(bytes.subarray(0, 10));
  source.write(bytes.subarray(10, 40));
  source.end(bytes.subarray(40));
  return source;
}

function sink(): { writable: Writable; text: () => string; finished: Promise<unknown> } {
  const chunks: Buffer[] = [];
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const finished = new Promise((resolve) => writable.on('finish', resolve));
  return { writable, text: () => Buffer.concat(chunks).toString(), finished };
}

test('a plain body is passed on unchanged, not copied through a Transform, and collected when piped a turn later', async () => {
  const source = bufferedSource(ANSWER);
  const { body, completion } = teeUpstreamBody(source, JSON_OPTIONS);
  assert.equal(body, source, 'the client reads the upstream body itself');
  // The layers between the tee and the response take a few turns: nothing may flow meanwhile.
  await nextTurn();
  await nextTurn();
  const out = sink();
  body.pipe(out.writable);
  const answer = await completion;
  await out.finished;
  assert.equal(out.text(), ANSWER);
  assert.equal(answer?.api, 'openai.chat');
  assert.deepEqual(answer?.body, JSON.parse(ANSWER));
  assert.equal(answer?.usage.outputTokens, 1);
});

test('a plain body is parsed for the caches only after the pipe has ended the response', async () => {
  const { body, completion } = teeUpstreamBody(bufferedSource(ANSWER), JSON_OPTIONS);
  const events: string[] = [];
  const out = sink();
  const end = out.writable.end.bind(out.writable);
  out.writable.end = ((...args: Parameters<Writable['end']>) => {
    events.push('response ended');
    return end(...args);
  }) as Writable['end'];
  const parse = JSON.parse;
  JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    if (text === ANSWER) events.push('answer parsed');
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    body.pipe(out.writable);
    const answer = await completion;
    assert.equal(answer?.api, 'openai.chat');
  } finally {
    JSON.parse = parse;
  }
  assert.deepEqual(events, ['response ended', 'answer parsed']);
});

test('a plain body read by an async iterator (the single flight reading an error body) is collected too', async () => {
  const { body, completion } = teeUpstreamBody(bufferedSource(ANSWER), JSON_OPTIONS);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), ANSWER);
  assert.deepEqual((await completion)?.body, JSON.parse(ANSWER));
});

test('an error status body is passed on but never collected', async () => {
  const { body, completion } = teeUpstreamBody(bufferedSource(ANSWER), { ...JSON_OPTIONS, collect: false });
  const out = sink();
  body.pipe(out.writable);
  assert.equal(await completion, undefined);
  await out.finished;
  assert.equal(out.text(), ANSWER);
});

test('a plain body that breaks half-way fails its reader and is no answer', async () => {
  const source = new PassThrough();
  source.write(Buffer.from(ANSWER.slice(0, 30)));
  const { body, completion } = teeUpstreamBody(source, JSON_OPTIONS);
  const failed = new Promise<Error>((resolve) => body.once('error', resolve));
  body.pipe(sink().writable);
  await nextTurn();
  source.destroy(new Error('socket hang up'));
  assert.equal((await failed).message, 'socket hang up');
  assert.equal(await completion, undefined);
});

test('a plain body abandoned half-way (the client left) is no answer, even if more bytes would come', async () => {
  const source = new PassThrough();
  source.write(Buffer.from(ANSWER.slice(0, 30)));
  const { body, completion } = teeUpstreamBody(source, JSON_OPTIONS);
  body.pipe(sink().writable);
  await nextTurn();
  body.destroy();
  assert.equal(await completion, undefined);
  assert.ok(source.destroyed, 'the upstream body is ended with the client');
});

test('a stream that ends before its end marker still gets the API\'s error frame', async () => {
  const source = Readable.from([Buffer.from('data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n')]);
  const { body, completion } = teeUpstreamBody(source, { api: 'openai.chat', contentType: 'text/event-stream', collect: true });
  assert.notEqual(body, source);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  assert.match(Buffer.concat(chunks).toString(), /upstream_stream_broken/);
  assert.equal(await completion, undefined);
});

const STREAM_OPTIONS = { api: 'openai.chat' as const, contentType: 'text/event-stream', collect: true };
const STREAM_FRAMES = [
  'data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"fo"}}]}\n\n',
  'data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"ur"},"finish_reason":"stop"}]}\n\n',
  'data: [DONE]\n\n',
];

test('a whole stream goes to the client byte for byte, with no frame added, and is collected', async () => {
  const source = new PassThrough();
  const { body, completion } = teeUpstreamBody(source, STREAM_OPTIONS);
  const out = sink();
  body.pipe(out.writable);
  for (const frame of STREAM_FRAMES) {
    // Split mid-frame, as upstreams do.
    source.write(frame.slice(0, 7));
    source.write(frame.slice(7));
    await nextTurn();
  }
  source.end();
  await out.finished;
  assert.equal(out.text(), STREAM_FRAMES.join(''));
  const answer = await completion;
  assert.equal(answer?.api, 'openai.chat');
  assert.equal(JSON.stringify(answer?.body).includes('four'), true);
});

test('a stream does not flow before its client reads, and holds the upstream while the client is behind', async () => {
  const source = new PassThrough({ highWaterMark: 64 });
  const { body } = teeUpstreamBody(source, STREAM_OPTIONS);
  source.write(STREAM_FRAMES[0]);
  await nextTurn();
  await nextTurn();
  assert.equal(body.readableLength, 0, 'nothing taken from the upstream before a reader comes');
  // A reader that takes one chunk and then stops: the tee's buffer fills and the upstream is paused.
  const big = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"' + 'x'.repeat(4096) + '"}}]}\n\n';
  body.once('data', () => body.pause());
  for (let i = 0; i < 8; i++) source.write(big);
  await nextTurn();
  await nextTurn();
  assert.equal(source.isPaused(), true, 'the upstream waits for the client');
  const out = sink();
  body.pipe(out.writable);
  body.resume();
  for (const frame of STREAM_FRAMES.slice(1)) source.write(frame);
  source.end();
  await out.finished;
  assert.ok(out.text().endsWith(STREAM_FRAMES.slice(1).join('')), 'every byte arrives once the client reads again');
});

test('a stream that breaks mid-way ends with the error frame, not a cut, and is no answer', async () => {
  const source = new PassThrough();
  const { body, completion } = teeUpstreamBody(source, STREAM_OPTIONS);
  const out = sink();
  body.pipe(out.writable);
  source.write(STREAM_FRAMES[0]);
  await nextTurn();
  source.destroy(new Error('socket hang up'));
  await out.finished;
  assert.ok(out.text().startsWith(STREAM_FRAMES[0]));
  assert.match(out.text(), /upstream_stream_broken/);
  assert.match(out.text(), /socket hang up/);
  assert.equal(await completion, undefined);
});

test('a stream whose client leaves ends its upstream body and is no answer', async () => {
  const source = new PassThrough();
  const { body, completion } = teeUpstreamBody(source, STREAM_OPTIONS);
  body.resume();
  source.write(STREAM_FRAMES[0]);
  await nextTurn();
  body.destroy();
  assert.equal(await completion, undefined);
  await nextTurn();
  assert.ok(source.destroyed, 'the upstream body is ended with the client');
});

const RESPONSES_FRAMES = [
  'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}\n\n',
  'event: response.in_progress\ndata: {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}\n\n',
];

/** The `sequence_number` of the error event the tee ends a broken Responses stream with. */
async function errorEventSequence(collect: boolean): Promise<unknown> {
  const source = new PassThrough();
  const { body } = teeUpstreamBody(source, { api: 'openai.responses', contentType: 'text/event-stream', collect });
  const out = sink();
  body.pipe(out.writable);
  for (const frame of RESPONSES_FRAMES) source.write(frame);
  await nextTurn();
  source.destroy(new Error('socket hang up'));
  await out.finished;
  const last = out.text().trimEnd().split('\n\n').at(-1)!;
  assert.match(last, /^event: error\n/);
  return JSON.parse(last.split('data: ')[1]!).sequence_number;
}

test('a broken Responses stream ends in an error event numbered after the last event, collected or not', async () => {
  assert.equal(await errorEventSequence(true), 2);
  // An error status sent as a stream is not collected; its events are still counted.
  assert.equal(await errorEventSequence(false), 2);
});

test('a stream reports its failure for the ledger only when the upstream broke it, not when the client left', async () => {
  const broken = new PassThrough();
  const cut = teeUpstreamBody(broken, STREAM_OPTIONS);
  cut.body.resume();
  broken.write(STREAM_FRAMES[0]);
  await nextTurn();
  broken.destroy(new Error('socket hang up'));
  await cut.completion;
  assert.equal(cut.streamFailure(), 'upstream_stream_broken', 'known once completion resolved');

  const whole = teeUpstreamBody(Readable.from(STREAM_FRAMES.map((frame) => Buffer.from(frame))), STREAM_OPTIONS);
  whole.body.resume();
  await whole.completion;
  assert.equal(whole.streamFailure(), undefined);

  const left = new PassThrough();
  const abandoned = teeUpstreamBody(left, STREAM_OPTIONS);
  abandoned.body.resume();
  left.write(STREAM_FRAMES[0]);
  await nextTurn();
  abandoned.body.destroy();
  await abandoned.completion;
  await nextTurn();
  assert.equal(abandoned.streamFailure(), undefined, 'a client that left is recorded as gone (499) by the proxy');
});
