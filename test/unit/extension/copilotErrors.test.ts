// What a `vscode.lm` caller (Copilot Chat, another extension) gets when Isartor's chat provider
// fails: VS Code's LanguageModelError kinds where one fits, so callers can branch on `code`, and
// ordinary errors otherwise; always the status and the upstream's message, never a key. The real
// provider talks to a loopback server standing in for the proxy route.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { silentLogger } from '../../../src/core/logger';
import type { ChatModelEntry } from '../../../src/extension/chatModels';
import { IsartorChatProvider, type LmApi } from '../../../src/extension/copilot';

// --- stand-ins for the VS Code classes the provider uses (not the code under test) ---
class TextPart {
  constructor(public value: string) {}
}
class EventEmitter {
  event = () => ({ dispose() {} });
  fire(): void {}
}
/** Shaped like VS Code's own: factories named after the kind, which `code` carries. */
class LanguageModelError extends Error {
  static NoPermissions = (message?: string): LanguageModelError => new LanguageModelError(message, 'NoPermissions');
  static Blocked = (message?: string): LanguageModelError => new LanguageModelError(message, 'Blocked');
  static NotFound = (message?: string): LanguageModelError => new LanguageModelError(message, 'NotFound');
  constructor(message?: string, readonly code = 'Unknown') {
    super(message);
    this.name = 'LanguageModelError';
  }
}
const baseApi = { LanguageModelTextPart: TextPart, LanguageModelToolCallPart: class {}, LanguageModelToolResultPart: class {}, LanguageModelChatToolMode: { Auto: 1, Required: 2 }, EventEmitter };
const api = { ...baseApi, LanguageModelError } as unknown as LmApi;

/** The next answer the stand-in route gives: status, content type and body. */
let answer: { status: number; body: string; type?: string } = { status: 200, body: '' };
let server: Server;
let routeUrl = '';
before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  routeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r/${'a'.repeat(32)}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const KEY = 'sk-proj-abcdefgh1234567890abcdef';
const openai: ChatModelEntry = { id: 'openai/gpt-4o', modelId: 'gpt-4o', provider: { name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' }, name: 'GPT-4o via Isartor', maxInputTokens: 128_000, maxOutputTokens: 16_384, toolCalling: true };
const anthropic: ChatModelEntry = { ...openai, id: 'anthropic/claude-sonnet-4', modelId: 'claude-sonnet-4', provider: { name: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com' }, name: 'Claude Sonnet 4 via Isartor' };

function provider(withApi: LmApi = api, models: ChatModelEntry[] = [openai, anthropic]): IsartorChatProvider {
  return new IsartorChatProvider({ api: withApi, models: () => models, routeUrl: () => routeUrl, state: { get: () => undefined, update: async () => {} }, logger: silentLogger, version: '0' });
}

/** Sends one user turn to `entry` and returns what the provider threw (fails if it did not). */
async function failure(entry: ChatModelEntry, withApi: LmApi = api, models?: ChatModelEntry[]): Promise<Error> {
  const message = { role: 1, name: undefined, content: [new TextPart('hello')] } as unknown as vscode.LanguageModelChatRequestMessage;
  const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) } as unknown as vscode.CancellationToken;
  // A model no longer configured comes back as VS Code kept it: an id without Isartor's entry.
  const model = { id: entry.id, entry: !models || models.includes(entry) ? entry : undefined } as never;
  try {
    await provider(withApi, models).provideLanguageModelChatResponse(model, [message], {} as never, { report() {} }, token);
  } catch (error) {
    return error as Error;
  }
  assert.fail('the request did not fail');
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });
const sse = (...events: unknown[]) => ({ status: 200, type: 'text/event-stream', body: events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') });

function assertKind(error: Error, code: string, message: RegExp): void {
  assert.ok(error instanceof LanguageModelError, `expected LanguageModelError.${code}, got ${error.name}: ${error.message}`);
  assert.equal(error.code, code);
  assert.match(error.message, message);
}

describe('chat provider errors', () => {
  it('401 and 403 are NoPermissions, with the status and the upstream message but not the key', async () => {
    answer = json(401, { error: { message: `Incorrect API key provided: ${KEY}.`, type: 'invalid_request_error', code: 'invalid_api_key' } });
    const error = await failure(openai);
    assertKind(error, 'NoPermissions', /^Isartor: openai answered 401: Incorrect API key provided: sk-proj-abcdefgh…\[redacted\]/);
    assert.ok(!error.message.includes(KEY.slice(16)), error.message);
    answer = json(403, { type: 'error', error: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' } });
    assertKind(await failure(anthropic), 'NoPermissions', /anthropic answered 403: Your API key does not have permission/);
  });

  it('an unknown model or a 404 is NotFound', async () => {
    answer = json(404, { error: { message: 'The model `gpt-9` does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found' } });
    assertKind(await failure(openai), 'NotFound', /openai answered 404: The model `gpt-9` does not exist/);
    answer = json(404, { type: 'error', error: { type: 'not_found_error', message: 'model: claude-sonnet-9' } });
    assertKind(await failure(anthropic), 'NotFound', /anthropic answered 404: model: claude-sonnet-9/);
    assertKind(await failure(openai, api, [anthropic]), 'NotFound', /model "openai\/gpt-4o" is no longer configured/);
  });

  it('a content filter or policy refusal is Blocked, before the answer or while it streams', async () => {
    answer = json(400, { error: { message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", type: null, code: 'content_filter', innererror: { code: 'ResponsibleAIPolicyViolation' } } });
    assertKind(await failure(openai), 'Blocked', /openai answered 400: The response was filtered/);
    answer = json(400, { type: 'error', error: { type: 'invalid_request_error', message: 'Output blocked by content filtering policy' } });
    assertKind(await failure(anthropic), 'Blocked', /anthropic answered 400: Output blocked by content filtering policy/);
    answer = sse({ choices: [{ index: 0, delta: { content: 'Here is how' } }] }, { choices: [{ index: 0, delta: {}, finish_reason: 'content_filter' }] });
    assertKind(await failure(openai), 'Blocked', /openai: .*content filter/);
    answer = sse({ type: 'message_start', message: { id: 'm', role: 'assistant', content: [] } }, { type: 'message_delta', delta: { stop_reason: 'refusal' } }, { type: 'message_stop' });
    assertKind(await failure(anthropic), 'Blocked', /anthropic: .*refusal/);
  });

  it('other failures stay ordinary errors with the status and the upstream message', async () => {
    answer = json(429, { error: { message: 'Rate limit reached for gpt-4o', type: 'requests', code: 'rate_limit_exceeded' } });
    let error = await failure(openai);
    assert.ok(!(error instanceof LanguageModelError));
    assert.match(error.message, /^Isartor: openai answered 429: Rate limit reached for gpt-4o$/);
    answer = { status: 502, body: 'Bad gateway', type: 'text/plain' };
    error = await failure(anthropic);
    assert.ok(!(error instanceof LanguageModelError));
    assert.match(error.message, /anthropic answered 502: Bad gateway/);
  });

  it('without LanguageModelError in the API (an older or other host) every failure is an ordinary error', async () => {
    answer = json(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    const error = await failure(openai, baseApi as unknown as LmApi);
    assert.equal(error.constructor, Error);
    assert.match(error.message, /openai answered 401: Incorrect API key provided/);
  });
});
