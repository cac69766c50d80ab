import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { toWireMessage, type LmApi } from '../../../src/extension/copilot';

// Stand-ins with the shapes of VS Code's part classes (toWireMessage checks them with instanceof).
class TextPart {
  constructor(public value: string) {}
}
class ToolCallPart {
  constructor(public callId: string, public name: string, public input: object) {}
}
class ToolResultPart {
  constructor(public callId: string, public content: unknown[]) {}
}
class DataPart {
  constructor(public data: Uint8Array, public mimeType: string) {}
}
const api = { LanguageModelTextPart: TextPart, LanguageModelToolCallPart: ToolCallPart, LanguageModelToolResultPart: ToolResultPart } as unknown as LmApi;

function toolResultText(content: unknown[]): string {
  const message = { role: 1, name: undefined, content: [new ToolResultPart('call_1', content)] } as unknown as vscode.LanguageModelChatRequestMessage;
  const part = toWireMessage(message, api).parts[0];
  assert.equal(part?.type, 'tool_result');
  return part.type === 'tool_result' ? part.text : '';
}

describe('tool results sent upstream', () => {
  it('decodes JSON and text data parts as UTF-8 text, not as a map of bytes', () => {
    const json = new TextEncoder().encode('{"files":["ä.ts"]}');
    assert.equal(toolResultText([new DataPart(json, 'application/json')]), '{"files":["ä.ts"]}');
    assert.equal(toolResultText([new TextPart('found: '), new DataPart(new TextEncoder().encode('a\nb'), 'text/plain; charset=utf-8')]), 'found: a\nb');
  });

  it('names binary data instead of sending its bytes', () => {
    const text = toolResultText([new DataPart(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 'image/png')]);
    assert.equal(text, '[image/png data, 4 bytes, not sent]');
    // VS Code's prompt-caching hint is a data part with no media type: not content.
    assert.equal(toolResultText([new TextPart('ok'), new DataPart(new TextEncoder().encode('ephemeral'), 'cache_control')]), 'ok');
  });

  it('keeps text parts, strings and other values as before', () => {
    assert.equal(toolResultText([new TextPart('a'), 'b', { value: { n: 1 } }]), 'ab{"n":1}');
  });
});
