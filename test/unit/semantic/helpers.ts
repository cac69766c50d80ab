// Shared builders for the L1b tests: requests in each API style, a stand-in upstream layer, temp dirs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Outcome, StoredAnswer } from '../../../src/core/outcome';
import type { Layer, LayerContext } from '../../../src/core/pipeline';
import { credentialHash, type ApiStyle, type JsonObject, type ProxyRequest } from '../../../src/core/request';

/** A temp folder removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `isartor-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface RequestSpec {
  api?: ApiStyle;
  body: JsonObject;
  credential?: string;
  baseUrl?: string;
  headers?: Record<string, string>;
  cache?: Partial<ProxyRequest['cache']>;
}

/** A normalised request as the proxy would hand it to the layers. */
export function proxyRequest(spec: RequestSpec): ProxyRequest {
  const api = spec.api ?? 'openai.chat';
  return {
    api,
    route: { id: 'default', providers: [{ name: 'fake', kind: api === 'anthropic.messages' ? 'anthropic' : 'openai', baseUrl: spec.baseUrl ?? 'http://127.0.0.1:1/v1' }] },
    body: spec.body,
    rawBody: Buffer.from(JSON.stringify(spec.body)),
    headers: spec.headers ?? {},
    model: String(spec.body.model),
    stream: spec.body.stream === true,
    credentialHash: credentialHash(spec.credential ?? 'sk-test-key'),
    clientTool: 'test',
    cache: { noCache: false, noStore: false, semanticOff: false, localOff: false, ...spec.cache },
    signal: new AbortController().signal,
    receivedAt: 0,
  };
}

/** An OpenAI chat body whose last user turn is `text`, after optional earlier messages. */
export function chatBody(text: string, options: { history?: JsonObject[]; extra?: JsonObject; model?: string } = {}): JsonObject {
  return { model: options.model ?? 'gpt-4o-mini', messages: [...(options.history ?? []), { role: 'user', content: text }], ...options.extra };
}

export const context = (req: ProxyRequest): LayerContext => ({ req, notes: {}, responseHeaders: {} });

/** The answer the stand-in upstream gives to call number `call`, in the request's API style. */
export function answerFor(req: ProxyRequest, call: number): StoredAnswer {
  const body: JsonObject =
    req.api === 'anthropic.messages'
      ? { id: `answer-${call}`, type: 'message', role: 'assistant', model: req.model, content: [{ type: 'text', text: `answer ${call}` }], stop_reason: 'end_turn' }
      : { id: `answer-${call}`, object: 'chat.completion', model: req.model, choices: [{ index: 0, message: { role: 'assistant', content: `answer ${call}` }, finish_reason: 'stop' }] };
  return {
    api: req.api,
    body,
    usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, cacheWriteTokens: 0 },
    createdAt: 1_700_000_000_000 + call,
  };
}

/**
 * Stands in for the upstream layer: a live outcome whose body is a real stream and whose completion
 * resolves when the body has been read (undefined for calls `fail` picks, as for a 500).
 */
export function fakeUpstream(fail: (call: number) => boolean = () => false): Layer & { calls: number } {
  const layer = {
    name: 'upstream',
    calls: 0,
    async handle(ctx: LayerContext): Promise<Outcome> {
      const call = ++layer.calls;
      const failed = fail(call);
      const answer = answerFor(ctx.req, call);
      const body = Readable.from([Buffer.from(JSON.stringify(failed ? { error: { message: 'boom' } } : answer.body))]);
      const completion = new Promise<StoredAnswer | undefined>((resolve) => {
        body.on('end', () => resolve(failed ? undefined : answer));
        body.on('close', () => resolve(undefined));
      });
      return { kind: 'upstream', layer: 'l3', provider: 'fake', status: failed ? 500 : 200, headers: {}, body, completion, upstreamLatencyMs: 1 };
    },
  };
  return layer;
}

/** Reads a live body to its end, as the proxy does, so the completion resolves. */
export async function drain(outcome: Outcome): Promise<void> {
  if (outcome.kind !== 'upstream') return;
  for await (const _chunk of outcome.body) {
    // discard
  }
}

const SERVICES = ['billing', 'search', 'upload', 'login', 'report', 'backup', 'invoice', 'gateway', 'storage', 'mailing'];
const TEAMS = ['europe', 'asia', 'africa', 'canada', 'mexico', 'brazil', 'india', 'japan', 'norway', 'chile'];

/**
 * Question `i` (0–99) of a set without code, numbers, identifiers or symbols: all of them share one
 * gate key, so they fill one index group, large enough for a graph.
 */
export function wordQuestion(i: number): string {
  return `How do I configure the ${SERVICES[i % 10]} service for the ${TEAMS[Math.floor(i / 10) % 10]} team?`;
}
