/**
 * Anthropic prompt-cache breakpoints for Messages requests that carry none: the end of `tools`, the
 * end of `system`, and the last two user turns, so an agent loop's growing history is read from the
 * provider's cache at a tenth of the price instead of being billed in full on every turn.
 *
 * How the provider matches (and why moving markers is safe): the cache key of a breakpoint is the
 * content of every block up to it, in the order tools → system → messages, not the request's raw
 * bytes. JSON key order, whitespace and the `cache_control` marker itself are not part of the key;
 * that is what lets a client move its breakpoint to the newest turn on every request and still read
 * the previous turn's entry. At each breakpoint the provider also looks back up to about 20 blocks
 * for an earlier entry. Hence the placement: the newest user turn writes the entry the next request
 * will read, and the user turn before it reads the entry the previous request wrote, even when the
 * turns in between hold more than 20 blocks.
 */
import type { JsonObject, JsonValue } from '../request';
import type { JsonEdit, JsonPath } from './jsonEdits';
import type { TokenCounter } from './tokenCounter';

/** The API's limit on `cache_control` breakpoints per request. */
export const MAX_BREAKPOINTS = 4;

/**
 * Smallest prefix, in tokens, the provider will cache for a model; shorter prefixes are processed
 * uncached even when marked. Figures from Anthropic's prompt-caching documentation; a Claude model
 * this table does not know gets the largest figure, so a hint is never placed below the minimum.
 *
 * @example minimumCacheableTokens('claude-3-5-haiku-20241022') // 2048
 */
export function minimumCacheableTokens(model: string): number {
  const id = model.toLowerCase();
  if (/opus-4-[5-9]|opus-4\.[5-9]|haiku-4-5|haiku-4\.5/.test(id)) return 4096;
  if (/sonnet-4-[6-9]|sonnet-4\.[6-9]/.test(id)) return 2048;
  if (/haiku/.test(id)) return 2048;
  if (/sonnet|opus/.test(id) && /claude-(?:3|sonnet-4|opus-4)/.test(id)) return 1024;
  return /claude/.test(id) ? 4096 : 1024;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function containsCacheControl(value: JsonValue | undefined): boolean {
  if (Array.isArray(value)) return value.some(containsCacheControl);
  if (!isObject(value)) return false;
  if (value.cache_control !== undefined) return true;
  return Object.values(value).some(containsCacheControl);
}

/**
 * True for a tool the provider loads only when its tool search finds it (`defer_loading` on the
 * tool or, for an MCP toolset, in its `default_config` or any of its `configs`). Such a tool is not part of the cached prefix, and
 * the API refuses a marker on it: "Tool 'x' cannot have both defer_loading=true and cache_control
 * set. Tools with defer_loading cannot use prompt caching." (a 400, reported by proxies that
 * marked the last tool blindly: router-for-me/CLIProxyAPI#4561, decolua/9router#3687).
 */
function isDeferredTool(tool: JsonObject): boolean {
  const defers = (value: JsonValue | undefined): boolean => isObject(value) && value.defer_loading !== undefined && value.defer_loading !== null && value.defer_loading !== false;
  if (defers(tool) || defers(tool.default_config)) return true;
  // An MCP toolset's marker lands on its last expanded tool, which any deferred member could be.
  return isObject(tool.configs) && Object.values(tool.configs).some(defers);
}

/** Text that holds nothing but whitespace: the API refuses such a text block, marked or not. */
function blank(text: unknown): boolean {
  return typeof text !== 'string' || text.trim() === '';
}

/**
 * True when the client placed any `cache_control` of its own (top level, a tool, a system block, or
 * any content block at any depth): such requests are forwarded without hints.
 */
export function hasClientCacheControl(body: JsonObject): boolean {
  if (body.cache_control !== undefined) return true;
  return containsCacheControl(body.tools) || containsCacheControl(body.system) || containsCacheControl(body.messages);
}

/** Text the provider tokenises for a block, for the minimum-length check (images count as 0: an underestimate). */
export function blockText(block: JsonValue): string {
  if (typeof block === 'string') return block;
  if (!isObject(block)) return '';
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' ? block.text : '';
    case 'thinking':
      return typeof block.thinking === 'string' ? block.thinking : '';
    case 'tool_use':
      return `${String(block.name ?? '')}${JSON.stringify(block.input ?? {})}`;
    case 'tool_result':
      return Array.isArray(block.content) ? block.content.map(blockText).join('\n') : blockText(block.content ?? '');
    case 'image':
    case 'document':
      return '';
    default:
      return JSON.stringify(block);
  }
}

/** One content block in provider order, with what marking it would take. */
interface BlockSlot {
  text: string;
  /** The API refuses markers on empty or whitespace-only text blocks and on deferred tools. */
  markable: boolean;
  /** How to mark this block: an object to append to, or a string to wrap. */
  markerEdit: JsonEdit;
}

export interface CacheHintPlan {
  /** The breakpoints: a marker appended to a block, or a string wrapped into one marked text block. */
  edits: JsonEdit[];
  /** Number of breakpoints added. */
  breakpoints: number;
}

/**
 * Blocks of a `system` or message `content` value. A string counts as the one text block the API
 * reads it as; `wraps` gets the edit that writes it as that block (see planCacheHints).
 */
function contentSlots(value: JsonValue | undefined, path: JsonPath, wraps: JsonEdit[]): BlockSlot[] {
  if (typeof value === 'string') {
    // An empty string stays a string: the API refuses empty text blocks, and there is nothing to mark.
    if (value === '') return [];
    // A whitespace-only one too: wrapped, it would be a text block the API refuses ("text content
    // blocks must contain non-whitespace text").
    if (blank(value)) return [{ text: value, markable: false, markerEdit: { kind: 'wrapAsTextBlock', path, marker: true } }];
    wraps.push({ kind: 'wrapAsTextBlock', path, marker: false });
    return [{ text: value, markable: true, markerEdit: { kind: 'wrapAsTextBlock', path, marker: true } }];
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((block, index): BlockSlot[] => {
    if (!isObject(block)) return [];
    const blankText = block.type === 'text' && blank(block.text);
    return [{ text: blockText(block), markable: !blankText, markerEdit: { kind: 'addMarker', path: [...path, index] } }];
  });
}

/** The last block of `slots[from..to)` that can carry a marker. */
function lastMarkable(slots: BlockSlot[], from: number, to: number): number | undefined {
  for (let index = to - 1; index >= from; index--) if (slots[index]!.markable) return index;
  return undefined;
}

/**
 * Decides the breakpoints for one request, from that request alone. When any breakpoint is placed,
 * every non-blank string `content` and a string `system` become one-block arrays, marked or not:
 * a pure function of each turn, the same on every hinted request, so the bytes of earlier turns
 * never change from one request to the next, whatever the provider normalises. Markers go on the
 * last tool that is not deferred, the last system block and the last block of each of the two
 * newest user turns, each only if the prefix up to it reaches the model's minimum. The edits are
 * applied in one pass (jsonEdits.ts), so thousands of turns cost one copy of the body. Returns no
 * edits for requests with markers of their own or too short to cache.
 *
 * @example planCacheHints(body, 'claude-sonnet-4-5', countTokens).breakpoints // 0..4
 */
export function planCacheHints(body: JsonObject, model: string, countTokens: TokenCounter): CacheHintPlan {
  if (hasClientCacheControl(body)) return { edits: [], breakpoints: 0 };
  const wraps: JsonEdit[] = [];
  const slots: BlockSlot[] = [];
  const candidates: number[] = [];
  const tools = Array.isArray(body.tools) ? body.tools : [];
  tools.forEach((tool, index) => {
    if (!isObject(tool)) return;
    // A deferred tool is not in the prefix: it counts nothing and is never marked.
    const deferred = isDeferredTool(tool);
    slots.push({ text: deferred ? '' : JSON.stringify(tool), markable: !deferred, markerEdit: { kind: 'addMarker', path: ['tools', index] } });
  });
  const toolsEnd = lastMarkable(slots, 0, slots.length);
  if (toolsEnd !== undefined) candidates.push(toolsEnd);
  const systemStart = slots.length;
  slots.push(...contentSlots(body.system, ['system'], wraps));
  const systemEnd = lastMarkable(slots, systemStart, slots.length);
  if (systemEnd !== undefined) candidates.push(systemEnd);
  const userTurnEnds: number[] = [];
  const messages = Array.isArray(body.messages) ? body.messages : [];
  messages.forEach((message, index) => {
    if (!isObject(message)) return;
    const start = slots.length;
    slots.push(...contentSlots(message.content, ['messages', index, 'content'], wraps));
    const end = message.role === 'user' ? lastMarkable(slots, start, slots.length) : undefined;
    if (end !== undefined) userTurnEnds.push(end);
  });
  candidates.push(...userTurnEnds.slice(-2));

  // Count tokens from the start only until the minimum is reached: every later breakpoint qualifies.
  const minimum = minimumCacheableTokens(model);
  let cumulative = 0;
  let counted = -1;
  const qualifies = (slot: number): boolean => {
    while (counted < slot && cumulative < minimum) cumulative += countTokens(slots[++counted]!.text);
    return cumulative >= minimum;
  };
  const chosen = [...new Set(candidates)].filter(qualifies).slice(-MAX_BREAKPOINTS);
  // Nothing worth caching: forward the client's bytes. Wrapping starts with the first hinted request
  // of a conversation; the provider had cached nothing for the requests before it, so nothing is lost.
  if (chosen.length === 0) return { edits: [], breakpoints: 0 };
  const markers = chosen.map((slot) => slots[slot]!.markerEdit);
  // A marked string is wrapped by its marker edit; the others by a plain wrap.
  const markedPaths = new Set(markers.filter((edit) => edit.kind === 'wrapAsTextBlock').map((edit) => pathKey(edit.path)));
  const edits = wraps.filter((wrap) => !markedPaths.has(pathKey(wrap.path)));
  edits.push(...markers);
  return { edits, breakpoints: chosen.length };
}

function pathKey(path: JsonPath): string {
  return path.join('\u0000');
}
