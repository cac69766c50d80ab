/** Breakpoint placement: where the optimiser puts Anthropic cache_control markers, and where never. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasClientCacheControl, MAX_BREAKPOINTS, minimumCacheableTokens, planCacheHints } from '../../../src/core/optimiser/cacheHints';
import { applyJsonEdits } from '../../../src/core/optimiser/jsonEdits';
import type { JsonObject } from '../../../src/core/request';
import { countTokens } from '../../../src/core/tokens';

/** `count` distinct words; how many tokens that is, the tests measure with the real tokenizer. */
function words(count: number, seed = 'w'): string {
  return Array.from({ length: count }, (_, i) => `${seed}${i}`).join(' ');
}

function hinted(body: JsonObject, model = 'claude-sonnet-4-5'): { out: JsonObject; breakpoints: number } {
  const plan = planCacheHints(body, model, countTokens);
  return { out: JSON.parse(applyJsonEdits(JSON.stringify(body), plan.edits)) as JsonObject, breakpoints: plan.breakpoints };
}

/** Paths of every block carrying cache_control, as "tools.0", "system.1", "messages.3.0". */
function markerPaths(body: JsonObject): string[] {
  const found: string[] = [];
  const visit = (value: unknown, path: string[]): void => {
    if (Array.isArray(value)) value.forEach((item, i) => visit(item, [...path, String(i)]));
    else if (value && typeof value === 'object') {
      if ('cache_control' in value) found.push(path.filter((part) => part !== 'content').join('.'));
      for (const [key, item] of Object.entries(value)) if (key !== 'cache_control') visit(item, [...path, key]);
    }
  };
  visit(body, []);
  return found;
}

/** An agent-loop request: tools, a long system prompt, then user/assistant turns with tool results. */
function agentRequest(turns: number): JsonObject {
  const messages: JsonObject[] = [{ role: 'user', content: words(300, 'task') }];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'assistant', content: [{ type: 'text', text: `step ${i}` }, { type: 'tool_use', id: `t${i}`, name: 'bash', input: { command: `ls ${i}` } }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: words(200, `out${i}`) }] });
  }
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    tools: [{ name: 'bash', description: 'run', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
    system: words(1500, 'sys'),
    messages,
  };
}

test('minimum cacheable length comes from the model id', () => {
  assert.equal(minimumCacheableTokens('claude-sonnet-4-5-20250929'), 1024);
  assert.equal(minimumCacheableTokens('claude-3-7-sonnet-latest'), 1024);
  assert.equal(minimumCacheableTokens('claude-opus-4-1'), 1024);
  assert.equal(minimumCacheableTokens('claude-3-5-haiku-20241022'), 2048);
  assert.equal(minimumCacheableTokens('claude-3-haiku-20240307'), 2048);
  assert.equal(minimumCacheableTokens('claude-haiku-4-5'), 4096);
  assert.equal(minimumCacheableTokens('claude-opus-4-5'), 4096);
  assert.equal(minimumCacheableTokens('claude-future-9'), 4096, 'an unknown Claude gets the largest known minimum');
});

test('an agent loop gets markers on the system prompt and the two newest user turns', () => {
  const { out, breakpoints } = hinted(agentRequest(5));
  // tools alone are far below 1024 tokens: no marker there.
  assert.deepEqual(markerPaths(out), ['system.0', 'messages.8.0', 'messages.10.0']);
  assert.equal(breakpoints, 3);
  assert.ok(Array.isArray(out.system), 'a string system prompt becomes one text block');
});

test('large tools get their own marker, and there are never more than four', () => {
  const body = agentRequest(6);
  body.tools = [{ name: 'big', description: words(600, 'doc'), input_schema: { type: 'object' } }, { name: 'bash', description: 'run', input_schema: { type: 'object' } }];
  const { out, breakpoints } = hinted(body);
  assert.deepEqual(markerPaths(out), ['tools.1', 'system.0', 'messages.10.0', 'messages.12.0']);
  assert.equal(breakpoints, MAX_BREAKPOINTS);
});

test('no marker below the minimum: a short request gets none, a Haiku request needs twice as much', () => {
  const short = { model: 'claude-sonnet-4-5', max_tokens: 10, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] };
  assert.deepEqual(planCacheHints(short, 'claude-sonnet-4-5', countTokens), { edits: [], breakpoints: 0 }, 'too short: forwarded verbatim, not even wrapped');
  const medium: JsonObject = { model: 'x', max_tokens: 10, system: words(700, 's'), messages: [{ role: 'user', content: 'Hi' }] };
  const tokens = countTokens(medium.system as string);
  assert.ok(tokens >= 1024 && tokens < 2048, `the fixture must sit between the two minimums (${tokens} tokens)`);
  assert.equal(hinted(medium, 'claude-sonnet-4-5').breakpoints, 2);
  assert.equal(hinted(medium, 'claude-3-5-haiku-20241022').breakpoints, 0);
});

test('requests that carry any cache_control of their own are left untouched', () => {
  const body = agentRequest(3);
  const messages = body.messages as JsonObject[];
  const lastTurn = messages[messages.length - 1]!;
  const result = (lastTurn.content as JsonObject[])[0]!;
  result.content = [{ type: 'text', text: 'nested', cache_control: { type: 'ephemeral' } }];
  assert.equal(hasClientCacheControl(body), true);
  const plan = planCacheHints(body, 'claude-sonnet-4-5', countTokens);
  assert.deepEqual(plan, { edits: [], breakpoints: 0 });
  assert.equal(hasClientCacheControl({ cache_control: { type: 'ephemeral' }, messages: [] }), true);
});

test('string turns are wrapped the same way whether or not they are marked', () => {
  const body: JsonObject = { model: 'm', max_tokens: 1, system: words(1100, 's'), messages: [{ role: 'user', content: 'one' }, { role: 'assistant', content: 'two' }, { role: 'user', content: 'three' }, { role: 'assistant', content: 'four' }, { role: 'user', content: 'five' }] };
  const { out } = hinted(body);
  const messages = out.messages as JsonObject[];
  for (const message of messages) assert.ok(Array.isArray(message.content) && message.content.length === 1, 'every string content becomes one text block');
  assert.deepEqual(markerPaths(out), ['system.0', 'messages.2.0', 'messages.4.0']);
  const stripped = JSON.parse(JSON.stringify(out).replaceAll(',"cache_control":{"type":"ephemeral"}', '')) as JsonObject;
  assert.deepEqual((stripped.messages as JsonObject[])[0], { role: 'user', content: [{ type: 'text', text: 'one' }] });
});

test('thousands of string turns: one edit per turn, applied in one pass, each turn wrapped the same', () => {
  // 6,500 turns once took ~2 s of the proxy's thread: every wrap copied the whole body.
  const messages = Array.from({ length: 6_501 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `ok${i % 10}` }));
  const body: JsonObject = { model: 'm', max_tokens: 1, system: words(1100, 's'), messages };
  const plan = planCacheHints(body, 'claude-sonnet-4-5', countTokens);
  assert.equal(plan.breakpoints, 3);
  assert.equal(plan.edits.length, 6_502, 'the system prompt and every turn, each wrapped once');
  const out = JSON.parse(applyJsonEdits(JSON.stringify(body), plan.edits)) as JsonObject;
  assert.deepEqual(markerPaths(out), ['system.0', 'messages.6498.0', 'messages.6500.0']);
  assert.deepEqual((out.messages as JsonObject[])[6_499]!.content, [{ type: 'text', text: 'ok9' }]);
});

test('an empty text block is never marked; the block before it is', () => {
  const body: JsonObject = { model: 'm', max_tokens: 1, system: words(1100, 's'), messages: [{ role: 'user', content: [{ type: 'text', text: 'question' }, { type: 'text', text: '' }] }] };
  const { out } = hinted(body);
  assert.deepEqual(markerPaths(out), ['system.0', 'messages.0.0']);
});

test('an assistant prefill is not marked (its bytes will not recur), and empty strings are never wrapped', () => {
  const body: JsonObject = {
    model: 'm',
    max_tokens: 1,
    system: '',
    messages: [{ role: 'user', content: words(800, 'q') }, { role: 'assistant', content: 'Sure, here' }],
  };
  const { out } = hinted(body);
  assert.deepEqual(markerPaths(out), ['messages.0.0']);
  assert.equal(out.system, '', 'an empty system prompt stays an empty string');
  assert.deepEqual((out.messages as JsonObject[])[1], { role: 'assistant', content: [{ type: 'text', text: 'Sure, here' }] });
});

test('a deferred tool is never marked (the API refuses it): the last tool loaded up front is', () => {
  const big = { name: 'big', description: words(1200, 'doc'), input_schema: { type: 'object' } };
  const deferred = { name: 'mcp__x__search', description: 'found by tool search', input_schema: { type: 'object' }, defer_loading: true };
  const toolset = { type: 'mcp_toolset', mcp_server_name: 'x', default_config: { defer_loading: true } };
  const body: JsonObject = { model: 'm', max_tokens: 1, tools: [big, deferred, toolset], system: words(100, 's'), messages: [{ role: 'user', content: 'hi' }] };
  const { out } = hinted(body);
  assert.deepEqual(markerPaths(out), ['tools.0', 'system.0', 'messages.0.0']);
  const allDeferred: JsonObject = { ...body, tools: [{ ...big, defer_loading: true }], system: words(1200, 's') };
  assert.deepEqual(markerPaths(hinted(allDeferred).out), ['system.0', 'messages.0.0'], 'no tool marker when every tool is deferred');
});

test('a whitespace-only turn or block is never marked nor wrapped: the API refuses such a text block', () => {
  const body: JsonObject = {
    model: 'm',
    max_tokens: 1,
    system: words(1100, 's'),
    messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'text', text: ' \n' }] }, { role: 'assistant', content: 'b' }, { role: 'user', content: ' ' }],
  };
  const { out } = hinted(body);
  assert.deepEqual(markerPaths(out), ['system.0', 'messages.0.0', 'messages.2.0']);
  assert.equal((out.messages as JsonObject[])[4]!.content, ' ', 'the whitespace-only turn stays the client\'s string');
});
