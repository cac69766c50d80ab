/**
 * What a request's input costs under the providers' prompt-cache rules, replayed request by request
 * so each one sees what the earlier ones left in the cache. Figures are billed-token equivalents
 * (input-price units): uncached + read × read-rate + written × write-rate.
 *
 * Anthropic: only prefixes ending at a `cache_control` breakpoint are written (1.25×) and read
 * (0.1×); at each breakpoint the provider also checks up to 20 earlier block boundaries for an
 * entry; a prefix shorter than the model's minimum is never cached; entries live 5 minutes from
 * their last use. OpenAI: every prompt of 1,024 tokens or more is cached automatically; a later
 * prompt reads the longest cached prefix, counted in 1,024 + 128·k token steps, at the price table's
 * cached-input rate.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../core/request';
import { blockText } from '../core/optimiser/cacheHints';
import type { TokenCounter } from '../core/optimiser/tokenCounter';

/**
 * One unit of prompt content as the provider's cache sees it. Identities use JSON.stringify, which
 * keeps key order: stricter than the provider (a reordered block would count as a miss), never kinder.
 */
export interface PromptBlock {
  /** Content identity (role and block, `cache_control` left out: markers are not part of the key). */
  id: string;
  tokens: number;
  /** Carries a `cache_control` marker. */
  breakpoint: boolean;
}

export interface InputBill {
  /** All input tokens of the request. */
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Input-price equivalents. */
  billed: number;
}

export const ANTHROPIC_READ_RATE = 0.1;
export const ANTHROPIC_WRITE_RATE = 1.25;
const ANTHROPIC_LOOKBACK_BLOCKS = 20;
const CACHE_TTL_SECONDS = 300;
const OPENAI_MIN_PREFIX = 1024;
const OPENAI_PREFIX_STEP = 128;

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutMarker(block: JsonObject): JsonObject {
  if (block.cache_control === undefined) return block;
  const { cache_control: _marker, ...rest } = block;
  return rest;
}

function digest(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}

/**
 * The blocks of a Messages request in cache order (tools, system, messages), with token counts.
 * String content counts as one text block, as the API reads it.
 */
export function anthropicPromptBlocks(body: JsonObject, countTokens: TokenCounter): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  const push = (role: string, block: JsonObject, text: string): void => {
    const id = digest(`${role}\n${JSON.stringify(withoutMarker(block))}`);
    blocks.push({ id, tokens: countTokens(text), breakpoint: block.cache_control !== undefined });
  };
  const contentBlocks = (role: string, content: JsonValue | undefined): void => {
    if (typeof content === 'string') push(role, { type: 'text', text: content }, content);
    else if (Array.isArray(content)) for (const block of content) if (isObject(block)) push(role, block, blockText(block));
  };
  for (const tool of Array.isArray(body.tools) ? body.tools : []) if (isObject(tool)) push('tool', tool, JSON.stringify(withoutMarker(tool)));
  contentBlocks('system', body.system);
  for (const message of Array.isArray(body.messages) ? body.messages : []) if (isObject(message)) contentBlocks(String(message.role), message.content);
  return blocks;
}

/** The messages of an OpenAI chat request as blocks (tools first, as one block). */
export function openAiPromptBlocks(body: JsonObject, countTokens: TokenCounter): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    const text = JSON.stringify(body.tools);
    blocks.push({ id: digest(`tools\n${text}`), tokens: countTokens(text), breakpoint: false });
  }
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    if (!isObject(message)) continue;
    const text = `${typeof message.content === 'string' ? message.content : JSON.stringify(message.content ?? '')}${message.tool_calls ? JSON.stringify(message.tool_calls) : ''}`;
    blocks.push({ id: digest(JSON.stringify(message)), tokens: countTokens(text), breakpoint: false });
  }
  return blocks;
}

/** Chained prefix identities: entry j names blocks 0..j. */
function prefixIds(blocks: readonly PromptBlock[]): string[] {
  const ids: string[] = [];
  let previous = '';
  for (const block of blocks) {
    previous = digest(`${previous}\n${block.id}`);
    ids.push(previous);
  }
  return ids;
}

function cumulativeTokens(blocks: readonly PromptBlock[]): number[] {
  let sum = 0;
  return blocks.map((block) => (sum += block.tokens));
}

/** A prompt cache with the 5-minute lifetime, refreshed on each use. Without times, entries never expire. */
class PrefixCache {
  private readonly lastUse = new Map<string, number>();

  has(id: string, now: number | undefined): boolean {
    const used = this.lastUse.get(id);
    return used !== undefined && (now === undefined || now - used <= CACHE_TTL_SECONDS);
  }

  touch(id: string, now: number | undefined): void {
    this.lastUse.set(id, now ?? 0);
  }
}

/** Anthropic's prompt cache for one organisation, fed one request at a time. */
export class AnthropicCacheSimulator {
  private readonly cache = new PrefixCache();

  /** Bills one request and records what it writes. `now` is in epoch seconds. */
  bill(blocks: readonly PromptBlock[], minimumTokens: number, now?: number): InputBill {
    const cumulative = cumulativeTokens(blocks);
    const inputTokens = cumulative[cumulative.length - 1] ?? 0;
    const breakpoints = blocks.flatMap((block, index) => (block.breakpoint ? [index] : []));
    if (breakpoints.length === 0) return { inputTokens, cacheReadTokens: 0, cacheWriteTokens: 0, billed: inputTokens };
    const ids = prefixIds(blocks);
    let readEnd = -1;
    for (const breakpoint of breakpoints) {
      for (let index = breakpoint; index >= Math.max(0, breakpoint - ANTHROPIC_LOOKBACK_BLOCKS); index--) {
        if (this.cache.has(ids[index]!, now)) {
          readEnd = Math.max(readEnd, index);
          break;
        }
      }
    }
    const cacheable = breakpoints.filter((index) => cumulative[index]! >= minimumTokens);
    const lastWrite = cacheable[cacheable.length - 1] ?? -1;
    const readTokens = readEnd >= 0 ? cumulative[readEnd]! : 0;
    const writeTokens = lastWrite > readEnd ? cumulative[lastWrite]! - readTokens : 0;
    for (const index of cacheable) this.cache.touch(ids[index]!, now);
    if (readEnd >= 0) this.cache.touch(ids[readEnd]!, now);
    const uncached = inputTokens - readTokens - writeTokens;
    return {
      inputTokens,
      cacheReadTokens: readTokens,
      cacheWriteTokens: writeTokens,
      billed: uncached + readTokens * ANTHROPIC_READ_RATE + writeTokens * ANTHROPIC_WRITE_RATE,
    };
  }
}

/** OpenAI's automatic prefix cache, fed one request at a time. */
export class OpenAiCacheSimulator {
  private readonly cache = new PrefixCache();

  /** @param cachedRate cached-input price ÷ input price for the model (from the price table). */
  constructor(private readonly cachedRate: number) {}

  bill(blocks: readonly PromptBlock[], now?: number): InputBill {
    const cumulative = cumulativeTokens(blocks);
    const inputTokens = cumulative[cumulative.length - 1] ?? 0;
    const ids = prefixIds(blocks);
    let matched = 0;
    for (let index = ids.length - 1; index >= 0; index--) {
      if (this.cache.has(ids[index]!, now)) {
        matched = cumulative[index]!;
        break;
      }
    }
    const cached = matched >= OPENAI_MIN_PREFIX ? OPENAI_MIN_PREFIX + Math.floor((matched - OPENAI_MIN_PREFIX) / OPENAI_PREFIX_STEP) * OPENAI_PREFIX_STEP : 0;
    if (inputTokens >= OPENAI_MIN_PREFIX) for (const id of ids) this.cache.touch(id, now);
    return { inputTokens, cacheReadTokens: cached, cacheWriteTokens: 0, billed: inputTokens - cached + cached * this.cachedRate };
  }
}
