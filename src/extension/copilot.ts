/**
 * Isartor's language-model chat provider (vendor `isartor`) for Copilot Chat and every other
 * `vscode.lm` user: each request is converted to an OpenAI or Anthropic body and sent through the
 * local proxy, so it meets the Deflection Stack and the ledger. Also the `copilot` integration.
 */
import type * as vscode from 'vscode';
import { request } from 'undici';
import type { JsonObject } from '../core/request';
import { countTokens, countTokensOf } from '../core/tokens';
import type { ChatModelEntry } from './chatModels';
import { buildAnthropicBody, buildOpenAiBody } from './copilotRequest';
import type { WireMessage, WirePart } from './copilotRequest';
import { languageModelError, upstreamError, type LmErrorApi } from './copilotErrors';
import { decodeAnthropicStream, decodeOpenAiStream, ModelBlockedError, sseEvents } from './copilotStream';
import type { Detection, Integration } from './integrations/integration';
import type { Logger } from '../core/logger';
import { describeError, redactedError } from './log';

export const LM_VENDOR = 'isartor';
const CONNECTED_KEY = 'isartor.copilot.connected';
/** Requested answer length cap for Anthropic, which needs `max_tokens` on every request. */
const ANTHROPIC_DEFAULT_MAX_TOKENS = 16_384;

/** The part of the `vscode` module the provider needs; passed in so this file loads in plain Node. */
export type LmApi = Pick<typeof vscode, 'LanguageModelTextPart' | 'LanguageModelToolCallPart' | 'LanguageModelToolResultPart' | 'LanguageModelChatToolMode' | 'EventEmitter'> & LmErrorApi;

export interface CopilotDeps {
  api: LmApi;
  /** Models to offer right now (providers with keys, `isartor.models`). */
  models(): ChatModelEntry[];
  /** Base URL of a proxy route for the model's provider (with its key), or undefined while the proxy is down. */
  routeUrl(model: ChatModelEntry): string | undefined;
  state: { get<T>(key: string): T | undefined; update(key: string, value: unknown): Thenable<void> };
  logger: Logger;
  version: string;
}

type ModelInfo = vscode.LanguageModelChatInformation & { entry: ChatModelEntry };

/**
 * The provider. Models are listed only while the user has Copilot connected (Enable / Connect
 * Tools) and the proxy runs; `refresh()` tells VS Code to ask again.
 */
export class IsartorChatProvider implements vscode.LanguageModelChatProvider<ModelInfo> {
  private readonly changed: vscode.EventEmitter<void>;
  readonly onDidChangeLanguageModelChatInformation: vscode.Event<void>;

  constructor(private readonly deps: CopilotDeps) {
    this.changed = new deps.api.EventEmitter<void>();
    this.onDidChangeLanguageModelChatInformation = this.changed.event;
  }

  get connected(): boolean {
    return this.deps.state.get<boolean>(CONNECTED_KEY) === true;
  }

  async setConnected(on: boolean): Promise<void> {
    await this.deps.state.update(CONNECTED_KEY, on);
    this.refresh();
  }

  /** Models, keys, settings or the proxy's state changed. */
  refresh(): void {
    this.changed.fire();
  }

  detect(): Detection {
    const models = this.deps.models();
    const detail = models.length
      ? `${models.length} model${models.length === 1 ? '' : 's'} in the chat model picker (${models.map((m) => m.name).join(', ')})`
      : 'no provider key yet: run "Isartor: Set Provider API Key…"';
    return { state: this.connected ? 'connected' : 'available', detail };
  }

  provideLanguageModelChatInformation(): ModelInfo[] {
    if (!this.connected) return [];
    return this.deps
      .models()
      .filter((entry) => this.deps.routeUrl(entry) !== undefined)
      .map((entry) => ({
        id: entry.id,
        name: entry.name,
        family: entry.modelId,
        version: entry.modelId,
        detail: entry.provider.name,
        tooltip: `Answered from Isartor's caches or local model when it safely can; otherwise by ${entry.provider.name} (${entry.provider.baseUrl}).`,
        maxInputTokens: entry.maxInputTokens,
        maxOutputTokens: entry.maxOutputTokens,
        capabilities: { toolCalling: entry.toolCalling, imageInput: false },
        entry,
      }));
  }

  async provideLanguageModelChatResponse(
    model: ModelInfo,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const { api } = this.deps;
    const entry = model.entry ?? this.deps.models().find((candidate) => candidate.id === model.id);
    if (!entry) throw languageModelError(api, 'NotFound', `Isartor: model "${model.id}" is no longer configured`);
    const base = this.deps.routeUrl(entry);
    if (!base) throw new Error('Isartor is not running: run "Isartor: Enable"');
    const anthropic = entry.provider.kind === 'anthropic';
    const wire = messages.map((message) => toWireMessage(message, api));
    const wireOptions = {
      model: entry.modelId,
      tools: options.tools?.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema as JsonObject | undefined })),
      toolRequired: options.toolMode === api.LanguageModelChatToolMode.Required,
      maxOutputTokens: Math.min(entry.maxOutputTokens, ANTHROPIC_DEFAULT_MAX_TOKENS),
      modelOptions: options.modelOptions,
    };
    const body = anthropic ? buildAnthropicBody(wire, wireOptions) : buildOpenAiBody(wire, wireOptions);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': `isartor-vscode-lm/${this.deps.version}` };
    if (anthropic) headers['anthropic-version'] = '2023-06-01';

    const abort = new AbortController();
    const cancellation = token.onCancellationRequested(() => abort.abort());
    try {
      const response = await request(`${base}/v1/${anthropic ? 'messages' : 'chat/completions'}`, { method: 'POST', headers, body: JSON.stringify(body), signal: abort.signal });
      if (response.statusCode >= 400) throw upstreamError(api, entry.provider.name, response.statusCode, await response.body.text());
      const events = sseEvents(response.body);
      for await (const output of anthropic ? decodeAnthropicStream(events) : decodeOpenAiStream(events)) {
        if (output.type === 'text') progress.report(new api.LanguageModelTextPart(output.text));
        else progress.report(new api.LanguageModelToolCallPart(output.callId, output.name, output.input));
      }
    } catch (error) {
      if (token.isCancellationRequested) return;
      this.deps.logger.warn(`chat request for ${entry.id} failed: ${describeError(error)}`);
      // The caller is another extension; it gets the same redaction the log does.
      if (error instanceof ModelBlockedError) throw languageModelError(api, 'Blocked', `Isartor: ${entry.provider.name}: ${error.message}`);
      throw redactedError(error);
    } finally {
      cancellation.dispose();
    }
  }

  async provideTokenCount(_model: ModelInfo, text: string | vscode.LanguageModelChatRequestMessage): Promise<number> {
    if (typeof text === 'string') return countTokens(text);
    const message = toWireMessage(text, this.deps.api);
    // The engine's counter: bounded work whatever the text (VS Code asks for every message of a chat).
    return countTokensOf(message.parts.map((part) => (part.type === 'text' ? part.text : part.type === 'tool_result' ? part.text : `${part.name} ${JSON.stringify(part.input)}`)));
  }
}

/** VS Code's message (roles 1 user, 2 assistant, 3 system) as a wire message of plain parts. */
export function toWireMessage(message: vscode.LanguageModelChatRequestMessage, api: LmApi): WireMessage {
  const role = message.role === 2 ? 'assistant' : (message.role as number) === 3 ? 'system' : 'user';
  const parts: WirePart[] = [];
  for (const part of message.content) {
    if (part instanceof api.LanguageModelTextPart) parts.push({ type: 'text', text: part.value });
    else if (part instanceof api.LanguageModelToolCallPart) parts.push({ type: 'tool_call', callId: part.callId, name: part.name, input: part.input as JsonObject });
    else if (part instanceof api.LanguageModelToolResultPart) parts.push({ type: 'tool_result', callId: part.callId, text: toolResultText(part.content, api) });
    // Other parts (thinking, data) carry nothing the upstream request can use; they are dropped.
  }
  return { role, parts };
}

function toolResultText(content: readonly unknown[], api: LmApi): string {
  return content
    .map((item) => {
      if (item instanceof api.LanguageModelTextPart) return item.value;
      if (typeof item === 'string') return item;
      if (isDataPart(item)) return dataPartText(item);
      try {
        return JSON.stringify((item as { value?: unknown })?.value ?? item);
      } catch {
        return '';
      }
    })
    .join('');
}

/** A `LanguageModelDataPart` by shape (older VS Code APIs lack the class, so no instanceof). */
function isDataPart(item: unknown): item is { data: Uint8Array; mimeType: string } {
  const part = item as { data?: unknown; mimeType?: unknown } | null;
  return typeof part === 'object' && part !== null && part.data instanceof Uint8Array && typeof part.mimeType === 'string';
}

/**
 * Text and JSON data as the text it is (JSON.stringify of a Uint8Array is a map of byte numbers).
 * Binary media cannot travel in a text tool message: the model is told what was left out. Data
 * that is no media type at all (VS Code's "cache_control" hints) is not content and is dropped.
 */
function dataPartText(part: { data: Uint8Array; mimeType: string }): string {
  const mime = part.mimeType.split(';')[0]!.trim().toLowerCase();
  if (/^text\/|^application\/(json|xml|yaml|x-yaml|javascript)$|\+(json|xml)$/.test(mime)) return new TextDecoder().decode(part.data);
  if (!mime.includes('/')) return '';
  return `[${mime} data, ${part.data.byteLength} bytes, not sent]`;
}

let activeProvider: IsartorChatProvider | undefined;

/**
 * Makes `provider` the one behind `copilotIntegration`. The registry of integrations is a static
 * list, while the provider only exists once VS Code has activated the extension.
 */
export function setActiveChatProvider(provider: IsartorChatProvider | undefined): void {
  activeProvider = provider;
}

/**
 * Copilot Chat through the language-model provider API: connecting lists Isartor's models in the
 * chat model picker; disconnecting hides them. No file is edited, so there is nothing to restore.
 * (`github.copilot.advanced.debug.*` overrides are never touched.)
 */
export const copilotIntegration: Integration = {
  id: 'copilot',
  label: 'GitHub Copilot Chat (language models)',
  async detect() {
    return activeProvider ? activeProvider.detect() : { state: 'not-installed', detail: 'the language-model provider is not registered' };
  },
  async connect() {
    await activeProvider?.setConnected(true);
  },
  async disconnect() {
    await activeProvider?.setConnected(false);
  },
};
