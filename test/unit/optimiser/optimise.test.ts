/**
 * The whole L2.5 transformation on real agent trajectories: byte-stable prefixes over a replay,
 * tool outputs and assistant turns untouched, determinism and idempotence, and each switch.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { startsWithTurns, turnBytes } from '../../../src/bench/prefixStability';
import { toAnthropicRequest } from '../../../src/bench/toAnthropic';
import { listTrajectoryFiles, loadTrajectory } from '../../../src/bench/trajectories';
import type { Trajectory } from '../../../src/bench/trajectories';
import { defaultConfig } from '../../../src/core/config';
import type { OptimiserConfig } from '../../../src/core/config';
import { createRequestOptimiser } from '../../../src/core/optimiser/optimise';
import type { ApiStyle, JsonObject } from '../../../src/core/request';
import { countTokens } from '../../../src/core/tokens';

const TRACES = join(__dirname, '../../../../shared/eval/agent-traces');
const DEFAULTS: OptimiserConfig = defaultConfig('/unused').optimiser;
/** Every opt-in edit switched on: what the strictest tests below exercise. */
const ALL_ON: OptimiserConfig = { ...DEFAULTS, whitespace: true, htmlComments: true, dedupeBlocks: true };
const FILE_HEADER = 'Contents of /repo/CLAUDE.md (project instructions, checked into the codebase):\n\n';
let trajectories: Trajectory[] = [];

before(async () => {
  const files = await listTrajectoryFiles(TRACES);
  // The first, a middle and the last trajectory: different lengths and tasks.
  trajectories = await Promise.all([files[0]!, files[Math.floor(files.length / 2)]!, files[files.length - 1]!].map((file) => loadTrajectory(file, TRACES)));
});

function systemPrompt(request: JsonObject): string {
  return String((request.messages as JsonObject[]).find((message) => message.role === 'system')?.content ?? '');
}

function forward(optimiser: ReturnType<typeof createRequestOptimiser>, api: ApiStyle, body: JsonObject): { text: string; tokensSaved: number; cacheHints: number } {
  const rawBody = Buffer.from(JSON.stringify(body));
  const result = optimiser.optimise({ api, model: String(body.model), body, rawBody });
  return { text: (result.forwardBody ?? rawBody).toString('utf8'), tokensSaved: result.tokensSaved, cacheHints: result.cacheHints };
}

for (const api of ['anthropic.messages', 'openai.chat'] as const) {
  test(`${api}: over whole trajectories each forwarded request begins with the previous one's turns, byte for byte`, () => {
    for (const trajectory of trajectories) {
      const optimiser = createRequestOptimiser(ALL_ON, countTokens);
      let previous: { original: ReturnType<typeof turnBytes>; forwarded: ReturnType<typeof turnBytes> } | undefined;
      let stable = 0;
      for (const call of trajectory.calls) {
        const body = api === 'anthropic.messages' ? toAnthropicRequest(call.request) : call.request;
        const original = turnBytes(JSON.stringify(body));
        const forwarded = turnBytes(forward(optimiser, api, body).text);
        if (previous) {
          assert.ok(startsWithTurns(original, previous.original), 'the recorded requests themselves are prefix-stable');
          assert.ok(startsWithTurns(forwarded, previous.forwarded), `${trajectory.id}: forwarded request ${stable + 2} rewrote an earlier turn`);
          stable++;
        }
        // Every request carries the instructions in full (never an "instructions unchanged" stand-in).
        assert.ok([forwarded.head, forwarded.messages[0]].join('\n').includes(JSON.stringify(systemPrompt(call.request)).slice(1, -1)), 'the system prompt is forwarded in full');
        // Assistant turns and tool outputs reach the upstream exactly as the client sent them.
        original.messages.forEach((message, index) => {
          if (index > 0 || api === 'openai.chat') assert.equal(forwarded.messages[index], message, `${trajectory.id}: turn ${index} changed`);
        });
        previous = { original, forwarded };
      }
      assert.ok(stable > 10, `${trajectory.id} is long enough to mean something`);
    }
  });
}

test('Anthropic replay: hints on every request long enough, never more than four', () => {
  const optimiser = createRequestOptimiser(ALL_ON, countTokens);
  for (const call of trajectories[0]!.calls) {
    const { text, cacheHints } = forward(optimiser, 'anthropic.messages', toAnthropicRequest(call.request));
    const markers = text.split('"cache_control"').length - 1;
    assert.equal(markers, cacheHints);
    assert.ok(cacheHints >= 1 && cacheHints <= 4, `got ${cacheHints}`);
  }
});

test('deterministic across optimiser instances, and idempotent', () => {
  const body = toAnthropicRequest(trajectories[1]!.calls[5]!.request);
  const first = forward(createRequestOptimiser(ALL_ON, countTokens), 'anthropic.messages', body).text;
  const second = forward(createRequestOptimiser(ALL_ON, countTokens), 'anthropic.messages', body).text;
  assert.equal(first, second);
  const again = JSON.parse(first) as JsonObject;
  const result = createRequestOptimiser(ALL_ON, countTokens).optimise({ api: 'anthropic.messages', model: String(body.model), body: again, rawBody: Buffer.from(first) });
  assert.equal(result.forwardBody, undefined, 'an optimised request has nothing left to change (its markers are now the client\'s)');
});

test('by default nothing the model reads changes: only cache_control markers are added', () => {
  const system = `# Rules   \n\n\n\n<!-- internal: escalate to #sec-team -->\n${FILE_HEADER}Use tabs.  \n\n\n\n<!-- c -->\n${'word '.repeat(1500)}`;
  const body: JsonObject = { model: 'claude-sonnet-4-5', max_tokens: 10, system, messages: [{ role: 'user', content: '<instructions>Always answer in British English.</instructions>  \n\n\n' }] };
  const { text, tokensSaved } = forward(createRequestOptimiser(DEFAULTS, countTokens), 'anthropic.messages', body);
  const out = JSON.parse(text) as { system: Array<{ text: string; cache_control?: unknown }>; messages: Array<{ content: Array<{ text: string }> | string }> };
  assert.equal(out.system[0]!.text, system);
  assert.ok(out.system[0]!.cache_control);
  const userText = typeof out.messages[0]!.content === 'string' ? out.messages[0]!.content : out.messages[0]!.content[0]!.text;
  assert.equal(userText, '<instructions>Always answer in British English.</instructions>  \n\n\n');
  assert.equal(tokensSaved, 0);
});

test('opted in, only recognised instruction files in system prompts shrink; user turns and tool outputs keep every byte', () => {
  const system = `You are terse.   \n\n\n\n<!-- keep: not an instruction file -->\n${FILE_HEADER}# Rules   \n\n\n\n<!-- internal -->\n- Use tabs.  \n\n\n\n\`\`\`sh\nmake   \n\n\n\n\`\`\`\n</system-reminder>`;
  const toolOutput = 'line with spaces   \n\n\n\n    indented\n';
  const user = `Go.\n<instructions>\nBe   \n\n\n\nterse.\n</instructions>\n${FILE_HEADER}<!-- x -->\nsame`;
  const body: JsonObject = {
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
      { role: 'tool', tool_call_id: 'a', content: toolOutput },
    ],
  };
  const { text, tokensSaved, cacheHints } = forward(createRequestOptimiser(ALL_ON, countTokens), 'openai.chat', body);
  const out = JSON.parse(text) as { messages: Array<{ content: string }> };
  assert.equal(out.messages[0]!.content, `You are terse.   \n\n\n\n<!-- keep: not an instruction file -->\n${FILE_HEADER}# Rules\n\n- Use tabs.\n\n\`\`\`sh\nmake   \n\n\n\n\`\`\`\n</system-reminder>`);
  assert.equal(out.messages[1]!.content, user);
  assert.equal(out.messages[2]!.content, toolOutput);
  assert.ok(tokensSaved > 0);
  assert.equal(cacheHints, 0, 'OpenAI caches prefixes by itself: no hints');
});

test('each opt-in transformation has its own switch and never touches a cache_control block', () => {
  const file = `${FILE_HEADER}<!-- c -->\nRules  \n\n\n\n${'word '.repeat(1500)}\n</system-reminder>`;
  const SAME = 'The same rules for every package of this repository.';
  const body: JsonObject = {
    model: 'claude-sonnet-4-5',
    max_tokens: 10,
    system: [{ type: 'text', text: file }, { type: 'text', text: `${FILE_HEADER}${SAME}\n</system-reminder>` }, { type: 'text', text: `Intro\n${FILE_HEADER}${SAME}\n</system-reminder>` }, { type: 'text', text: file, cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: 'Hi' }],
  };
  const run = (overrides: Partial<OptimiserConfig>): JsonObject => JSON.parse(forward(createRequestOptimiser({ ...ALL_ON, ...overrides }, countTokens), 'anthropic.messages', body).text) as JsonObject;
  const systemText = (out: JsonObject, index = 0): string => (out.system as Array<{ text: string }>)[index]!.text;
  const off = run({ cacheHints: false, whitespace: false, htmlComments: false, dedupeBlocks: false });
  assert.deepEqual(off, body);
  assert.ok(systemText(run({ cacheHints: false, whitespace: false, dedupeBlocks: false })).startsWith(`${FILE_HEADER}Rules  \n\n\n\n`));
  assert.ok(systemText(run({ cacheHints: false, htmlComments: false, dedupeBlocks: false })).startsWith(`${FILE_HEADER}<!-- c -->\nRules\n\nword`));
  const deduped = run({ cacheHints: false, whitespace: false, htmlComments: false });
  assert.equal(systemText(deduped, 2), `Intro\n${FILE_HEADER}(same content as /repo/CLAUDE.md above)\n</system-reminder>`, 'the repeated file\'s text becomes a pointer; its header and the block stay');
  assert.equal((deduped.system as unknown[]).length, 4);
  assert.equal(systemText(run({ cacheHints: false }), 3), file, 'the cache_control block keeps every byte');
  const hintsOnly = run({ whitespace: false, htmlComments: false, dedupeBlocks: false });
  assert.ok(JSON.stringify(hintsOnly).includes('cache_control'));
  assert.equal(createRequestOptimiser({ ...ALL_ON, enabled: false }, countTokens).optimise({ api: 'anthropic.messages', model: 'm', body, rawBody: Buffer.from(JSON.stringify(body)) }).forwardBody, undefined);
});

test('a payload past the size bound is forwarded as it is, without parsing', () => {
  const huge = `${FILE_HEADER}Rules  \n\n\n\n${'x'.repeat(120_000)}`;
  const body: JsonObject = { model: 'gpt-4o', messages: [{ role: 'system', content: huge }, { role: 'user', content: 'hi' }] };
  const { text, tokensSaved } = forward(createRequestOptimiser(ALL_ON, countTokens), 'openai.chat', body);
  assert.equal(text, JSON.stringify(body));
  assert.equal(tokensSaved, 0);
});

test('a body that repeats a key anywhere gets no hints and no edits: it goes out as it came', () => {
  // JSON.parse keeps the last "messages" (as the provider does), an edit could only name the first:
  // the marker went into the array the provider ignores, and the header said 2 hints for 1.
  const system = JSON.stringify(`${FILE_HEADER}Rules   \n\n\n\n${'word '.repeat(1500)}`);
  const raw = `{"model":"claude-sonnet-4-5","max_tokens":100,"system":${system},"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"x"},{"role":"user","content":"y"}],"messages":[{"role":"user","content":"second"}]}`;
  const body = JSON.parse(raw) as JsonObject;
  for (const settings of [DEFAULTS, ALL_ON]) {
    const result = createRequestOptimiser(settings, countTokens).optimise({ api: 'anthropic.messages', model: 'claude-sonnet-4-5', body, rawBody: Buffer.from(raw) });
    assert.deepEqual([result.forwardBody, result.tokensSaved, result.cacheHints], [undefined, 0, 0]);
  }
  // Deeper down too: the parsed message is a system message holding an instruction file to shrink.
  const nested = `{"model":"gpt-4o","messages":[{"role":"user","content":${system},"role":"system"}]}`;
  const result = createRequestOptimiser(ALL_ON, countTokens).optimise({ api: 'openai.chat', model: 'gpt-4o', body: JSON.parse(nested) as JsonObject, rawBody: Buffer.from(nested) });
  assert.deepEqual([result.forwardBody, result.tokensSaved, result.cacheHints], [undefined, 0, 0]);
});

test('a file whose end cannot be found is not edited, nor the client\'s text after it', () => {
  const system = `${FILE_HEADER}Use pnpm.\n\n# Tool output format (NOT part of CLAUDE.md)\nReply with YAML:\nresult: |\n  line1\n\n\n  line2   \n<!-- tool: keep this marker -->\n`;
  const body: JsonObject = { model: 'claude-sonnet-4-5', max_tokens: 10, system, messages: [{ role: 'user', content: 'hi' }] };
  const result = createRequestOptimiser({ ...ALL_ON, cacheHints: false }, countTokens).optimise({ api: 'anthropic.messages', model: 'claude-sonnet-4-5', body, rawBody: Buffer.from(JSON.stringify(body)) });
  assert.equal(result.forwardBody?.toString(), undefined);
  assert.equal(result.tokensSaved, 0);
});

test('dedupe: a later copy keeps its header and points to the first; texts must match exactly', () => {
  const optimiser = createRequestOptimiser({ ...DEFAULTS, cacheHints: false, dedupeBlocks: true }, countTokens);
  const run = (system: string): string => {
    const body: JsonObject = { model: 'claude-sonnet-4-5', max_tokens: 10, system, messages: [{ role: 'user', content: 'hi' }] };
    const result = optimiser.optimise({ api: 'anthropic.messages', model: 'claude-sonnet-4-5', body, rawBody: Buffer.from(JSON.stringify(body)) });
    return result.forwardBody ? (JSON.parse(result.forwardBody.toString()) as { system: string }).system : system;
  };
  const rule = 'Run the tests with make test, never with npm test or yarn test.';
  const twoFiles = `Contents of /r/CLAUDE.md (project instructions):\n\n${rule}\n\nContents of /r/legacy/CLAUDE.md (project instructions):\n\n${rule}\n\nContents of /r/notes.txt (user notes):\n\nbe nice`;
  assert.equal(run(twoFiles), twoFiles.replace(`legacy/CLAUDE.md (project instructions):\n\n${rule}`, 'legacy/CLAUDE.md (project instructions):\n\n(same content as /r/CLAUDE.md above)'));
  const indented = `Contents of /r/CLAUDE.md (project instructions):\n\n${rule}\n\nContents of /r/sub/AGENTS.md (project instructions):\n\n    ${rule}\n\nContents of /r/x.txt (other):\n\nz`;
  assert.equal(run(indented), indented, 'an indented code block is not the paragraph it shares words with');
});
