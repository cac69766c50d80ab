/**
 * The L2.5 transformation of one request body: Anthropic cache hints (by default, the only change:
 * they alter billing, not what the model reads), and, only when the user switches them on,
 * shrinking and de-duplication of recognised instruction files, spliced into the client's bytes. Each step is a pure
 * function of the turn it edits (and of the turns before it), so a turn forwarded once is forwarded
 * with the same bytes on every later request of the conversation; only breakpoint markers move.
 */
import { createHash } from 'node:crypto';
import type { OptimiserConfig } from '../config';
import type { ApiStyle, JsonObject } from '../request';
import { planCacheHints } from './cacheHints';
import { planDedupe } from './dedupe';
import { findInstructionPayloads } from './instructions';
import type { InstructionPayload } from './instructions';
import { applyJsonEdits, DuplicateKeyError } from './jsonEdits';
import type { JsonEdit } from './jsonEdits';
import { shrinkMarkdown } from './markdown';
import { memoiseTokenCounter } from './tokenCounter';
import type { TokenCounter } from './tokenCounter';

export interface OptimiseInput {
  api: ApiStyle;
  model: string;
  /** The parsed client body (not mutated). */
  body: JsonObject;
  /** The client's bytes. */
  rawBody: Buffer;
}

export interface OptimiseResult {
  /** The body to forward, or undefined when nothing changed (forward the client's bytes). */
  forwardBody?: Buffer;
  /** Input tokens removed by shrinking and de-duplication, as the optimiser's counter counts them. */
  tokensSaved: number;
  /**
   * The instruction texts the edits changed, as sent and as forwarded (same order), so a real
   * tokenizer can count what was removed later, off the request's path (CountRemovedTokens).
   */
  edited?: { before: string[]; after: string[] };
  /** `cache_control` breakpoints added. */
  cacheHints: number;
}

export interface RequestOptimiser {
  optimise(input: OptimiseInput): OptimiseResult;
}

/**
 * Runs the optimiser with `settings` on another thread, from the client's bytes alone, or returns
 * undefined for a body small enough to optimise here. Editing a 4 MiB body (decode, scan, splice,
 * encode) takes ~50 ms, which on the proxy's thread delays every other client. With `heavy`
 * (instruction files to parse: see instructionEditChars) any body goes, when a thread is there.
 */
/**
 * Counts with the real tokenizer (o200k) the tokens `after` holds fewer than `before`, text by
 * text, on a thread of its own: loading the tokenizer (~0.4 s) and counting must not hold the
 * proxy's thread nor the body worker, which requests wait for.
 */
export type CountRemovedTokens = (edited: { before: string[]; after: string[] }) => Promise<number>;

export type OffThreadOptimise = (settings: OptimiserConfig, input: Omit<OptimiseInput, 'body'>, options?: { heavy?: boolean }) => Promise<OptimiseResult> | undefined;

/**
 * Instruction text beyond which the opt-in edits are run off the proxy's thread: each Markdown
 * parse costs ~0.2 ms per KB and comment removal may take a few dozen of them, so 2 KiB stays
 * within a few milliseconds here; a larger payload goes to the body worker.
 */
export const INLINE_EDIT_CHARS = 2 * 1024;

/**
 * Characters of recognised instruction files the opt-in edits would parse in `body` (0 when they
 * are all off): one scan of the system prompts, no parse.
 *
 * @example instructionEditChars(config.optimiser, 'anthropic.messages', body) > INLINE_EDIT_CHARS // off the proxy's thread
 */
export function instructionEditChars(config: OptimiserConfig, api: ApiStyle, body: JsonObject): number {
  if (!config.enabled || !(config.whitespace || config.htmlComments || config.dedupeBlocks)) return 0;
  if (api !== 'anthropic.messages' && api !== 'openai.chat') return 0;
  let chars = 0;
  for (const payload of findInstructionPayloads(api, body)) chars += payload.end - payload.start;
  return chars;
}

/** A shrunk payload and the tokens it saved, remembered by content. */
interface ShrinkMemo {
  text: string;
  saved: number;
}

/** Shrunk payloads remembered; bounded so that large payloads cannot pile up in memory. */
const MEMO_ENTRIES = 256;
/**
 * Payloads longer than this are forwarded as they are: parsing is ~0.3 s per 100 kB on a slow core,
 * paid on the request path the first time a payload is seen, for a saving the corpus puts under 0.1%.
 */
const MAX_SHRINK_CHARS = 100_000;
/**
 * Payload characters one request may have shrunk (in request order; the rest go out as they are),
 * so the parsing a request can cause is bounded whatever it holds.
 */
const MAX_SHRINK_CHARS_PER_REQUEST = 256 * 1024;
const TOKEN_MEMO_ENTRIES = 50_000;

function pathKey(path: ReadonlyArray<string | number>): string {
  return JSON.stringify(path);
}

/**
 * Builds the optimiser for one engine configuration. It keeps bounded memo tables (shrunk payloads
 * and token counts by content hash), so a system prompt repeated on every request is parsed and
 * tokenised once.
 *
 * @example
 * const optimiser = createRequestOptimiser(config.optimiser, countTokens);
 * const { forwardBody, tokensSaved, cacheHints } = optimiser.optimise({ api, model, body, rawBody });
 */
export function createRequestOptimiser(config: OptimiserConfig, countTokens: TokenCounter, options: { memoiseCounts?: boolean } = {}): RequestOptimiser {
  // A cheap counter is faster than the memo's own sha1 of a long text: memoise real tokenizers only.
  const count = options.memoiseCounts === false ? countTokens : memoiseTokenCounter(countTokens, TOKEN_MEMO_ENTRIES);
  const shrinkMemo = new Map<string, ShrinkMemo>();
  const shrinkPayload = (text: string): ShrinkMemo => {
    if (text.length > MAX_SHRINK_CHARS) return { text, saved: 0 };
    const key = createHash('sha1').update(text).digest('base64');
    const hit = shrinkMemo.get(key);
    if (hit) return hit;
    const shrunk = shrinkMarkdown(text, { whitespace: config.whitespace, htmlComments: config.htmlComments });
    const memo = { text: shrunk, saved: shrunk === text ? 0 : Math.max(0, count(text) - count(shrunk)) };
    shrinkMemo.set(key, memo);
    if (shrinkMemo.size > MEMO_ENTRIES) shrinkMemo.delete(shrinkMemo.keys().next().value as string);
    return memo;
  };

  /** Phase 1: instruction payloads. Returns the edits and the tokens they remove. */
  const instructionEdits = (api: ApiStyle, body: JsonObject): { edits: JsonEdit[]; saved: number; before: string[]; after: string[] } => {
    const before: string[] = [];
    const after: string[] = [];
    const shrinking = config.whitespace || config.htmlComments;
    if (!shrinking && !config.dedupeBlocks) return { edits: [], saved: 0, before, after };
    const payloads = findInstructionPayloads(api, body);
    if (payloads.length === 0) return { edits: [], saved: 0, before, after };
    const pointers = new Map<InstructionPayload, string>();
    if (config.dedupeBlocks) for (const { payload, pointer } of planDedupe(payloads).replacements) pointers.set(payload, pointer);
    const edits: JsonEdit[] = [];
    let saved = 0;
    let budget = MAX_SHRINK_CHARS_PER_REQUEST;
    const byContainer = new Map<string, InstructionPayload[]>();
    for (const payload of payloads) {
      const list = byContainer.get(pathKey(payload.path)) ?? [];
      list.push(payload);
      byContainer.set(pathKey(payload.path), list);
    }
    for (const list of byContainer.values()) {
      const container = list[0]!.container;
      // Payloads come in order and never overlap: the new text is built once.
      const parts: string[] = [];
      let copied = 0;
      let changed = false;
      for (const payload of list) {
        const original = container.slice(payload.start, payload.end);
        const pointer = pointers.get(payload);
        let replacement = original;
        if (pointer !== undefined) {
          replacement = pointer;
          saved += Math.max(0, count(original) - count(pointer));
        } else if (shrinking && original.length <= budget) {
          budget -= original.length;
          const memo = shrinkPayload(original);
          replacement = memo.text;
          saved += memo.saved;
        }
        if (replacement === original) continue;
        before.push(original);
        after.push(replacement);
        parts.push(container.slice(copied, payload.start), replacement);
        copied = payload.end;
        changed = true;
      }
      if (!changed) continue;
      parts.push(container.slice(copied));
      edits.push({ kind: 'replaceString', path: list[0]!.path, value: parts.join('') });
    }
    return { edits, saved, before, after };
  };

  /** The transformation; throws DuplicateKeyError for a body that repeats a key (see optimise). */
  const transform = (api: ApiStyle, model: string, body: JsonObject, rawBody: Buffer): OptimiseResult => {
    // Decoded only when something is edited: a large body that goes out as it came costs nothing here.
    let text: string | undefined;
    let current = body;
    const phase1 = instructionEdits(api, body);
    if (phase1.edits.length > 0) {
      text = applyJsonEdits(rawBody.toString('utf8'), phase1.edits);
      current = JSON.parse(text) as JsonObject;
    }
    let cacheHints = 0;
    if (api === 'anthropic.messages' && config.cacheHints) {
      const plan = planCacheHints(current, model, count);
      if (plan.edits.length > 0) text = applyJsonEdits(text ?? rawBody.toString('utf8'), plan.edits);
      cacheHints = plan.breakpoints;
    }
    const result: OptimiseResult = { forwardBody: text === undefined ? undefined : Buffer.from(text, 'utf8'), tokensSaved: phase1.saved, cacheHints };
    if (phase1.before.length > 0) result.edited = { before: phase1.before, after: phase1.after };
    return result;
  };

  return {
    optimise({ api, model, body, rawBody }) {
      if (!config.enabled || (api !== 'anthropic.messages' && api !== 'openai.chat')) return { tokensSaved: 0, cacheHints: 0 };
      try {
        return transform(api, model, body, rawBody);
      } catch (error) {
        // A key repeated within one object: the plan was made on the parsed body (the last copy
        // wins, as at the provider), but an edit could land in the first copy, which the provider
        // ignores. Nothing is changed: the client's bytes go out as they came.
        if (error instanceof DuplicateKeyError) return { tokensSaved: 0, cacheHints: 0 };
        throw error;
      }
    },
  };
}
