/**
 * A cached answer must be what the live answer was: for each API (chat completions, Messages,
 * Responses) a live answer and its L1a replay, read by the official SDKs, compared field by field,
 * usage included; plus the framing a replay must honour (usage asked for later, service tier).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

/** Every chunk of a chat stream, and the text, usage and finish reason it adds up to. */
async function readChat(params: Record<string, unknown>) {
  const { data, response } = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, ...params } as never).withResponse();
  const chunks: Array<Record<string, unknown>> = [];
  for await (const chunk of data as unknown as AsyncIterable<Record<string, unknown>>) chunks.push(chunk);
  const choices = chunks.flatMap((chunk) => (chunk.choices as Array<{ delta: { content?: string | null }; finish_reason: string | null }>));
  return {
    layer: response.headers.get('x-isartor-layer'),
    text: choices.map((choice) => choice.delta.content ?? '').join(''),
    finish: choices.map((choice) => choice.finish_reason).filter(Boolean),
    usage: chunks.find((chunk) => chunk.usage)?.usage,
    usageFields: chunks.map((chunk) => 'usage' in chunk),
    heads: chunks.map(({ id, object, model, system_fingerprint }) => ({ id, object, model, system_fingerprint })),
  };
}

test('chat: a streamed replay matches the live stream field by field, usage included', async () => {
  const messages = [{ role: 'user', content: 'fidelity chat' }];
  const live = await readChat({ messages, stream_options: { include_usage: true } });
  const replay = await readChat({ messages, stream_options: { include_usage: true } });
  assert.equal(live.layer, 'l3');
  assert.equal(replay.layer, 'l1a');
  assert.equal(replay.text, live.text);
  assert.deepEqual(replay.finish, live.finish);
  assert.deepEqual(replay.usage, live.usage);
  assert.ok(replay.usageFields.every(Boolean), 'every replayed chunk carries usage, null until the last');
  assert.deepEqual(new Set(replay.heads.map((h) => JSON.stringify(h))), new Set(live.heads.map((h) => JSON.stringify(h))));

  // Plain: the JSON replay is the live JSON.
  const plainLive = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fidelity chat plain' }] });
  const plainReplay = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fidelity chat plain' }] });
  assert.deepEqual(plainReplay, plainLive);
});

test('chat: an answer stored from a stream without usage never sends its estimate as a usage chunk; the provider\'s usage replaces it', async () => {
  const messages = [{ role: 'user', content: 'stored without usage' }];
  const live = await readChat({ messages });
  assert.equal(live.usage, undefined);
  // The stored usage is Isartor's estimate: a stream that asks for usage goes to the provider.
  const asked = await readChat({ messages, stream_options: { include_usage: true } });
  assert.equal(asked.layer, 'l3');
  const usage = asked.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined;
  assert.ok(usage, 'a usage chunk is sent, the provider\'s');
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  // Its answer replaced the entry: the replays now report the provider's usage.
  const replay = await readChat({ messages, stream_options: { include_usage: true } });
  assert.equal(replay.layer, 'l1a');
  assert.deepEqual(replay.usage, usage);
  const plain = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: messages as never });
  assert.deepEqual(plain.usage, usage, 'a plain replay of the same entry reports the same usage');
});

test('chat: service_tier is echoed as asked: a "default" request is never told "flex"', async () => {
  const messages = [{ role: 'user' as const, content: 'which tier' }];
  stack.fake.enqueue({ body: { id: 'chatcmpl-tier', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', service_tier: 'flex', choices: [{ index: 0, message: { role: 'assistant', content: 'flex answer', refusal: null }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } } });
  const flex = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages, service_tier: 'flex' });
  assert.equal(flex.service_tier, 'flex');
  const { data, response } = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages, service_tier: 'default' }).withResponse();
  assert.equal(response.headers.get('x-isartor-layer'), 'l3');
  assert.notEqual(data.service_tier, 'flex');
});

test('messages: a streamed replay sends the live message_start and message_delta usage and rebuilds the same message', async () => {
  const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'fidelity messages' }] };
  const read = async () => {
    // The raw events, as LangChain reads them (the SDK's stream helper updates the start event's usage in place).
    const usages: unknown[] = [];
    for await (const event of await stack.anthropic().messages.create({ ...params, stream: true })) {
      if (event.type === 'message_start') usages.push(event.message.usage);
      if (event.type === 'message_delta') usages.push(event.usage);
    }
    const message = await stack.anthropic().messages.stream(params).finalMessage();
    return { message, usages };
  };
  const live = await read();
  const replay = await read();
  assert.equal((live.usages[0] as { output_tokens: number }).output_tokens, 1, 'the fake streams output_tokens 1 at the start, as the API does');
  assert.deepEqual(replay.usages, live.usages);
  assert.deepEqual(replay.message, live.message);
});

test('responses: live and replayed answers are equal field by field, plain and streamed, usage included', async () => {
  const params = { model: 'gpt-5-mini', input: 'fidelity responses', instructions: 'Be exact.' };
  const livePlain = await stack.openai().responses.create(params);
  const replayPlain = await stack.openai().responses.create(params);
  assert.deepEqual(replayPlain, livePlain);
  assert.ok(replayPlain.usage && replayPlain.usage.output_tokens > 0);

  const streamed = { ...params, input: 'fidelity responses streamed' };
  const liveStream = await stack.openai().responses.stream(streamed).finalResponse();
  const replayStream = await stack.openai().responses.stream(streamed).finalResponse();
  assert.deepEqual(replayStream, liveStream);
  assert.deepEqual(replayStream.usage, liveStream.usage);
});
