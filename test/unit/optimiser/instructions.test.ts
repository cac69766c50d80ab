/** Where the opt-in edits may look (recognised instruction files in system prompts only), and which copies dedupe drops. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planDedupe } from '../../../src/core/optimiser/dedupe';
import { findEmbeddedSections, findInstructionPayloads } from '../../../src/core/optimiser/instructions';
import type { JsonObject } from '../../../src/core/request';

const slice = (payload: { container: string; start: number; end: number }): string => payload.container.slice(payload.start, payload.end);
const FILE = '<system-reminder>\nContents of /repo/CLAUDE.md (project instructions, checked into the codebase):\n\n# Project\nUse pnpm.\n</system-reminder>';

test('only recognised instruction files count, never a whole system prompt or a user\'s <instructions>', () => {
  const text = [
    'You are an agent.',
    '<instructions>\n# Rules\n- a\n</instructions>',
    '<system-reminder>\nContents of /repo/CLAUDE.md (project instructions, checked into the codebase):\n\n# Project\nUse pnpm.\n\nContents of /home/u/.claude/CLAUDE.md (user instructions):\n\nBe terse.\n</system-reminder>',
    'Contents of /repo/notes.txt (project notes):\n\nnot an instruction file',
  ].join('\n');
  const sections = findEmbeddedSections(text, ['system']);
  assert.deepEqual(sections.map(slice), ['# Project\nUse pnpm.', 'Be terse.']);
});

test('a file with no next header or </system-reminder> after it is left alone: where it ends is unknown', () => {
  const text = 'Contents of /r/CLAUDE.md (project instructions):\n\nUse pnpm.\n\n# Tool output format (NOT part of CLAUDE.md)\nresult: |\n  line1\n\n\n  line2   \n<!-- tool: keep this marker -->\n';
  assert.deepEqual(findEmbeddedSections(text), []);
  // Followed by another file's header (any file), or closed: it ends there, newlines excluded.
  assert.deepEqual(findEmbeddedSections(`${text}\n\nContents of /r/notes.txt (notes):\n\nx`).map(slice), [text.slice(text.indexOf('Use'), text.length - 1)]);
  assert.deepEqual(findEmbeddedSections('Contents of /r/AGENTS.md (project):\n\nA\n\n\n</system-reminder>\nmore').map(slice), ['A']);
  assert.deepEqual(findEmbeddedSections(`Contents of /r/AGENTS.md (project):\n\nA${'\n'.repeat(50_000)}B`), [], 'a run of newlines is no end');
});

test('OpenAI: system and developer messages only; user turns never', () => {
  const body: JsonObject = {
    messages: [
      { role: 'system', content: `Intro\n${FILE}` },
      { role: 'developer', content: [{ type: 'text', text: FILE }] },
      { role: 'user', content: FILE },
      { role: 'tool', content: FILE },
    ],
  };
  assert.deepEqual(findInstructionPayloads('openai.chat', body).map((p) => p.path), [
    ['messages', 0, 'content'],
    ['messages', 1, 'content', 0, 'text'],
  ]);
});

test('Anthropic: system blocks without cache_control only', () => {
  const body: JsonObject = {
    system: [{ type: 'text', text: FILE }, { type: 'text', text: FILE, cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: [{ type: 'text', text: `<system-reminder>\n${FILE}\n</system-reminder>` }] }],
  };
  assert.deepEqual(findInstructionPayloads('anthropic.messages', body).map((p) => p.path), [['system', 0, 'text']]);
  assert.equal(findInstructionPayloads('openai.completions', { prompt: FILE }).length, 0);
});

test('dedupe drops later verbatim copies of a recognised file, never whole messages or a block it would empty', () => {
  const openai: JsonObject = {
    messages: [
      { role: 'system', content: FILE },
      { role: 'user', content: 'Do it.' },
      { role: 'system', content: `Again:\n${FILE}\n` },
      { role: 'system', content: FILE },
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'Be brief.' },
    ],
  };
  const plan = planDedupe(findInstructionPayloads('openai.chat', openai));
  // messages[3] keeps its <system-reminder> tags, so cutting the copy out does not empty it.
  assert.deepEqual(plan.removeSections.map((p) => p.path), [['messages', 2, 'content'], ['messages', 3, 'content']]);
});
