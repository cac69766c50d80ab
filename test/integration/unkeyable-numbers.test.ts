/**
 * JSON integers beyond 2^53 through the real proxy: JSON.parse rounds them, so two requests that
 * differ only in one would share a cache key. Such a request is neither answered from a cache
 * (L1a, L1b) nor stored, and reaches the upstream with the client's own digits.
 * Raw HTTP, not an SDK: a JavaScript client cannot even send 9007199254740993.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPENAI_KEY, ANTHROPIC_KEY, postRaw, startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack((config) => {
    config.semantic.enabled = true;
  });
});
after(() => stack.close());

const openaiAuth = { authorization: `Bearer ${OPENAI_KEY}` };
const anthropicAuth = { 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };

/** Posts a chat body given as JSON text; returns the layer that answered. */
async function chat(json: string): Promise<string | null> {
  const response = await postRaw(`${stack.proxy.url}/v1/chat/completions`, json, openaiAuth);
  assert.equal(response.status, 200, response.text);
  return response.headers.get('x-isartor-layer');
}

const withSeed = (content: string, seed: string): string => `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${JSON.stringify(content)}}],"seed":${seed}}`;

/** Waits (by polling the proxy's own stats) until L1b holds `count` entries. */
async function semanticEntries(count: number): Promise<void> {
  for (;;) {
    const stats = (await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as { caches: Record<string, { entries: number }> };
    if ((stats.caches.semantic?.entries ?? 0) >= count) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('two requests that differ only in a seed beyond 2^53 both reach the upstream, each with its own digits', async () => {
  // A safe seed is cached as usual: the test would see a collapse.
  assert.equal(await chat(withSeed('seeded question', '9007199254740991')), 'l3');
  assert.equal(await chat(withSeed('seeded question', '9007199254740991')), 'l1a');

  const before = stack.fake.requests.length;
  assert.equal(await chat(withSeed('seeded question', '9007199254740993')), 'l3');
  assert.equal(await chat(withSeed('seeded question', '9007199254740992')), 'l3', 'not answered with the other seed\'s answer');
  assert.equal(await chat(withSeed('seeded question', '9007199254740993')), 'l3', 'nor stored for a repeat');
  const forwarded = stack.fake.requests.slice(before).map((request) => request.rawBody.toString('utf8'));
  assert.deepEqual(forwarded, [withSeed('seeded question', '9007199254740993'), withSeed('seeded question', '9007199254740992'), withSeed('seeded question', '9007199254740993')], 'the client\'s bytes, digits intact');
});

test('an integer beyond 2^53 inside a tool call\'s input in the history keeps the request out of the cache', async () => {
  const body = (id: string): string =>
    `{"model":"claude-sonnet-5-5","max_tokens":64,"messages":[{"role":"user","content":"look it up"},` +
    `{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"id":${id}}}]},` +
    `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"found"}]}]}`;
  const before = stack.fake.requests.length;
  for (const id of ['12345678901234567890', '12345678901234567891']) {
    const response = await postRaw(`${stack.proxy.url}/v1/messages`, body(id), anthropicAuth);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers.get('x-isartor-layer'), 'l3', id);
  }
  assert.equal(stack.fake.requests.length, before + 2);
  assert.ok(stack.fake.requests.at(-1)!.rawBody.toString('utf8').includes('"input":{"id":12345678901234567891}'));
});

test('L1b neither stores nor answers a request whose answer-relevant fields hold an integer beyond 2^53', async () => {
  stack.proxy.setLayerEnabled('exact', false);
  try {
    assert.equal(await chat(withSeed('How do I rotate the signing keys?', '9007199254740993')), 'l3');
    // A request the semantic cache does store, sent after: once it is in, the first one would be too.
    assert.equal(await chat(withSeed('What is the capital of Bavaria?', '7')), 'l3');
    await semanticEntries(1);
    assert.equal(await chat(withSeed('How do I rotate the signing keys?', '9007199254740992')), 'l3', 'not the other seed\'s answer');
    assert.equal(await chat(withSeed('What is the capital of Bavaria?', '7')), 'l1b', 'L1b is on and answering');
  } finally {
    stack.proxy.setLayerEnabled('exact', true);
  }
});
