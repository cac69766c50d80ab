/**
 * Answers too large to store (core/stream/large-answer.ts): the collector does not parse them on the
 * proxy's thread and does not hand them to the caches, but still finds their usage, on the real body
 * worker, for every API style, plain and streamed. Answers just under the limit are stored as before.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { anthropicBody, anthropicEvents, openAIChatBody, openAIChatChunks, openAIResponsesBody, openAIResponsesEvents, type FakeAnswer } from '../../src/bench/fake-answers';
import type { ApiStyle } from '../../src/core/request';
import { createAccumulator, createAnswerCollector } from '../../src/core/stream/answer-collector';
import { answerTexts } from '../../src/core/stream/estimate-usage';
import { SseParser } from '../../src/core/stream/sse-parser';
import { LargeAnswer, MAX_STORED_ANSWER_BYTES, type AnswerReading, type OffThreadAnswerReader } from '../../src/core/stream/large-answer';
import { teeUpstreamBody } from '../../src/core/upstream/tee';
import { createBodyParser } from '../../src/proxy/bodyParser';
import { createLogger } from '../../src/core/logger';
import { blockedMs } from './blockedMs';

const bodies = createBodyParser({ logger: createLogger(() => undefined, 'error') });
after(() => bodies.close());

/** The real worker's reader, recording what it was handed. */
const handed: Array<Uint8Array | string> = [];
const workerReader: OffThreadAnswerReader = (api, json) => {
  handed.push(json);
  return bodies.readAnswer(api, json);
};

/** Words of CJK and emoji (three and four bytes each in UTF-8), separated by spaces so a stream sends them one by one. */
function wideText(bytes: number): string {
  const words = ['緩存', '答案', '🚀火箭', '数据', 'キャッシュ', '😀'];
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const word = words[i % words.length]!;
    out.push(word);
    size += Buffer.byteLength(word) + 1;
  }
  return out.join(' ');
}

const answerOf = (text: string): FakeAnswer => ({ text, toolCalls: [], inputTokens: 40, outputTokens: 900_000, model: 'm', serial: 1 });
const USAGE = { inputTokens: 40, outputTokens: 900_000, cachedInputTokens: 0, cacheWriteTokens: 0 };

function collectPlain(api: ApiStyle, body: object, reader?: OffThreadAnswerReader) {
  const collector = createAnswerCollector(api, 'application/json', reader);
  const bytes = Buffer.from(JSON.stringify(body));
  for (let at = 0; at < bytes.length; at += 64 * 1024) collector.push(bytes.subarray(at, at + 64 * 1024));
  return { result: collector.finish(), ended: collector.ended() };
}

function collectStream(api: ApiStyle, frames: string, reader?: OffThreadAnswerReader) {
  const collector = createAnswerCollector(api, 'text/event-stream', reader);
  const bytes = Buffer.from(frames);
  for (let at = 0; at < bytes.length; at += 16 * 1024) collector.push(bytes.subarray(at, at + 16 * 1024));
  return { result: collector.finish(), ended: collector.ended() };
}

const named = (events: Array<[string, object]>): string => events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('');
const unnamed = (chunks: object[]): string => `${chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('')}data: [DONE]\n\n`;

async function readingOf(result: unknown): Promise<AnswerReading | undefined> {
  assert.ok(result instanceof LargeAnswer, `a LargeAnswer, not ${result === undefined ? 'undefined' : 'a stored answer'}`);
  return result.reading;
}

test('a plain answer over the limit is read on the body worker, from shared memory, and not stored', async () => {
  const text = wideText(MAX_STORED_ANSWER_BYTES + 1_000);
  for (const [api, body] of [['openai.chat', openAIChatBody(answerOf(text))], ['anthropic.messages', anthropicBody(answerOf(text))], ['openai.responses', openAIResponsesBody(answerOf(text), { model: 'm', input: 'hi' })]] as const) {
    handed.length = 0;
    const { result } = collectPlain(api, body, workerReader);
    assert.deepEqual(await readingOf(result), { complete: true, usage: USAGE, outputTokens: Math.ceil(Buffer.byteLength(text) / 4) }, api);
    assert.equal(handed.length, 1);
    assert.ok(handed[0] instanceof Uint8Array && handed[0].buffer instanceof SharedArrayBuffer, 'handed over in shared memory');
    assert.equal(Buffer.from(handed[0]).toString(), JSON.stringify(body), 'every byte of the body');
  }
});

test('without a worker the reading happens here; a large error body or broken JSON is not a complete answer', async () => {
  const text = wideText(MAX_STORED_ANSWER_BYTES + 1_000);
  assert.equal((await readingOf(collectPlain('openai.chat', openAIChatBody(answerOf(text))).result))?.complete, true);
  const error = { error: { message: text, type: 'server_error' } };
  assert.deepEqual(await readingOf(collectPlain('openai.chat', error, workerReader).result), { complete: false, outputTokens: 0 });
  const collector = createAnswerCollector('openai.chat', 'application/json', workerReader);
  collector.push(Buffer.from(JSON.stringify(openAIChatBody(answerOf(text))).slice(0, -10)));
  assert.deepEqual(await readingOf(collector.finish()), { complete: false, outputTokens: 0 });
});

test('an answer just under the limit is still stored', () => {
  const body = openAIChatBody(answerOf('x'.repeat(MAX_STORED_ANSWER_BYTES - 1_000)));
  const { result } = collectPlain('openai.chat', body, workerReader);
  assert.ok(result && !(result instanceof LargeAnswer));
  assert.deepEqual(result.usage, USAGE);
  const stream = collectStream('openai.chat', unnamed(openAIChatChunks(answerOf('word '.repeat((MAX_STORED_ANSWER_BYTES - 1_000) / 5)), true)), workerReader);
  assert.ok(stream.result && !(stream.result instanceof LargeAnswer) && stream.ended);
});

test('chat and Messages streams whose text is over the limit are not stored; their usage comes from the stream', async () => {
  const text = wideText(MAX_STORED_ANSWER_BYTES + 1_000);
  const chat = collectStream('openai.chat', unnamed(openAIChatChunks(answerOf(text), true)), workerReader);
  assert.equal(chat.ended, true);
  assert.deepEqual(await readingOf(chat.result), { complete: true, usage: USAGE, outputTokens: Math.ceil(Buffer.byteLength(text) / 4) });
  const messages = collectStream('anthropic.messages', named(anthropicEvents(answerOf(text))), workerReader);
  assert.equal(messages.ended, true);
  const reading = await readingOf(messages.result);
  assert.equal(reading?.complete, true);
  assert.equal(reading?.usage?.outputTokens, USAGE.outputTokens);
  // Without include_usage the stream says nothing: the reading still has the text's size for an estimate.
  const bare = collectStream('openai.chat', unnamed(openAIChatChunks(answerOf(text), false)), workerReader);
  assert.deepEqual(await readingOf(bare.result), { complete: true, outputTokens: Math.ceil(Buffer.byteLength(text) / 4) });
});

test('a Responses stream whose last events repeat a text over the limit: ended, not stored, usage read on the worker', async () => {
  const text = wideText(MAX_STORED_ANSWER_BYTES + 1_000);
  const request = { model: 'm', input: 'hi' };
  handed.length = 0;
  const { result, ended } = collectStream('openai.responses', named(openAIResponsesEvents(answerOf(text), request)), workerReader);
  assert.equal(ended, true, 'the stream reached its end event: no error frame is added');
  assert.deepEqual(await readingOf(result), { complete: true, usage: USAGE, outputTokens: Math.ceil(Buffer.byteLength(text) / 4) });
  assert.equal(handed.length, 1, 'only response.completed went to the worker');
  // Only a middle event over the limit: not stored, and the usage comes from the small response.completed.
  const small = openAIResponsesEvents(answerOf('short text'), request).map(([name, data]): [string, object] =>
    name === 'response.output_text.done' ? [name, { ...data, text }] : [name, data],
  );
  const middle = collectStream('openai.responses', named(small), workerReader);
  assert.equal(middle.ended, true);
  assert.deepEqual(await readingOf(middle.result), { complete: true, usage: USAGE, outputTokens: Math.ceil('short text'.length / 4) });
  // A stream cut before response.completed neither ended nor read.
  const events = openAIResponsesEvents(answerOf(text), request);
  const cut = collectStream('openai.responses', named(events.slice(0, -1)), workerReader);
  assert.equal(cut.ended, false);
  assert.equal(await readingOf(cut.result), undefined);
});

test('the tee passes every byte on and settles completion as undefined, the large answer with its reading', async () => {
  const body = JSON.stringify(openAIChatBody(answerOf(wideText(2 * MAX_STORED_ANSWER_BYTES))));
  const source = Readable.from([Buffer.from(body)], { objectMode: false });
  const teed = teeUpstreamBody(source, { api: 'openai.chat', contentType: 'application/json', collect: true, reader: workerReader });
  const chunks: Buffer[] = [];
  for await (const chunk of teed.body) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), body);
  assert.equal(await teed.completion, undefined);
  assert.deepEqual((await teed.large)?.usage, USAGE);
  // A small answer: completion as before, nothing large.
  const small = teeUpstreamBody(Readable.from([Buffer.from(JSON.stringify(openAIChatBody(answerOf('hi'))))], { objectMode: false }), { api: 'openai.chat', contentType: 'application/json', collect: true, reader: workerReader });
  small.body.resume();
  assert.deepEqual((await small.completion)?.usage, USAGE);
  assert.equal(await small.large, undefined);
});

test('once a stream\'s text is past what can be stored, its text is let go as it comes: the reading is the same, the text is not kept', async () => {
  const text = 'lorem ipsum '.repeat(MAX_STORED_ANSWER_BYTES / 4);
  const frames = { chat: unnamed(openAIChatChunks(answerOf(text), true)), messages: named(anthropicEvents(answerOf(text))) };
  const chat = collectStream('openai.chat', frames.chat, workerReader);
  assert.deepEqual(await readingOf(chat.result), { complete: true, usage: USAGE, outputTokens: Math.ceil(text.length / 4) });
  const messages = collectStream('anthropic.messages', frames.messages, workerReader);
  const reading = await readingOf(messages.result);
  assert.deepEqual([reading?.complete, reading?.usage?.outputTokens, reading?.outputTokens], [true, USAGE.outputTokens, Math.ceil(text.length / 4)]);

  for (const [api, stream] of [['openai.chat', frames.chat], ['anthropic.messages', frames.messages]] as const) {
    const accumulator = createAccumulator(api);
    const parser = new SseParser();
    const bytes = Buffer.from(stream);
    let kept = 0;
    for (let at = 0; at < bytes.length; at += 16 * 1024) {
      for (const event of parser.push(bytes.subarray(at, at + 16 * 1024))) {
        accumulator.push(event);
        if ((accumulator.textLength?.() ?? 0) > MAX_STORED_ANSWER_BYTES) accumulator.shed?.();
      }
    }
    for (const event of parser.end()) accumulator.push(event);
    const body = accumulator.result();
    assert.ok(body, `${api}: still a complete answer's shape`);
    kept = answerTexts(api, body).reduce((sum, piece) => sum + piece.length, 0);
    assert.ok(kept <= MAX_STORED_ANSWER_BYTES, `${api}: ${kept} characters of text kept`);
  }
});

test('a plain answer under the size limit but of very many pieces is read on the body worker, not parsed here', async () => {
  // A tool input of 60,000 keys (880 KB): parsing it on the proxy's thread took 35-100 ms, for an
  // answer that is not stored anyway (MAX_STORED_ANSWER_NODES).
  const input = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, i]));
  const body = { id: 'msg_wide', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'tool_use', id: 'toolu_1', name: 'write', input }], stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 40, output_tokens: 900_000 } };
  assert.ok(JSON.stringify(body).length < MAX_STORED_ANSWER_BYTES);
  handed.length = 0;
  const collector = createAnswerCollector('anthropic.messages', 'application/json', workerReader);
  const bytes = Buffer.from(JSON.stringify(body));
  for (let at = 0; at < bytes.length; at += 64 * 1024) collector.push(bytes.subarray(at, at + 64 * 1024));
  let result: unknown;
  const blocked = blockedMs(() => (result = collector.finish()));
  const reading = await readingOf(result);
  assert.equal(handed.length, 1, 'handed to the worker');
  assert.deepEqual(reading?.usage, USAGE);
  assert.ok(blocked < 30, `finishing held this thread ${blocked.toFixed(1)} ms`);
});

test('a Messages stream whose tool input has very many pieces is not parsed here: shed, not stored, its usage read', async () => {
  // 110,000 short keys (under 1 MiB, so the text alone does not shed it) streamed as
  // input_json_delta fragments: the joined input was parsed at its content_block_stop, and the
  // rebuilt answer measured, in one go on this thread (60,000 keys: 62 ms in `isartor serve`).
  const fragments = ['{', ...Array.from({ length: 110_000 }, (_, i) => `"${i.toString(36)}":0,`), '"end":1}'];
  assert.ok(fragments.join('').length < MAX_STORED_ANSWER_BYTES);
  const head: Array<[string, object]> = [
    ['message_start', { type: 'message_start', message: { id: 'msg_wide', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 40, output_tokens: 1 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'write', input: {} } }],
    ...fragments.map((partial_json): [string, object] => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json } }]),
  ];
  const tail: Array<[string, object]> = [
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 900_000 } }],
    ['message_stop', { type: 'message_stop' }],
  ];
  const collector = createAnswerCollector('anthropic.messages', 'text/event-stream', workerReader);
  const bytes = Buffer.from(named(head));
  for (let at = 0; at < bytes.length; at += 16 * 1024) collector.push(bytes.subarray(at, at + 16 * 1024));
  // The input is whole at its content_block_stop: that push, and the finish, are what is measured.
  const ending = Buffer.from(named(tail));
  let result: unknown;
  const blocked = blockedMs(() => {
    collector.push(ending);
    result = collector.finish();
  });
  assert.ok(blocked < 30, `the input's end and the finish held this thread ${blocked.toFixed(1)} ms`);
  // The unparsed input counts as output, its bytes as they came (the rebuilt block keeps `{}`).
  assert.deepEqual(await readingOf(result), { complete: true, usage: USAGE, outputTokens: Math.ceil((2 + Buffer.byteLength(fragments.join(''))) / 4) });
});
