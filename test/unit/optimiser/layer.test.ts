/** The optimiser layer in the pipeline: what it sets on the context, and that it never blocks a request. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../../src/core/config';
import { createOptimiserLayer, OPTIMISED_HEADER } from '../../../src/core/layers/optimiser';
import { silentLogger } from '../../../src/core/logger';
import type { Logger } from '../../../src/core/logger';
import type { Outcome } from '../../../src/core/outcome';
import type { LayerContext } from '../../../src/core/pipeline';
import type { ApiStyle, JsonObject, ProxyRequest } from '../../../src/core/request';

function context(api: ApiStyle, body: JsonObject, rawBody = Buffer.from(JSON.stringify(body))): LayerContext {
  const req: ProxyRequest = {
    api,
    route: { id: 'default', providers: [] },
    body,
    rawBody,
    headers: {},
    model: String(body.model ?? ''),
    stream: false,
    credentialHash: 'anonymous',
    clientTool: 'test',
    cache: { noCache: false, noStore: false, semanticOff: false, localOff: false },
    signal: new AbortController().signal,
    receivedAt: 0,
  };
  return { req, notes: {}, responseHeaders: {} };
}

const answered = { kind: 'stored' } as unknown as Outcome;

test('sets forwardBody, notes and the x-isartor-optimised header, then passes on', async () => {
  const layer = createOptimiserLayer({ config: defaultConfig('/unused'), logger: silentLogger });
  const body: JsonObject = { model: 'claude-sonnet-4-5', max_tokens: 5, system: `Rules  \n\n\n\n${'term '.repeat(1500)}`, messages: [{ role: 'user', content: 'Hi' }] };
  const ctx = context('anthropic.messages', body);
  let calls = 0;
  const outcome = await layer.handle(ctx, async () => {
    calls++;
    return answered;
  });
  assert.equal(outcome, answered);
  assert.equal(calls, 1);
  assert.ok(ctx.forwardBody);
  const forwarded = JSON.parse(ctx.forwardBody.toString()) as { system: Array<{ text: string; cache_control?: unknown }> };
  // By default only cache hints: the system text reaches the upstream as the client wrote it.
  assert.equal(forwarded.system[0]!.text, body.system);
  assert.ok(forwarded.system[0]!.cache_control);
  assert.equal(ctx.notes.optimisedTokens, 0);
  assert.equal(ctx.notes.cacheHints, 2);
  assert.equal(ctx.responseHeaders[OPTIMISED_HEADER], `tokens_saved=${ctx.notes.optimisedTokens},cache_hints=2`);
  assert.equal(layer.name, 'optimiser');
});

test('a request with nothing to change goes out as the client sent it', async () => {
  const layer = createOptimiserLayer({ config: defaultConfig('/unused'), logger: silentLogger });
  const ctx = context('openai.chat', { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] });
  await layer.handle(ctx, async () => answered);
  assert.equal(ctx.forwardBody, undefined);
  assert.equal(ctx.responseHeaders[OPTIMISED_HEADER], 'tokens_saved=0,cache_hints=0');
  const legacy = context('openai.completions', { model: 'x', prompt: 'a  \n\n\n\nb' });
  await layer.handle(legacy, async () => answered);
  assert.equal(legacy.forwardBody, undefined);
  assert.equal(legacy.responseHeaders[OPTIMISED_HEADER], undefined);
});

test('a failure inside the optimiser is logged and the request still goes out verbatim', async () => {
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };
  const layer = createOptimiserLayer({ config: defaultConfig('/unused'), logger });
  // The parsed body and the raw bytes disagree (the bytes are not JSON): splicing must fail.
  const ctx = context('anthropic.messages', { model: 'claude-sonnet-4-5', max_tokens: 5, system: 'x '.repeat(3000), messages: [{ role: 'user', content: 'Hi' }] }, Buffer.from('not json'));
  let calls = 0;
  await layer.handle(ctx, async () => {
    calls++;
    return answered;
  });
  assert.equal(calls, 1);
  assert.equal(ctx.forwardBody, undefined);
  assert.equal(warnings.length, 1);
});

test('opted-in edits of instruction files over a few KB go to the body worker, whatever the body\'s size', async () => {
  // Parsing 84 KB of Markdown once per comment held the proxy's thread for 4.4 s; a body that
  // small is otherwise optimised on the proxy's thread.
  const config = defaultConfig('/unused');
  config.optimiser = { ...config.optimiser, whitespace: true, htmlComments: true };
  const calls: Array<boolean | undefined> = [];
  const offThreadOptimise = (_settings: unknown, _input: unknown, options?: { heavy?: boolean }): Promise<{ tokensSaved: number; cacheHints: number }> | undefined => {
    calls.push(options?.heavy);
    return options?.heavy ? Promise.resolve({ tokensSaved: 7, cacheHints: 0 }) : undefined;
  };
  const layer = createOptimiserLayer({ config, logger: silentLogger, offThreadOptimise });
  const file = (text: string): string => `Contents of /r/CLAUDE.md (project instructions):\n\n${text}\n</system-reminder>`;
  const big = context('anthropic.messages', { model: 'claude-sonnet-4-5', max_tokens: 5, system: file(`Rule  \n\n\n<!-- c -->\n${'word '.repeat(1000)}`), messages: [{ role: 'user', content: 'Hi' }] });
  await layer.handle(big, async () => answered);
  assert.deepEqual(calls, [true]);
  assert.equal(big.notes.optimisedTokens, 7, 'the worker\'s answer is used');
  const small = context('anthropic.messages', { model: 'claude-sonnet-4-5', max_tokens: 5, system: file('Rule  \n\n\n<!-- c -->\nshort'), messages: [{ role: 'user', content: 'Hi' }] });
  await layer.handle(small, async () => answered);
  assert.deepEqual(calls, [true, false], 'a small one stays here');
  assert.ok(Buffer.from(small.forwardBody!).toString().includes('Rule\\n\\nshort'));
});
