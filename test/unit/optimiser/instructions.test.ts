/** Where instruction payloads are found, and which repeated ones are dropped. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planDedupe } from '../../../src/core/optimiser/dedupe';
import { findEmbeddedSections, findInstructionPayloads } from '../../../src/core/optimiser/instructions';
import type { JsonObject } from '../../../src/core/request';

const slice = (payload: { container: string; start: number; end: number }): string => payload.container.slice(payload.start, payload.end);

test('OpenAI: system and developer messages, string or parts', () => {
  const body: JsonObject = {
    messages: [
      { role: 'system', content: 'S1' },
      { role: 'developer', content: [{ type: 'text', text: 'D1' }] },
      { role: 'user', content: 'question' },
      { role: 'tool', content: 'tool output  \n\n\n' },
    ],
  };
  const payloads = findInstructionPayloads('openai.chat', body);
  assert.deepEqual(payloads.map((p) => [p.kind, p.path, slice(p)]), [
    ['system', ['messages', 0, 'content'], 'S1'],
    ['system', ['messages', 1, 'content', 0, 'text'], 'D1'],
  ]);
});

test('Anthropic: system string or blocks; tool results and later turns are never payloads', () => {
  const body: JsonObject = {
    system: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }],
    messages: [
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: '<instructions>no</instructions>' }, { type: 'text', text: 'hi' }] },
      { role: 'user', content: '<instructions>later turn</instructions>' },
    ],
  };
  assert.deepEqual(findInstructionPayloads('anthropic.messages', body).map((p) => p.path), [['system', 0, 'text'], ['system', 1, 'text']]);
  assert.equal(findInstructionPayloads('openai.completions', { prompt: 'x' }).length, 0);
});

test('embedded instruction files in the first user turn: tagged sections and Claude Code memory files', () => {
  const text = [
    'Fix the bug.',
    '<instructions>\n# Rules\n- a\n</instructions>',
    '<system-reminder>\nContents of /repo/CLAUDE.md (project instructions, checked into the codebase):\n\n# Project\nUse pnpm.\n\nContents of /home/u/.claude/CLAUDE.md (user instructions):\n\nBe terse.\n</system-reminder>',
  ].join('\n');
  const sections = findEmbeddedSections(text, ['messages', 0, 'content']);
  assert.deepEqual(sections.map(slice), ['\n# Rules\n- a\n', '# Project\nUse pnpm.', 'Be terse.']);
  assert.equal(text.slice(sections[0]!.sectionStart, sections[0]!.sectionEnd), '<instructions>\n# Rules\n- a\n</instructions>');
});

test('dedupe keeps the first copy and drops later identical blocks only', () => {
  const anthropic: JsonObject = { system: [{ type: 'text', text: 'Rules' }, { type: 'text', text: 'Other' }, { type: 'text', text: 'Rules\n' }, { type: 'text', text: 'Rules', cache_control: { type: 'ephemeral' } }], messages: [] };
  assert.deepEqual(planDedupe('anthropic.messages', anthropic, findInstructionPayloads('anthropic.messages', anthropic)).removeElements, [['system', 2]]);

  const openai: JsonObject = {
    messages: [
      { role: 'system', content: '# Rules\nUse tabs.' },
      { role: 'user', content: 'Do it.\n<rules>\n# Rules\nUse tabs.\n</rules>\n<rules>other</rules>' },
      { role: 'system', content: '# Rules\nUse tabs.' },
    ],
  };
  const plan = planDedupe('openai.chat', openai, findInstructionPayloads('openai.chat', openai));
  assert.deepEqual(plan.removeElements, [['messages', 2]]);
  assert.deepEqual(plan.removeSections.map(slice), ['\n# Rules\nUse tabs.\n']);
});
