/**
 * Where a semantic lookup may look: the exact partition plus every answer-changing field except
 * the turns (chat `messages`, Responses `input`), plus a hash of the whole history before the last user turn. Only the last user
 * turn's text is compared by meaning, and only when it is plain text.
 */
import { canonicalArrayDigest, canonicalJson, canonicalObjectDigest, isKeyableNumber, UNKEYABLE_DIGEST } from '../canonical';
import { answerChangingHeaders, answerRelevantBody, partitionKey, sha256 } from '../request';
import type { ApiStyle, JsonObject, JsonValue, ProxyRequest } from '../request';
import { rememberedDigest } from '../digestMemo';

/** Why a request is not looked up or stored semantically. */
export type SemanticSkipReason = 'not_chat' | 'no_user_turn' | 'tool_result' | 'non_text' | 'empty' | 'unkeyable_number';

export type SemanticKey =
  | { eligible: true; partition: string; historyHash: string; lastTurn: string }
  | { eligible: false; reason: SemanticSkipReason };

type TurnText = { text: string } | { skip: SemanticSkipReason };

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The plain text of a message's content, or why it has none that may be compared. */
function contentText(content: JsonValue | undefined, toolResultTypes: readonly string[]): TurnText {
  if (typeof content === 'string') return { text: content };
  if (!Array.isArray(content)) return { skip: 'non_text' };
  const texts: string[] = [];
  for (const part of content) {
    if (!isObject(part)) return { skip: 'non_text' };
    if (typeof part.type === 'string' && toolResultTypes.includes(part.type)) return { skip: 'tool_result' };
    // Images, documents, audio, files: meaning we cannot compare, so never a semantic hit.
    // 'input_text' is the Responses API's spelling of a text part.
    if ((part.type !== 'text' && part.type !== 'input_text') || typeof part.text !== 'string') return { skip: 'non_text' };
    texts.push(part.text);
  }
  return { text: texts.join('\n') };
}

/**
 * A request's turns (its history is the first `historyLength` of them: all but the last), and the
 * last one's text, for chat-style APIs; legacy completions (code completion prompts) are excluded.
 */
interface Conversation {
  turns: readonly JsonValue[];
  historyLength: number;
  turn: TurnText;
}

const NO_TURNS: readonly JsonValue[] = [];

function conversation(req: Pick<ProxyRequest, 'api' | 'body'>): Conversation {
  if (req.api === 'openai.completions') return { turns: NO_TURNS, historyLength: 0, turn: { skip: 'not_chat' } };
  if (req.api === 'openai.responses') return responsesConversation(req.body.input);
  const messages = req.body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return { turns: NO_TURNS, historyLength: 0, turn: { skip: 'no_user_turn' } };
  const found = (turn: TurnText): Conversation => ({ turns: messages, historyLength: messages.length - 1, turn });
  const last = messages[messages.length - 1];
  if (!isObject(last)) return found({ skip: 'no_user_turn' });
  if (last.role === 'tool' || last.role === 'function') return found({ skip: 'tool_result' });
  if (last.role !== 'user') return found({ skip: 'no_user_turn' });
  return found(contentText(last.content, ['tool_result', 'function_call_output']));
}

/** The Responses API's `input`: a plain string is one user turn; a list ends with the user's message item. */
function responsesConversation(input: JsonValue | undefined): Conversation {
  if (typeof input === 'string') return { turns: NO_TURNS, historyLength: 0, turn: { text: input } };
  if (!Array.isArray(input) || input.length === 0) return { turns: NO_TURNS, historyLength: 0, turn: { skip: 'no_user_turn' } };
  const found = (turn: TurnText): Conversation => ({ turns: input, historyLength: input.length - 1, turn });
  const last = input[input.length - 1];
  if (!isObject(last)) return found({ skip: 'no_user_turn' });
  if (last.type === 'function_call_output' || last.type === 'custom_tool_call_output') return found({ skip: 'tool_result' });
  if ((last.type !== undefined && last.type !== 'message') || last.role !== 'user') return found({ skip: 'no_user_turn' });
  return found(contentText(last.content, ['function_call_output']));
}

/** Fields of a message item that only carry its text or say it is the user's. */
const TURN_TEXT_FIELDS: ReadonlySet<string> = new Set(['content', 'role', 'type']);

/**
 * The last turn's fields other than its text, as canonical JSON; undefined when it has none, null
 * when one is not a short plain value (then the turn is not compared by meaning at all).
 * Only the text is compared by meaning; anything else the user sent with it ("name": who is
 * asking) must be equal, so it joins the partition.
 */
function lastTurnExtras(found: Conversation): string | null | undefined {
  const last = found.turns[found.historyLength];
  if (!isObject(last)) return undefined;
  let extras: JsonObject | undefined;
  for (const [field, value] of Object.entries(last)) {
    if (TURN_TEXT_FIELDS.has(field)) continue;
    // Short plain values only: anything else is not worth comparing (and would be work on the request path).
    if (value !== null && typeof value === 'object') return null;
    if (typeof value === 'string' && value.length > MAX_TURN_EXTRA_CHARS) return null;
    if (typeof value === 'number' && !isKeyableNumber(value)) return null;
    (extras ??= {})[field] = value;
  }
  return extras === undefined ? undefined : canonicalJson(extras);
}

/** Longest string field beside a last turn's text ("name") that L1b still compares. */
const MAX_TURN_EXTRA_CHARS = 256;

/**
 * The semantic partition of a request and its last user turn, or why it is not semantically cached.
 *
 * @example
 * const key = semanticKey(req);
 * if (key.eligible) index.nearest(key.partition, await embedder.embed(key.lastTurn), 4);
 */
export function semanticKey(req: Pick<ProxyRequest, 'api' | 'route' | 'credentialHash' | 'model' | 'body' | 'headers'>): SemanticKey {
  const found = conversation(req);
  const { turn } = found;
  if ('skip' in turn) return { eligible: false, reason: turn.skip };
  if (turn.text.trim() === '') return { eligible: false, reason: 'empty' };
  const { historyHash, paramsHash } = semanticBodyDigests(req.api, req.body, found);
  // A number the parsed body may have rounded: this request could take another's answer (canonical.ts).
  if (historyHash === UNKEYABLE_DIGEST || paramsHash === UNKEYABLE_DIGEST) return { eligible: false, reason: 'unkeyable_number' };
  const parts = ['l1b-v2', partitionKey(req), answerChangingHeaders(req.headers), paramsHash, historyHash];
  const extra = lastTurnExtras(found);
  if (extra === null) return { eligible: false, reason: 'non_text' };
  // Only when there is one, so the partitions of plain turns (nearly all) stay what they were.
  if (extra !== undefined) parts.push(`turn:${extra}`);
  const partition = sha256(parts.join('\n'));
  return { eligible: true, partition, historyHash, lastTurn: turn.text };
}

/**
 * The parts of the semantic partition that grow with the request: a hash of the turns before the
 * last, and of everything else but the turns (model, tools, system, instructions…). Computed once
 * per body, and for a large body on the thread that parsed it (src/proxy/bodyWorker.ts).
 */
export function semanticBodyDigests(api: ApiStyle, body: JsonObject, found: Conversation = conversation({ api, body })): { historyHash: string; paramsHash: string } {
  // The same bytes as sha256(canonicalKeyText(history)) and sha256(canonicalKeyText(params)); the turns
  // and tools are serialised once for these and the exact cache's digest (../canonical.ts).
  const historyHash = rememberedDigest(body, `history:${api}`, () => canonicalArrayDigest(found.turns, found.historyLength));
  const paramsHash = rememberedDigest(body, `params:${api}`, () => {
    const { messages: _messages, input: _input, ...params } = answerRelevantBody(api, body);
    return canonicalObjectDigest(params);
  });
  return { historyHash, paramsHash };
}
