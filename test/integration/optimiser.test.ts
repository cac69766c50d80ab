/**
 * The optimiser through the real proxy with the official SDKs: cache hints on an agent loop sent
 * without markers, byte-stable forwarded prefixes, the response header and ledger notes, requests
 * with their own markers left alone, and the run-time switch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type Anthropic from '@anthropic-ai/sdk';
import { startsWithTurns, turnBytes } from '../../src/bench/prefixStability';
import type { LedgerRecord } from '../../src/core/ledger-types';
import { countTokensExactly } from '../../src/core/tokens';
import { startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const MODEL = 'claude-sonnet-4-5';
/** A system prompt well past the 1,024-token minimum, with whitespace the optimiser may remove. */
const SYSTEM = `# Agent rules   \n\n\n\n<!-- for maintainers only -->\n${Array.from({ length: 900 }, (_, i) => `rule${i}`).join(' ')}\n\n\`\`\`sh\nmake test   \n\n\n\n\`\`\`\n`;
const TOOLS: Anthropic.Tool[] = [{ name: 'bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }];

function markers(json: unknown): number {
  return JSON.stringify(json).split('"cache_control"').length - 1;
}

test('an agent loop without markers gets breakpoints, keeps its forwarded prefix byte-stable and says so in a header', async () => {
  const client = stack.anthropic();
  const records: LedgerRecord[] = [];
  let allRecorded: () => void = () => {};
  const recorded = new Promise<void>((resolve) => (allRecorded = resolve));
  const subscription = stack.proxy.onRecord((record) => {
    records.push(record);
    if (records.length === 4) allRecorded();
  });
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Fix the failing test in   src/app.ts' }];
  const forwarded: ReturnType<typeof turnBytes>[] = [];
  for (let turn = 0; turn < 4; turn++) {
    stack.fake.enqueue({ toolCalls: [{ name: 'bash', arguments: { command: `ls ${turn}` } }] });
    const { data, response } = await client.messages.create({ model: MODEL, max_tokens: 256, system: SYSTEM, tools: TOOLS, messages }).withResponse();
    assert.equal(response.headers.get('x-isartor-layer'), 'l3');
    const header = response.headers.get('x-isartor-optimised') ?? '';
    assert.match(header, /^tokens_saved=\d+,cache_hints=\d$/);
    const received = stack.fake.requests.at(-1)!;
    const hints = Number(/cache_hints=(\d)/.exec(header)![1]);
    assert.equal(markers(received.json), hints, 'the header counts the markers the upstream received');
    assert.ok(hints >= 2 && hints <= 4, `turn ${turn}: ${hints} hints`);
    assert.equal(Number(/tokens_saved=(\d+)/.exec(header)![1]), 0, 'by default nothing is shrunk');
    // The system prompt and the user's own words reach the upstream unchanged.
    assert.equal(received.json.system[0].text, SYSTEM);
    assert.equal(received.json.messages[0].content[0].text, 'Fix the failing test in   src/app.ts');
    forwarded.push(turnBytes(received.rawBody.toString('utf8')));
    if (turn > 0) assert.ok(startsWithTurns(forwarded[turn]!, forwarded[turn - 1]!), `turn ${turn} rewrote bytes of an earlier turn`);
    const toolUse = data.content.find((block) => block.type === 'tool_use');
    assert.ok(toolUse && toolUse.type === 'tool_use');
    messages.push({ role: 'assistant', content: data.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: `file${turn}.ts   \n\n\n\n  indented output` }] });
  }
  // Tool outputs keep every byte, whitespace included.
  const last = stack.fake.requests.at(-1)!.json;
  assert.equal(last.messages[2].content[0].content, 'file0.ts   \n\n\n\n  indented output');
  await recorded;
  subscription.dispose();
  assert.equal(records.length, 4);
  for (const record of records) {
    assert.ok((record.cacheHints ?? 0) >= 2);
    assert.equal(record.optimisedTokens ?? 0, 0);
  }
});

test('a request that carries its own cache_control gets no hints and, with nothing to shrink, keeps its bytes', async () => {
  const request = {
    model: MODEL,
    max_tokens: 64,
    system: [{ type: 'text' as const, text: `Own markers.\n${'word '.repeat(1500).trim()}`, cache_control: { type: 'ephemeral' as const } }],
    messages: [{ role: 'user' as const, content: 'hello there' }],
  };
  const { response } = await stack.anthropic().messages.create(request).withResponse();
  assert.equal(response.headers.get('x-isartor-optimised'), 'tokens_saved=0,cache_hints=0');
  assert.equal(stack.fake.requests.at(-1)!.rawBody.toString('utf8'), JSON.stringify(request));
});

test('streamed requests get the same hints and stream through', async () => {
  const stream = stack.anthropic().messages.stream({ model: MODEL, max_tokens: 64, system: SYSTEM, messages: [{ role: 'user', content: 'stream please' }] });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'end_turn');
  const received = stack.fake.requests.at(-1)!.json;
  assert.equal(received.stream, true);
  assert.equal(markers(received), 2, 'end of system and the one user turn');
  const { data: events, response } = await stack.anthropic().messages.create({ model: MODEL, max_tokens: 64, system: SYSTEM, stream: true, messages: [{ role: 'user', content: 'stream again' }] }).withResponse();
  assert.match(response.headers.get('x-isartor-optimised') ?? '', /cache_hints=2$/);
  const types: string[] = [];
  for await (const event of events) types.push(event.type);
  assert.equal(types.at(-1), 'message_stop');
});

test('turned off at run time, the optimiser forwards the client bytes untouched', async () => {
  stack.proxy.setLayerEnabled('optimiser', false);
  try {
    const request = { model: MODEL, max_tokens: 64, system: SYSTEM, messages: [{ role: 'user' as const, content: 'switch test' }] };
    const { response } = await stack.anthropic().messages.create(request).withResponse();
    assert.equal(response.headers.get('x-isartor-optimised'), null);
    assert.equal(stack.fake.requests.at(-1)!.rawBody.toString('utf8'), JSON.stringify(request));
  } finally {
    stack.proxy.setLayerEnabled('optimiser', true);
  }
});

test('OpenAI chat: by default no hints and every byte of the request as sent', async () => {
  const toolOutput = 'out   \n\n\n\n    code';
  const { response } = await stack
    .openai()
    .chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: toolOutput },
      ],
    })
    .withResponse();
  assert.equal(response.headers.get('x-isartor-optimised'), 'tokens_saved=0,cache_hints=0');
  const received = stack.fake.requests.at(-1)!.json;
  assert.equal(received.messages[0].content, SYSTEM);
  assert.equal(received.messages[3].content, toolOutput);
});

/** Every text a request carries, by JSON path, so two bodies can be compared string for string. */
function texts(value: unknown, path = '$', into = new Map<string, string>()): Map<string, string> {
  if (typeof value === 'string') into.set(path, value);
  else if (Array.isArray(value)) value.forEach((item, index) => texts(item, `${path}[${index}]`, into));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) texts(item, `${path}.${key}`, into);
  return into;
}

/** Drops `cache_control` keys (the only thing the default optimiser may add) and normalises string content to parts. */
function withoutCacheHints(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCacheHints);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'cache_control').map(([key, item]) => [key, withoutCacheHints(item)]));
  return value;
}

describe('by default the client\'s text reaches the upstream byte for byte (only cache_control may be added)', () => {
  const INSTRUCTION_FILE = 'Contents of /repo/CLAUDE.md (project instructions, checked into the codebase):\n\n# Project   \n\n\n\n<!-- TODO(ops): staging DB password rotates Fridays; do not paste it in answers -->\nUse pnpm.  \n';
  const REPEATED = '<instructions>Always answer in British English.</instructions>';
  const LONG_SYSTEM = `# Rules   \n\n\n\n<!-- internal: escalate security issues to #sec-team -->\n${REPEATED}\n${'rule '.repeat(1200)}\n${REPEATED}\n`;
  const REMINDER = `<system-reminder>\n${INSTRUCTION_FILE}\n${INSTRUCTION_FILE}</system-reminder>`;
  const USER = `${REPEATED}  \n\n\n<!-- my note -->\nFix the failing test.   \n${REPEATED}`;

  test('Anthropic SDK: system blocks (one with cache_control), instruction file and user turn', async () => {
    const request = {
      model: MODEL,
      max_tokens: 64,
      system: [
        { type: 'text' as const, text: LONG_SYSTEM },
        { type: 'text' as const, text: `${INSTRUCTION_FILE}<!-- internal: escalate security issues to #sec-team -->`, cache_control: { type: 'ephemeral' as const } },
        { type: 'text' as const, text: LONG_SYSTEM },
        { type: 'text' as const, text: INSTRUCTION_FILE },
      ],
      messages: [
        { role: 'user' as const, content: [{ type: 'text' as const, text: REMINDER }, { type: 'text' as const, text: USER }] },
        { role: 'assistant' as const, content: 'Done.   \n\n\n' },
        { role: 'user' as const, content: USER },
      ],
    };
    await stack.anthropic().messages.create(request);
    const received = stack.fake.requests.at(-1)!.json;
    assert.deepEqual(texts(withoutCacheHints(received)), texts(withoutCacheHints(request)));
    assert.deepEqual(withoutCacheHints(received), withoutCacheHints(request));
    assert.deepEqual(received.system[1].cache_control, { type: 'ephemeral' }, 'the client\'s own marker stays');
  });

  test('OpenAI SDK: system messages (one repeated mid-conversation), instruction file and user turn', async () => {
    const request = {
      model: 'gpt-4o',
      messages: [
        { role: 'system' as const, content: LONG_SYSTEM },
        { role: 'system' as const, content: `Notes\n${INSTRUCTION_FILE}\n${INSTRUCTION_FILE}` },
        { role: 'user' as const, content: `${REMINDER}\n${USER}` },
        { role: 'assistant' as const, content: 'Done.   \n\n\n' },
        { role: 'system' as const, content: LONG_SYSTEM },
        { role: 'user' as const, content: USER },
      ],
    };
    await stack.openai().chat.completions.create(request);
    const received = stack.fake.requests.at(-1)!;
    assert.deepEqual(received.json, request);
    assert.equal(received.rawBody.toString('utf8'), JSON.stringify(request), 'no hints for OpenAI: the very bytes the SDK sent');
  });
});

test('removed tokens: the header shows the estimate marked "~", the ledger the real o200k count, made off the request\'s path', async () => {
  const editing = await startStack((config) => {
    config.optimiser = { ...config.optimiser, whitespace: true };
  });
  try {
    // 400 trailing spaces: about four bytes a token says 100, o200k says 13.
    const file = `Use pnpm for everything.${' '.repeat(400)}\n\nNext rule.\n`;
    const system = `Contents of /r/CLAUDE.md (project instructions):\n\n${file}</system-reminder>`;
    const recorded = new Promise<LedgerRecord>((resolve) => {
      const subscription = editing.proxy.onRecord((record) => {
        subscription.dispose();
        resolve(record);
      });
    });
    const { response } = await editing.anthropic().messages.create({ model: MODEL, max_tokens: 16, system, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const before = countTokensExactly(file);
    const after = countTokensExactly(file.replace(/ +\n/, '\n'));
    assert.equal(response.headers.get('x-isartor-optimised'), `tokens_saved=~${Math.ceil(Buffer.byteLength(file) / 4) - Math.ceil(Buffer.byteLength(file.replace(/ +\n/, '\n')) / 4)},cache_hints=0`);
    const record = await recorded;
    assert.equal(record.optimisedTokens, before - after, `o200k: ${before} - ${after}`);
    assert.ok(record.optimisedTokens! < 20);
  } finally {
    await editing.close();
  }
});
