/** Where the opt-in edits may look (recognised instruction files in system prompts only), and which copies dedupe drops. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparisonKey, planDedupe } from '../../../src/core/optimiser/dedupe';
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

test('dedupe points later exact copies of a recognised file to the first; whole messages and headers stay', () => {
  const file = FILE.replace('Use pnpm.', 'Use pnpm for every install, never npm or yarn.');
  const openai: JsonObject = {
    messages: [
      { role: 'system', content: file },
      { role: 'user', content: 'Do it.' },
      { role: 'system', content: `Again:\n${file}\n` },
      { role: 'system', content: file },
      { role: 'system', content: FILE.replace('# Project', '# Other') },
      { role: 'system', content: FILE.replace('# Project', '# Other') },
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'Be brief.' },
    ],
  };
  const plan = planDedupe(findInstructionPayloads('openai.chat', openai));
  assert.deepEqual(plan.replacements.map(({ payload, pointer }) => [payload.path, pointer]), [
    [['messages', 2, 'content'], '(same content as /repo/CLAUDE.md above)'],
    [['messages', 3, 'content'], '(same content as /repo/CLAUDE.md above)'],
  ], 'a copy shorter than the pointer stays as it is');
});

test('dedupe keeps the second file\'s header, so the model still knows that file applies there', () => {
  const system = 'Contents of /r/CLAUDE.md (project instructions):\n\nRun tests with make test, never with npm test.\n\nContents of /r/legacy/CLAUDE.md (project instructions):\n\nRun tests with make test, never with npm test.\n\nContents of /r/notes.txt (user notes):\n\nbe nice';
  const [first, second] = findInstructionPayloads('anthropic.messages', { system, messages: [] });
  assert.equal(second!.file, '/r/legacy/CLAUDE.md');
  assert.deepEqual(planDedupe([first!, second!]).replacements.map(({ payload, pointer }) => [payload.file, pointer]), [['/r/legacy/CLAUDE.md', '(same content as /r/CLAUDE.md above)']]);
});

test('dedupe compares texts exactly, blank lines at the ends aside: an indented code block is no paragraph', () => {
  assert.equal(comparisonKey('\n\n  \nUse pnpm.\n\n \n'), 'Use pnpm.');
  assert.equal(comparisonKey('Use pnpm.\r\n\r\n'), 'Use pnpm.');
  assert.notEqual(comparisonKey('    rm -rf build'), comparisonKey('rm -rf build'));
  assert.notEqual(comparisonKey('rm -rf build   '), comparisonKey('rm -rf build'));
  const system = 'Contents of /r/CLAUDE.md (project instructions):\n\nrm -rf build/ and every cache\n\nContents of /r/sub/AGENTS.md (project instructions):\n\n    rm -rf build/ and every cache\n\nContents of /r/x.txt (other):\n\nz';
  assert.deepEqual(planDedupe(findInstructionPayloads('anthropic.messages', { system, messages: [] })).replacements, []);
});
