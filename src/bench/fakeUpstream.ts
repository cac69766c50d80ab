/**
 * A fake OpenAI + Anthropic (+ Azure) upstream on loopback for tests and `isartor bench`. It
 * records every request byte for byte and can be scripted per request: status, headers, delays,
 * Retry-After, a stream that breaks or stalls mid-way, or an answer of the test's choosing.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  anthropicBody, anthropicEvents, openAIChatBody, openAIChatChunks, openAICompletionBody, openAICompletionChunks, openAIResponsesBody, openAIResponsesEvents,
  type FakeAnswer, type FakeToolCall,
} from './fake-answers';

export type { FakeToolCall };

/** One request as the fake received it. */
export interface RecordedRequest {
  /** 1-based arrival number. */
  serial: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path and query as sent. */
  url: string;
  headers: Record<string, string>;
  rawBody: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/** How to answer one request. Every field is optional; the default is a 200 answer in the right format. */
export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** A body to send as is (JSON-encoded when not a string) instead of an answer: error bodies, odd payloads. */
  body?: unknown;
  /** The assistant's text. Default: `Answer <serial> to: <last user text>`. */
  text?: string;
  toolCalls?: FakeToolCall[];
  /** Milliseconds to wait before answering. */
  delayMs?: number;
  /** Answer only once this settles: lets a test hold a request without sleeping. */
  hold?: Promise<unknown>;
  /** Streams only: send this many events, then destroy the connection. */
  breakAfterEvents?: number;
  /** Streams only: send this many events, then send nothing more until the client goes away. */
  stallAfterEvents?: number;
  /** Streams only: send this many events, then end the response cleanly (no end marker). */
  endAfterEvents?: number;
  /** Streams only: send this many events and the first half of the next one, then destroy the connection. */
  breakMidEvent?: number;
  /** Streams only: leave out the blank line that should close the last event (some gateways do). */
  noFinalBlankLine?: boolean;
  /** Streams only: send the whole stream gzip-compressed, as a server that ignores `Accept-Encoding: identity` does. */
  gzip?: boolean;
  /** Streams only: send `events` events, then wait for `until` before sending the rest. */
  pause?: { events: number; until: Promise<unknown> };
  /** Streams only: send `events` events, then `frame` (the API's own error event, as a provider sends it), then end. */
  errorAfterEvents?: { events: number; frame: string };
  /**
   * Responses only: the answer stopped at max_output_tokens, as the API reports it: status
   * "incomplete" with its usage, streamed as a last `response.incomplete` event instead of `response.completed`.
   */
  incomplete?: boolean;
}

export type FakeResponder = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeUpstream {
  /** e.g. "http://127.0.0.1:41234". */
  readonly url: string;
  /** OpenAI-style base URL ("…/v1"). */
  readonly openaiBase: string;
  /** Anthropic-style base URL (the root). */
  readonly anthropicBase: string;
  readonly requests: RecordedRequest[];
  /** Requests whose client went away before the answer was complete. */
  readonly aborted: RecordedRequest[];
  /** Replies for the next requests, in arrival order; afterwards the responder answers. */
  enqueue(...replies: FakeReply[]): void;
  /** Replaces the default responder. */
  respondWith(responder: FakeResponder): void;
  /** Resolves once `count` requests have arrived in total. */
  waitForRequests(count: number): Promise<void>;
  /** Resolves once `count` requests have been aborted by their client in total. */
  waitForAborts(count: number): Promise<void>;
  /** Forgets recorded requests, queued replies and the custom responder. */
  reset(): void;
  close(): Promise<void>;
}

function lastUserText(json: any): string {
  if (typeof json?.input === 'string') return json.input;
  if (Array.isArray(json?.input)) {
    const last = [...json.input].reverse().find((item: any) => item?.role === 'user' || item?.type === 'function_call_output');
    if (last?.type === 'function_call_output') return 'tool result';
    if (typeof last?.content === 'string') return last.content;
    if (Array.isArray(last?.content)) return String(last.content.find((part: any) => part?.type === 'input_text')?.text ?? '');
  }
  const messages: any[] = Array.isArray(json?.messages) ? json.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      const text = message.content.find((part: any) => part?.type === 'text');
      if (text) return String(text.text);
      return message.content.some((part: any) => part?.type === 'tool_result') ? 'tool result' : '';
    }
  }
  return typeof json?.prompt === 'string' ? json.prompt : '';
}

function flat(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

type Endpoint = 'chat' | 'completions' | 'responses' | 'response' | 'messages' | 'count_tokens' | 'embeddings' | 'models' | 'unknown';

function endpointOf(path: string): Endpoint {
  if (/\/chat\/completions$/.test(path)) return 'chat';
  if (/\/responses$/.test(path)) return 'responses';
  if (/\/responses\/[^/]+(\/cancel|\/input_items)?$/.test(path)) return 'response';
  if (/\/messages\/count_tokens$/.test(path)) return 'count_tokens';
  if (/\/messages$/.test(path)) return 'messages';
  if (/\/completions$/.test(path)) return 'completions';
  if (/\/embeddings$/.test(path)) return 'embeddings';
  if (/\/models$/.test(path)) return 'models';
  return 'unknown';
}

/** A Responses `response` stopped at max_output_tokens: billed, usage and all, but not complete. */
function incompleteResponse(response: Record<string, unknown>): Record<string, unknown> {
  return { ...response, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
}

/** A Responses stream's `response.completed` event as `response.incomplete`; other events as they are. */
function asIncomplete(event: string, data: any): [string, object] {
  if (event !== 'response.completed') return [event, data];
  return ['response.incomplete', { ...data, type: 'response.incomplete', response: incompleteResponse(data.response) }];
}

/**
 * Starts the fake on 127.0.0.1 and a free port.
 *
 * @example
 * const fake = await startFakeUpstream();
 * fake.enqueue({ status: 503 }, { text: 'second try works' });
 * // … point the proxy at fake.openaiBase … then: assert.equal(fake.requests.length, 2)
 */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const aborted: RecordedRequest[] = [];
  let queue: FakeReply[] = [];
  let responder: FakeResponder | undefined;
  let waiters: Array<{ test: () => boolean; resolve: () => void }> = [];
  const notify = (): void => {
    waiters = waiters.filter((waiter) => (waiter.test() ? (waiter.resolve(), false) : true));
  };
  const waitUntil = (test: () => boolean): Promise<void> =>
    test() ? Promise.resolve() : new Promise((resolve) => waiters.push({ test, resolve }));

  const answerFor = (recorded: RecordedRequest, reply: FakeReply): FakeAnswer => {
    const text = reply.text ?? (reply.toolCalls?.length ? '' : `Answer ${recorded.serial} to: ${lastUserText(recorded.json)}`);
    return {
      text,
      toolCalls: reply.toolCalls ?? [],
      inputTokens: Math.max(1, Math.ceil(recorded.rawBody.length / 4)),
      outputTokens: Math.max(1, Math.ceil(text.length / 4) + (reply.toolCalls?.length ?? 0) * 8),
      model: typeof recorded.json?.model === 'string' ? recorded.json.model : 'fake-model',
      serial: recorded.serial,
    };
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const sendStream = async (res: ServerResponse, frames: string[], reply: FakeReply): Promise<void> => {
    res.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...(reply.gzip ? { 'content-encoding': 'gzip' } : {}), ...reply.headers });
    if (reply.noFinalBlankLine) frames = [...frames.slice(0, -1), frames.at(-1)!.replace(/\n\n$/, '')];
    if (reply.gzip) {
      const bytes = gzipSync(frames.join(''));
      res.write(bytes.subarray(0, bytes.length >> 1));
      res.end(bytes.subarray(bytes.length >> 1));
      return;
    }
    for (const [index, frame] of frames.entries()) {
      if (reply.breakMidEvent !== undefined && index >= reply.breakMidEvent) {
        res.write(frame.slice(0, Math.floor(frame.length / 2)), () => res.socket?.destroy());
        return;
      }
      if (reply.breakAfterEvents !== undefined && index >= reply.breakAfterEvents) {
        res.socket?.destroy();
        return;
      }
      if (reply.stallAfterEvents !== undefined && index >= reply.stallAfterEvents) return; // the 'close' handler records the abort
      if (reply.endAfterEvents !== undefined && index >= reply.endAfterEvents) break;
      if (reply.errorAfterEvents && index >= reply.errorAfterEvents.events) {
        res.end(reply.errorAfterEvents.frame);
        return;
      }
      if (reply.pause && index === reply.pause.events) await reply.pause.until;
      // Split each frame across two writes so the proxy's parser meets events cut mid-line.
      const middle = Math.floor(frame.length / 2);
      res.write(frame.slice(0, middle));
      res.write(frame.slice(middle));
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.end();
  };

  const answer = async (recorded: RecordedRequest, res: ServerResponse): Promise<void> => {
    const reply = queue.shift() ?? (responder ? await responder(recorded) : {});
    if (reply.hold) await reply.hold;
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    const status = reply.status ?? 200;
    if (reply.body !== undefined || status >= 300) {
      const body = reply.body ?? { error: { message: `fake upstream status ${status}`, type: 'fake_error' } };
      return sendJson(res, status, body, reply.headers);
    }
    const endpoint = endpointOf(recorded.path);
    const json = recorded.json;
    const fake = answerFor(recorded, reply);
    const includeUsage = json?.stream_options?.include_usage === true;
    switch (endpoint) {
      case 'chat':
        if (json?.stream) return sendStream(res, [...openAIChatChunks(fake, includeUsage).map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n'], reply);
        return sendJson(res, status, openAIChatBody(fake), reply.headers);
      case 'completions':
        if (json?.stream) return sendStream(res, [...openAICompletionChunks(fake, includeUsage).map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n'], reply);
        return sendJson(res, status, openAICompletionBody(fake), reply.headers);
      case 'responses': {
        const events = openAIResponsesEvents(fake, json).map(([event, data]): [string, object] => (reply.incomplete ? asIncomplete(event, data) : [event, data]));
        if (json?.stream) return sendStream(res, events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`), reply);
        const body = openAIResponsesBody(fake, json);
        return sendJson(res, status, reply.incomplete ? incompleteResponse(body) : body, reply.headers);
      }
      case 'response': {
        // The provider's stored state: echo which operation was asked, so tests can check it arrived untouched.
        const id = recorded.path.split('/responses/')[1]!.split('/')[0]!;
        if (recorded.path.endsWith('/input_items')) return sendJson(res, status, { object: 'list', data: [], first_id: null, last_id: null, has_more: false }, reply.headers);
        if (recorded.method === 'DELETE') return sendJson(res, status, { id, object: 'response', deleted: true }, reply.headers);
        return sendJson(res, status, { ...openAIResponsesBody(fake, {}), id, status: recorded.path.endsWith('/cancel') ? 'cancelled' : 'completed' }, reply.headers);
      }
      case 'messages':
        if (json?.stream) return sendStream(res, anthropicEvents(fake).map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`), reply);
        return sendJson(res, status, anthropicBody(fake), reply.headers);
      case 'count_tokens':
        return sendJson(res, status, { input_tokens: fake.inputTokens }, reply.headers);
      case 'embeddings':
        return sendJson(res, status, {
          object: 'list', model: fake.model, usage: { prompt_tokens: fake.inputTokens, total_tokens: fake.inputTokens },
          // The OpenAI SDK asks for base64 (little-endian float32) by default and decodes it itself.
          data: [{ object: 'embedding', index: 0, embedding: json?.encoding_format === 'base64' ? Buffer.from(new Float32Array([0.5, 0.25, -1]).buffer).toString('base64') : [0.5, 0.25, -1] }],
        }, reply.headers);
      case 'models':
        if (recorded.headers['anthropic-version']) {
          return sendJson(res, status, { data: [{ type: 'model', id: 'fake-claude', display_name: 'Fake Claude', created_at: '2025-01-01T00:00:00Z' }], has_more: false, first_id: 'fake-claude', last_id: 'fake-claude' });
        }
        return sendJson(res, status, { object: 'list', data: [{ id: 'fake-gpt', object: 'model', created: 0, owned_by: 'fake' }] }, reply.headers);
      default:
        return sendJson(res, 404, { error: { message: `fake upstream has no ${recorded.path}`, type: 'invalid_request_error' } });
    }
  };

  // Idle keep-alive connections outlive the pauses between benchmark phases: with Node's 5 s
  // default the bare pass-through's agent reuses a socket the fake is closing ("socket hang up").
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = rawBody.length > 0 ? JSON.parse(rawBody.toString('utf8')) : undefined;
      } catch {
        json = undefined;
      }
      const url = req.url ?? '/';
      const recorded: RecordedRequest = { serial: requests.length + 1, method: req.method ?? 'GET', path: url.split('?')[0]!, url, headers: flat(req), rawBody, json };
      requests.push(recorded);
      res.once('close', () => {
        if (!res.writableFinished) {
          aborted.push(recorded);
          notify();
        }
      });
      notify();
      answer(recorded, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: 'fake_error' } });
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    openaiBase: `${url}/v1`,
    anthropicBase: url,
    requests,
    aborted,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    respondWith: (next) => {
      responder = next;
    },
    waitForRequests: (count) => waitUntil(() => requests.length >= count),
    waitForAborts: (count) => waitUntil(() => aborted.length >= count),
    reset() {
      requests.length = 0;
      aborted.length = 0;
      queue = [];
      responder = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
