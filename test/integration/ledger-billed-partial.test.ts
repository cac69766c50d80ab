// What the provider billed for requests that did not end in a complete answer: a Responses answer
// cut at max_output_tokens, an Anthropic stream its client cancelled, streams that broke or ended in
// the provider's error event after usage went by. The ledger records the usage the provider reported
// (a running count marked estimated), prices it, and none of these answers is cached.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { anthropicEvents, openAIChatChunks, openAIResponsesEvents, type FakeAnswer } from '../../src/bench/fake-answers';
import type { LedgerRecord } from '../../src/core/ledger-types';
import { startStack, type Stack } from './helpers';

let stack: Stack;

before(async () => {
  stack = await startStack((config) => {
    config.optimiser.enabled = false;
  });
});
after(async () => {
  await stack.close();
});

/** The fake's answer text, so its output tokens (length / 4) and event counts are known here. */
const TEXT = 'forty characters of answer, more or less';
const OUTPUT_TOKENS = Math.ceil(TEXT.length / 4);
const shape: FakeAnswer = { text: TEXT, toolCalls: [], inputTokens: 1, outputTokens: 1, model: 'm', serial: 1 };

/** The input tokens the fake reported for its latest request (its rule: body bytes / 4). */
const lastInputTokens = (): number => Math.max(1, Math.ceil(stack.fake.requests.at(-1)!.rawBody.length / 4));

/** The next ledger record, as the proxy counts it. */
function nextRecord(): Promise<LedgerRecord> {
  return new Promise((resolve) => {
    const subscription = stack.proxy.onRecord((record) => {
      subscription.dispose();
      resolve(record);
    });
  });
}

const close = (actual: number | undefined, expected: number, what: string) => assert.ok(Math.abs((actual ?? NaN) - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

test('a Responses answer cut at max_output_tokens is billed for its usage, streamed or not, and not cached', async () => {
  // gpt-5-mini: $0.25 input, $2 output per MTok.
  for (const stream of [true, false]) {
    const input = `cut short, streamed: ${stream}`;
    stack.fake.enqueue({ text: TEXT, incomplete: true });
    const recorded = nextRecord();
    if (stream) {
      const types: string[] = [];
      for await (const event of await stack.openai().responses.create({ model: 'gpt-5-mini', input, stream: true, max_output_tokens: 10 })) types.push(event.type);
      assert.equal(types.at(-1), 'response.incomplete');
    } else {
      const response = await stack.openai().responses.create({ model: 'gpt-5-mini', input, max_output_tokens: 10 });
      assert.equal(response.status, 'incomplete');
    }
    const record = await recorded;
    const inputTokens = lastInputTokens();
    assert.deepEqual([record.layer, record.status, record.inputTokens, record.outputTokens, record.estimated], ['l3', 200, inputTokens, OUTPUT_TOKENS, false]);
    close(record.spentUsd, (inputTokens * 0.25 + OUTPUT_TOKENS * 2) / 1e6, 'spent');
    // Never stored: the same request goes to the provider again.
    const calls = stack.fake.requests.length;
    stack.fake.enqueue({ text: TEXT, incomplete: true });
    const again = await stack.openai().responses.create({ model: 'gpt-5-mini', input, max_output_tokens: 10 }).withResponse();
    assert.equal(again.response.headers.get('x-isartor-layer'), 'l3');
    assert.equal(stack.fake.requests.length, calls + 1);
  }
});

test('a Responses answer cut at max_output_tokens after 1.5 MiB is billed for its usage, read off the thread, streamed or not', async () => {
  // 1.5 MiB of text in 1,536 deltas: a stream's final events each repeat it, response.incomplete
  // among them, and the plain body holds it, so none is parsed on the proxy's thread; the usage
  // must reach the ledger all the same.
  const text = Array.from({ length: 1536 }, (_, i) => `${'x'.repeat(1017)}${String(i).padStart(6, '0')}`).join(' ');
  const outputTokens = Math.ceil(text.length / 4);
  for (const stream of [true, false]) {
    const input = `cut short after 1.5 MiB, streamed: ${stream}`;
    stack.fake.enqueue({ text, incomplete: true });
    const recorded = nextRecord();
    if (stream) {
      let last: OpenAI.Responses.ResponseStreamEvent | undefined;
      for await (const event of await stack.openai().responses.create({ model: 'gpt-5-mini', input, stream: true, max_output_tokens: 400_000 })) last = event;
      assert.equal(last?.type, 'response.incomplete');
      assert.ok(Buffer.byteLength(JSON.stringify(last)) > 1.5 * 1024 * 1024, 'the last event is over 1.5 MiB');
    } else {
      const response = await stack.openai().responses.create({ model: 'gpt-5-mini', input, max_output_tokens: 400_000 });
      assert.equal(response.status, 'incomplete');
    }
    const record = await recorded;
    const inputTokens = lastInputTokens();
    assert.deepEqual([record.layer, record.status, record.inputTokens, record.outputTokens, record.estimated], ['l3', 200, inputTokens, outputTokens, false], `streamed: ${stream}`);
    close(record.spentUsd, (inputTokens * 0.25 + outputTokens * 2) / 1e6, `spent, streamed: ${stream}`);
  }
});

test('an Anthropic stream its client cancelled is billed for the usage already streamed, marked estimated until message_delta', async () => {
  // claude-haiku-4-5: $1 input, $5 output per MTok. message_start says 1 output token so far.
  const events = anthropicEvents(shape).length;
  const cases = [
    { name: 'after message_start', stallAfterEvents: 3, outputTokens: 1, estimated: true },
    { name: 'after message_delta', stallAfterEvents: events - 1, outputTokens: OUTPUT_TOKENS, estimated: false },
  ];
  for (const { name, stallAfterEvents, outputTokens, estimated } of cases) {
    const content = `cancelled ${name}`;
    stack.fake.enqueue({ text: TEXT, stallAfterEvents });
    const recorded = nextRecord();
    const aborts = stack.fake.aborted.length;
    const stream = stack.anthropic().messages.stream({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content }] });
    let seen = 0;
    for await (const _event of stream) {
      if (++seen === stallAfterEvents - 1) break; // ping is not handed over: every other event was
    }
    stream.abort();
    await stack.fake.waitForAborts(aborts + 1);
    const record = await recorded;
    const inputTokens = lastInputTokens();
    assert.deepEqual([record.layer, record.status, record.inputTokens, record.outputTokens, record.estimated], ['error', 499, inputTokens, outputTokens, estimated], name);
    close(record.spentUsd, (inputTokens * 1 + outputTokens * 5) / 1e6, `spent ${name}`);
    const again = await stack.anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content }] }).withResponse();
    assert.equal(again.response.headers.get('x-isartor-layer'), 'l3', `${name}: not cached`);
  }
});

test("streams that broke or ended in the provider's error event after their usage are billed for it, in every API", async () => {
  const chatFrames = openAIChatChunks(shape, true).length; // then [DONE]
  const messagesEvents = anthropicEvents(shape).length;
  const responsesEvents = openAIResponsesEvents(shape, {}).length;
  const failedResponse = { id: 'resp_failed', object: 'response', status: 'failed', error: { code: 'server_error', message: 'failed' }, output: [], usage: { input_tokens: 70, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 75 } };
  stack.fake.enqueue(
    // Chat: every chunk, the usage one included, then the connection drops before [DONE].
    { text: TEXT, breakAfterEvents: chatFrames },
    // Messages: message_delta with the final usage, then an overloaded error instead of message_stop.
    { text: TEXT, errorAfterEvents: { events: messagesEvents - 1, frame: `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n` } },
    // Responses: a failure event that carries the usage billed.
    { text: TEXT, errorAfterEvents: { events: responsesEvents - 1, frame: `event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', sequence_number: responsesEvents - 1, response: failedResponse })}\n\n` } },
  );

  let recorded = nextRecord();
  await assert.rejects(async () => {
    const stream = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'broken after usage' }], stream: true, stream_options: { include_usage: true } });
    for await (const _chunk of stream) {
      // read to the break
    }
  }, OpenAI.APIError);
  let record = await recorded;
  let inputTokens = lastInputTokens();
  assert.deepEqual([record.layer, record.status, record.error, record.inputTokens, record.outputTokens, record.estimated], ['error', 502, 'upstream_stream_broken', inputTokens, OUTPUT_TOKENS, false]);
  close(record.spentUsd, (inputTokens * 0.15 + OUTPUT_TOKENS * 0.6) / 1e6, 'chat spent');

  recorded = nextRecord();
  await assert.rejects(stack.anthropic().messages.stream({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'error after usage' }] }).finalMessage());
  record = await recorded;
  inputTokens = lastInputTokens();
  assert.deepEqual([record.layer, record.status, record.error, record.inputTokens, record.outputTokens, record.estimated], ['error', 502, 'upstream_stream_error', inputTokens, OUTPUT_TOKENS, false]);
  close(record.spentUsd, (inputTokens * 1 + OUTPUT_TOKENS * 5) / 1e6, 'messages spent');

  recorded = nextRecord();
  for await (const _event of await stack.openai().responses.create({ model: 'gpt-5-mini', input: 'failed with usage', stream: true })) {
    // a failed response is an event the SDK hands over
  }
  record = await recorded;
  assert.deepEqual([record.layer, record.status, record.error, record.inputTokens, record.outputTokens], ['error', 502, 'upstream_stream_error', 70, 5]);
  close(record.spentUsd, (70 * 0.25 + 5 * 2) / 1e6, 'responses spent');
});
