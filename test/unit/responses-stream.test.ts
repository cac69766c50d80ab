/**
 * The Responses API adapter's pure parts: the accumulator rebuilds the provider's response from its
 * events, the renderer's events rebuild the stored response, failures are never complete, and the
 * upstream URL (OpenAI and Azure) and cache rules of the API style.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAIResponsesBody, openAIResponsesEvents, type FakeAnswer } from '../../src/bench/fake-answers';
import { canonicalHash, dependsOnProviderState, type JsonObject, type ProxyRequest } from '../../src/core/request';
import { createAnswerCollector } from '../../src/core/stream/answer-collector';
import { LargeAnswer } from '../../src/core/stream/large-answer';
import { createResponsesAccumulator } from '../../src/core/stream/responses-accumulator';
import { renderResponsesStream, responsesReplayBody } from '../../src/core/stream/responses-render';
import { SseParser } from '../../src/core/stream/sse-parser';
import { upstreamUrl } from '../../src/core/upstream/target';

const answer: FakeAnswer = { text: 'Hello there, friend.', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: { q: 'x' } }], inputTokens: 12, outputTokens: 9, model: 'gpt-5-mini', serial: 3 };
const request = { model: 'gpt-5-mini', input: 'hi', store: false };

function accumulate(text: string): JsonObject | undefined {
  const parser = new SseParser();
  const accumulator = createResponsesAccumulator();
  // Cut the text in odd places, as a network would.
  for (let at = 0; at < text.length; at += 37) for (const event of parser.push(text.slice(at, at + 37))) accumulator.push(event);
  for (const event of parser.end()) accumulator.push(event);
  return accumulator.result();
}

const frames = (events: Array<[string, object]>): string => events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('');

test('the accumulator keeps the response of response.completed, usage included', () => {
  const body = accumulate(frames(openAIResponsesEvents(answer, request)));
  assert.deepEqual(body, openAIResponsesBody(answer, request));
});

test('a stream that failed, stopped incomplete or broke off before response.completed is not an answer', () => {
  const events = openAIResponsesEvents(answer, request);
  assert.equal(accumulate(frames(events.slice(0, -1))), undefined);
  const failed = openAIResponsesBody(answer, request);
  assert.equal(accumulate(frames([...events.slice(0, -1), ['response.failed', { type: 'response.failed', response: { ...failed, status: 'failed' } }]])), undefined);
  assert.equal(accumulate(frames([...events.slice(0, -1), ['error', { type: 'error', code: 'server_error', message: 'boom', param: null }]])), undefined);
  assert.equal(accumulate(frames([...events.slice(0, -1), ['response.incomplete', { type: 'response.incomplete', response: { ...failed, status: 'incomplete' } }]])), undefined);
});

test("a failed response or an error event is the provider's error; an incomplete one is an answer cut by its own limit", () => {
  const events = openAIResponsesEvents(answer, request);
  const body = openAIResponsesBody(answer, request);
  const upstreamError = (last: [string, object]): boolean | undefined => {
    const parser = new SseParser();
    const accumulator = createResponsesAccumulator();
    for (const event of parser.push(frames([...events.slice(0, -1), last]))) accumulator.push(event);
    return accumulator.upstreamError?.();
  };
  assert.equal(upstreamError(['response.failed', { type: 'response.failed', response: { ...body, status: 'failed' } }]), true);
  assert.equal(upstreamError(['error', { type: 'error', code: 'server_error', message: 'boom', param: null }]), true);
  assert.equal(upstreamError(['response.incomplete', { type: 'response.incomplete', response: { ...body, status: 'incomplete' } }]), false);
  assert.equal(upstreamError(events.at(-1)!), false);
});

test('the rendered replay rebuilds the stored response, with increasing sequence numbers and the request echoed', () => {
  const stored = { api: 'openai.responses' as const, body: openAIResponsesBody(answer, { ...request, store: true }) as JsonObject, usage: { inputTokens: 12, outputTokens: 9, cachedInputTokens: 0, cacheWriteTokens: 0 }, createdAt: 0 };
  const text = renderResponsesStream(stored, request);
  assert.deepEqual(accumulate(text), responsesReplayBody(stored.body, request));
  assert.equal(accumulate(text)!.store, false, 'store echoes this request');
  const parser = new SseParser();
  const events = parser.push(text).map((event) => ({ name: event.event, data: JSON.parse(event.data) as { type: string; sequence_number: number } }));
  assert.ok(events.every((event, index) => event.name === event.data.type && event.data.sequence_number === index));
  assert.deepEqual(events.map((event) => event.data.type), [
    'response.created', 'response.in_progress',
    'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
    'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done',
    'response.completed',
  ]);
});

test('a plain Responses body with error: null is a complete answer; a failed one is not', () => {
  const collect = (body: object) => {
    const collector = createAnswerCollector('openai.responses', 'application/json');
    collector.push(Buffer.from(JSON.stringify(body)));
    const result = collector.finish();
    assert.ok(!(result instanceof LargeAnswer));
    return result;
  };
  const body = openAIResponsesBody(answer, request);
  assert.deepEqual(collect(body)?.usage, { inputTokens: 12, outputTokens: 9, cachedInputTokens: 0, cacheWriteTokens: 0 });
  assert.equal(collect({ ...body, status: 'failed', error: { code: 'server_error', message: 'x' } }), undefined);
});

test('Responses URLs: OpenAI style under the base URL, Azure on its v1 surface with the deployment in the body', () => {
  assert.equal(upstreamUrl({ name: 'o', kind: 'openai', baseUrl: 'https://api.openai.com/v1' }, 'responses', 'gpt-5'), 'https://api.openai.com/v1/responses');
  assert.equal(upstreamUrl({ name: 'o', kind: 'openai', baseUrl: 'https://api.openai.com/v1/' }, 'responses', '', 'limit=5', '/resp_1/input_items'), 'https://api.openai.com/v1/responses/resp_1/input_items?limit=5');
  const azure = { name: 'a', kind: 'azure' as const, baseUrl: 'https://x.openai.azure.com', azure: { apiVersion: '2024-10-21', deployment: 'dep' } };
  assert.equal(upstreamUrl(azure, 'responses', 'gpt-5'), 'https://x.openai.azure.com/openai/v1/responses');
  assert.equal(upstreamUrl(azure, 'responses', '', '', '/resp_1/cancel'), 'https://x.openai.azure.com/openai/v1/responses/resp_1/cancel');
});

test('cache rules: provider state and background make a request uncacheable; store: false is another key, store: true the default', () => {
  assert.equal(dependsOnProviderState('openai.responses', { previous_response_id: 'resp_1' }), true);
  assert.equal(dependsOnProviderState('openai.responses', { conversation: { id: 'conv_1' } }), true);
  assert.equal(dependsOnProviderState('openai.responses', { background: true }), true);
  assert.equal(dependsOnProviderState('openai.responses', { input: 'x', store: true, previous_response_id: null }), false);
  // A stored prompt's latest version can change on the provider's side while the request stays the same.
  assert.equal(dependsOnProviderState('openai.responses', { prompt: { id: 'pmpt_1' } }), true);
  assert.equal(dependsOnProviderState('openai.responses', { prompt: { id: 'pmpt_1', version: '', variables: { a: 'b' } } }), true);
  assert.equal(dependsOnProviderState('openai.responses', { prompt: { id: 'pmpt_1', version: '3' } }), false);
  assert.equal(dependsOnProviderState('openai.responses', { prompt: null }), false);
  const req = (body: JsonObject): Pick<ProxyRequest, 'api' | 'route' | 'credentialHash' | 'model' | 'body' | 'headers'> => ({
    api: 'openai.responses', route: { id: 'r', providers: [] }, credentialHash: 'c', model: 'm', body, headers: {},
  });
  assert.notEqual(canonicalHash(req({ model: 'm', input: 'x', store: true })), canonicalHash(req({ model: 'm', input: 'x', store: false })));
  assert.equal(canonicalHash(req({ model: 'm', input: 'x', store: true })), canonicalHash(req({ model: 'm', input: 'x' })));
  assert.notEqual(canonicalHash(req({ model: 'm', input: 'x', include: ['reasoning.encrypted_content'] })), canonicalHash(req({ model: 'm', input: 'x' })));
});

test('a replayed response echoes only what the asking request set: never the user or ids another request set', () => {
  const stored = { id: 'resp_1', object: 'response', store: false, metadata: { session: 'first' }, user: 'first-user', safety_identifier: 'first-id', prompt_cache_key: 'first-key', output: [] };
  const replay = responsesReplayBody(stored, { model: 'm', input: 'x' });
  assert.deepEqual(
    [replay.store, replay.metadata, replay.user, replay.safety_identifier, replay.prompt_cache_key],
    [true, {}, null, null, null],
  );
  const own = responsesReplayBody(stored, { model: 'm', input: 'x', store: false, user: 'second-user', prompt_cache_key: 'k2' });
  assert.deepEqual([own.store, own.user, own.prompt_cache_key, own.safety_identifier], [false, 'second-user', 'k2', null]);
  assert.equal('safety_identifier' in responsesReplayBody({ id: 'resp_2' }, {}), false, 'a field the provider did not send is not added');
});
