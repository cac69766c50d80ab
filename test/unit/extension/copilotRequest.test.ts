import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAnthropicBody, buildOpenAiBody } from '../../../src/extension/copilotRequest';
import type { WireMessage } from '../../../src/extension/copilotRequest';

/** A chat turn with a system prompt, a tool call and its result, as Copilot's agent mode sends it. */
const conversation: WireMessage[] = [
  { role: 'system', parts: [{ type: 'text', text: 'You are a coding assistant.' }] },
  { role: 'user', parts: [{ type: 'text', text: 'What is in README.md?' }] },
  {
    role: 'assistant',
    parts: [
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_call', callId: 'call_1', name: 'read_file', input: { path: 'README.md' } },
    ],
  },
  { role: 'user', parts: [{ type: 'tool_result', callId: 'call_1', text: '# Isartor' }, { type: 'text', text: '' }] },
];
const tools = [{ name: 'read_file', description: 'Reads a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }];

describe('chat request bodies', () => {
  it('builds an OpenAI chat body with tool calls and tool messages in API order', () => {
    const body = buildOpenAiBody(conversation, { model: 'gpt-4o', tools, toolRequired: true, maxOutputTokens: 4096, modelOptions: { temperature: 0.2, junk: 'x' } });
    assert.deepEqual(body, {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a coding assistant.' },
        { role: 'user', content: 'What is in README.md?' },
        { role: 'assistant', content: 'Let me look.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"README.md"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '# Isartor' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'read_file', description: 'Reads a file', parameters: tools[0]!.inputSchema } }],
      tool_choice: 'required',
      temperature: 0.2,
    });
  });

  it('builds an Anthropic body: system lifted, tool_use and tool_result blocks, no empty text', () => {
    const body = buildAnthropicBody(conversation, { model: 'claude-sonnet-4-20250514', tools, maxOutputTokens: 8192 });
    assert.deepEqual(body, {
      model: 'claude-sonnet-4-20250514',
      max_tokens: 8192,
      system: 'You are a coding assistant.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is in README.md?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'call_1', name: 'read_file', input: { path: 'README.md' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '# Isartor' }] },
      ],
      stream: true,
      tools: [{ name: 'read_file', description: 'Reads a file', input_schema: tools[0]!.inputSchema }],
    });
  });

  it('merges consecutive turns of one role for Anthropic and honours max_tokens from model options', () => {
    const body = buildAnthropicBody(
      [
        { role: 'user', parts: [{ type: 'text', text: 'one' }] },
        { role: 'user', parts: [{ type: 'text', text: 'two' }] },
      ],
      { model: 'claude-3-5-haiku-20241022', maxOutputTokens: 8192, modelOptions: { max_tokens: 100 }, toolRequired: true },
    );
    assert.deepEqual(body.messages, [{ role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }]);
    assert.equal(body.max_tokens, 100);
    assert.equal(body.tool_choice, undefined, 'no tools, no tool_choice');
  });

  it('gives tools without a schema an empty object schema and maps Required to "any"', () => {
    const body = buildAnthropicBody([{ role: 'user', parts: [{ type: 'text', text: 'go' }] }], { model: 'c', tools: [{ name: 't', description: 'd' }], toolRequired: true, maxOutputTokens: 10 });
    assert.deepEqual(body.tools, [{ name: 't', description: 'd', input_schema: { type: 'object', properties: {} } }]);
    assert.deepEqual(body.tool_choice, { type: 'any' });
  });
});
