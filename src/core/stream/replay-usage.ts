/**
 * Whether a stored answer may be replayed to a request without handing it our own token estimate
 * as if the provider had reported it. An answer stored from an OpenAI stream without
 * `stream_options.include_usage` carries usage Isartor estimated (bytes / 4, estimate-usage.ts):
 * fine for the ledger, which marks it estimated, but not for a client that reads `usage` as the
 * provider's bill. Such a request is a miss instead; its own upstream answer, with the provider's
 * usage, then replaces the entry.
 */
import type { StoredAnswer } from '../outcome';
import type { JsonValue, ProxyRequest } from '../request';
import { requestIncludesUsage } from './follower-stream';

/**
 * Whether the response to `req` carries usage: every Anthropic and Responses answer and every plain
 * OpenAI answer does; an OpenAI stream only with `stream_options.include_usage`.
 */
export function responseCarriesUsage(req: Pick<ProxyRequest, 'api' | 'stream' | 'body'>): boolean {
  if (req.api !== 'openai.chat' && req.api !== 'openai.completions') return true;
  return !req.stream || requestIncludesUsage(req.body);
}

/**
 * False when replaying `answer` to `req` would pass an estimate off as the provider's usage.
 *
 * @example replayableFor({ api: 'openai.chat', stream: false, body }, { ...answer, usageEstimated: true }) // false
 */
export function replayableFor(req: Pick<ProxyRequest, 'api' | 'stream' | 'body'>, answer: StoredAnswer): boolean {
  return answer.usageEstimated !== true || !responseCarriesUsage(req);
}

/**
 * The answer, noted `usageUnasked` when it came from an OpenAI-style stream that carried the
 * provider's usage though `req` did not ask for it (some compatible servers always send it).
 *
 * @example withUnaskedUsageNoted(answer, { api: 'openai.chat', stream: true, body: { model, messages } }) // { ...answer, usageUnasked: true }
 */
export function withUnaskedUsageNoted(answer: StoredAnswer, req: Pick<ProxyRequest, 'api' | 'stream' | 'body'>): StoredAnswer {
  if (!req.stream || responseCarriesUsage(req) || answer.usageEstimated === true) return answer;
  const usage: JsonValue | undefined = answer.body.usage;
  return usage !== null && typeof usage === 'object' && !Array.isArray(usage) ? { ...answer, usageUnasked: true } : answer;
}
