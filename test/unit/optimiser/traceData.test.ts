/** Loading trajectories, converting them to the Messages API, and comparing turns byte for byte. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startsWithTurns, turnBytes } from '../../../src/bench/prefixStability';
import { toAnthropicAnswer, toAnthropicRequest } from '../../../src/bench/toAnthropic';
import { listTrajectoryFiles, loadTrajectory, parseTrajectory } from '../../../src/bench/trajectories';
import type { JsonObject } from '../../../src/core/request';

const TRACES = join(__dirname, '../../../../shared/eval/agent-traces');

test('a real trajectory: one call per assistant turn, request i is messages[:i] without non-wire keys', async () => {
  const files = await listTrajectoryFiles(TRACES);
  assert.equal(files.length, 99);
  assert.deepEqual(files, [...files].sort());
  const trajectory = await loadTrajectory(files[0]!, TRACES);
  assert.equal(trajectory.model, 'deepseek/deepseek-chat');
  const first = trajectory.calls[0]!;
  const messages = first.request.messages as JsonObject[];
  assert.deepEqual(messages.map((m) => m.role), ['system', 'user']);
  const second = trajectory.calls[1]!.request.messages as JsonObject[];
  assert.deepEqual(second.map((m) => m.role), ['system', 'user', 'assistant', 'tool']);
  assert.ok(second.every((m) => !('extra' in m) && !('provider_specific_fields' in m)));
  assert.equal(second[2], first.answer, 'the answer to call i opens the history of call i+1');
  assert.ok(first.usage.promptTokens > 0);
  assert.deepEqual((first.request.tools as JsonObject[]).map((t) => (t.function as JsonObject).name), ['bash']);
});

test('parseTrajectory rejects a file without messages', () => {
  assert.throws(() => parseTrajectory({}, 'x'), /no "messages"/);
});

test('OpenAI → Anthropic: system pulled out, tool calls become tool_use, tool results join the next user turn', () => {
  const openai: JsonObject = {
    model: 'deepseek-chat',
    temperature: 0,
    tools: [{ type: 'function', function: { name: 'bash', description: 'run', parameters: { type: 'object' } } }],
    messages: [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'task' },
      { role: 'assistant', content: 'Looking.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'a.py' },
      { role: 'user', content: 'format error' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'c2', type: 'function', function: { name: 'bash', arguments: '{broken' } }] },
    ],
  };
  assert.deepEqual(toAnthropicRequest(openai), {
    model: 'claude-sonnet-4-5',
    max_tokens: 4096,
    system: 'S',
    messages: [
      { role: 'user', content: 'task' },
      { role: 'assistant', content: [{ type: 'text', text: 'Looking.' }, { type: 'tool_use', id: 'c1', name: 'bash', input: { command: 'ls' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1', content: 'a.py' }, { type: 'text', text: 'format error' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c2', name: 'bash', input: { arguments: '{broken' } }] },
    ],
    tools: [{ name: 'bash', description: 'run', input_schema: { type: 'object' } }],
    temperature: 0,
  });
  const answer = toAnthropicAnswer({ role: 'assistant', content: 'Done.', tool_calls: [{ id: 'c3', function: { name: 'bash', arguments: '{"command":"x"}' } }] }, 'tool_calls', 'msg_1', { inputTokens: 10, outputTokens: 2 });
  assert.equal(answer.stop_reason, 'tool_use');
  assert.deepEqual(answer.usage, { input_tokens: 10, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
});

test('turnBytes: raw turn bytes, markers the optimiser added removed, any other change detected', () => {
  const previous = turnBytes('{"model":"m","system":"S","messages":[{"role":"user","content":[{"type":"text","text":"a \\" ]}","cache_control":{"type":"ephemeral"}}]}],"max_tokens":5}');
  assert.deepEqual(previous.messages, ['{"role":"user","content":[{"type":"text","text":"a \\" ]}"}]}']);
  const next = turnBytes('{"model":"m","system":"S","messages":[{"role":"user","content":[{"type":"text","text":"a \\" ]}"}]} , {"role":"assistant","content":"b"}],"max_tokens":9}');
  assert.ok(startsWithTurns(next, previous));
  const edited = turnBytes('{"model":"m","system":"S","messages":[{"role":"user","content":[{"type":"text","text":"a \\" ]} "}]}]}');
  assert.equal(startsWithTurns(edited, previous), false);
  assert.equal(startsWithTurns(turnBytes('{"model":"m","system":"S2","messages":[]}'), turnBytes('{"model":"m","system":"S","messages":[]}')), false);
});
