/**
 * `isartor bench traces`: replays recorded agent trajectories through the full proxy against the
 * fake upstream (which answers each request with the recorded assistant message and usage), and
 * reports deflections, false hits, tokens forwarded, prompt-cache billing and prefix stability,
 * exactly as DESIGN.md's command-line contract defines them.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultConfig } from '../core/config';
import type { EngineConfig } from '../core/config';
import { silentLogger } from '../core/logger';
import type { Logger } from '../core/logger';
import { minimumCacheableTokens } from '../core/optimiser/cacheHints';
import { memoiseTokenCounter } from '../core/optimiser/tokenCounter';
import { priceFor } from '../core/prices';
import type { JsonObject, JsonValue } from '../core/request';
import { countTokensExactly } from '../core/tokens';
import { startProxy } from '../proxy/server';
import { AnthropicCacheSimulator, OpenAiCacheSimulator, anthropicPromptBlocks, openAiPromptBlocks } from './billing';
import { startFakeUpstream } from './fakeUpstream';
import type { FakeUpstream } from './fakeUpstream';
import { startsWithTurns, turnBytes } from './prefixStability';
import type { TurnBytes } from './prefixStability';
import { toAnthropicAnswer, toAnthropicRequest } from './toAnthropic';
import { listTrajectoryFiles, loadTrajectory } from './trajectories';
import type { RecordedCall } from './trajectories';

export type TracesApi = 'openai' | 'anthropic';

export interface TracesOptions {
  dir: string;
  limit?: number;
  api: TracesApi;
  /** Called after each request with (done, total trajectories) for a progress bar. */
  onProgress?: (trajectoriesDone: number, trajectoriesTotal: number) => void;
  logger?: Logger;
}

/** One L1b hit, for a person to judge: the last user turn asked and the one whose answer was served. */
export interface L1bPair {
  trajectory: string;
  asked: string;
  answeredFor: string;
}

export interface TracesReport {
  trajectories: number;
  requests: number;
  deflected: { l1a: number; l1b: number; l2: number };
  falseHits: number;
  l1bPairs: L1bPair[];
  inputTokens: number;
  forwardedInputTokens: number;
  /** Null when no request of the run began with the previous one (nothing to measure). */
  prefixStableRatio: number | null;
  billedInputTokens: { original: number; forwarded: number };
  p50Ms: number;
  p99Ms: number;
}

/** What identifies a request for false-hit judgement: its parameters, history and last user turn. */
interface RequestIdentity {
  params: string;
  history: string;
  lastTurn: string;
  lastTurnText: string;
}

const DEFLECTED_LAYERS = new Set(['l1a', 'l1b', 'l2']);
const PAIR_TEXT_LIMIT = 2000;
/** Used when the price table has no cached-input rate for the model (OpenAI's usual half price). */
const DEFAULT_OPENAI_CACHED_RATE = 0.5;

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOfTurn(message: JsonObject | undefined): string {
  const content = message?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isObject(part) ? String(part.text ?? (typeof part.content === 'string' ? part.content : '')) : '')).join('\n');
}

/** Splits a client request into parameters, the history before its last user turn, and that turn. */
function identify(body: JsonObject): RequestIdentity {
  const messages = Array.isArray(body.messages) ? body.messages.filter(isObject) : [];
  let last = messages.length - 1;
  while (last >= 0 && messages[last]!.role !== 'user' && messages[last]!.role !== 'tool') last--;
  const { messages: _messages, ...params } = body;
  return {
    params: sha(JSON.stringify(params)),
    history: sha(JSON.stringify(messages.slice(0, Math.max(0, last)))),
    lastTurn: sha(JSON.stringify(messages.slice(Math.max(0, last)))),
    lastTurnText: textOfTurn(messages[last]),
  };
}

/** What the model said, independent of ids and API shape: text plus tool names and arguments. */
function answerFingerprint(api: TracesApi, body: JsonObject): string {
  if (api === 'anthropic') {
    const blocks = Array.isArray(body.content) ? body.content.filter(isObject) : [];
    return sha(JSON.stringify(blocks.map((block) => (block.type === 'tool_use' ? ['tool', block.name, block.input] : ['text', block.text ?? '']))));
  }
  const choice = Array.isArray(body.choices) && isObject(body.choices[0]) ? body.choices[0] : {};
  const message = isObject(choice.message) ? choice.message : {};
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : [];
  const toolParts = calls.map((call) => {
    const fn = isObject(call.function) ? call.function : {};
    return ['tool', fn.name, (() => { try { return JSON.parse(String(fn.arguments ?? '')) as JsonValue; } catch { return fn.arguments ?? null; } })()];
  });
  return sha(JSON.stringify([...(message.content ? [['text', message.content]] : []), ...toolParts]));
}

/** The upstream's answer to one recorded call, in the API shape of the replay, with the recorded usage. */
function recordedAnswerBody(api: TracesApi, call: RecordedCall, id: string): JsonObject {
  if (api === 'anthropic') {
    return toAnthropicAnswer(call.answer, call.finishReason, id, { inputTokens: call.usage.promptTokens, outputTokens: call.usage.completionTokens });
  }
  const message: JsonObject = { role: 'assistant', content: call.answer.content ?? null };
  if (Array.isArray(call.answer.tool_calls)) message.tool_calls = call.answer.tool_calls;
  return {
    id,
    object: 'chat.completion',
    created: call.time ?? 0,
    model: String(call.request.model),
    choices: [{ index: 0, message, finish_reason: call.finishReason, logprobs: null }],
    usage: {
      prompt_tokens: call.usage.promptTokens,
      completion_tokens: call.usage.completionTokens,
      total_tokens: call.usage.promptTokens + call.usage.completionTokens,
      prompt_tokens_details: { cached_tokens: call.usage.cachedTokens },
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function benchConfig(dataDir: string, fake: FakeUpstream): EngineConfig {
  const config = defaultConfig(dataDir);
  config.port = 0;
  config.upstream.providers = [
    { name: 'fake-openai', kind: 'openai', baseUrl: fake.openaiBase },
    { name: 'fake-anthropic', kind: 'anthropic', baseUrl: fake.anthropicBase },
  ];
  config.upstream.retries = 0;
  return config;
}

/**
 * Runs the replay. Every layer is on, with the configuration `isartor serve` starts with; the
 * store lives in a fresh temporary folder that is removed afterwards.
 *
 * @example const report = await runTracesBench({ dir: '../shared/eval/agent-traces', api: 'anthropic', limit: 5 });
 */
export async function runTracesBench(options: TracesOptions): Promise<TracesReport> {
  const files = await listTrajectoryFiles(options.dir);
  const selected = options.limit === undefined ? files : files.slice(0, options.limit);
  // The report's token figures are measurements: exact, not the proxy's bounded estimate.
  const count = memoiseTokenCounter(countTokensExactly, 200_000);
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-bench-traces-'));
  const fake = await startFakeUpstream();
  const proxy = await startProxy(benchConfig(dataDir, fake), { logger: options.logger ?? silentLogger }).catch(async (error: unknown) => {
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  const anthropic = options.api === 'anthropic';
  const endpoint = `${proxy.url}/v1/${anthropic ? 'messages' : 'chat/completions'}`;
  const headers: Record<string, string> = anthropic
    ? { 'content-type': 'application/json', 'x-api-key': 'isartor-bench', 'anthropic-version': '2023-06-01' }
    : { 'content-type': 'application/json', authorization: 'Bearer isartor-bench' };

  const report: TracesReport = {
    trajectories: selected.length, requests: 0, deflected: { l1a: 0, l1b: 0, l2: 0 }, falseHits: 0, l1bPairs: [],
    inputTokens: 0, forwardedInputTokens: 0, prefixStableRatio: null, billedInputTokens: { original: 0, forwarded: 0 }, p50Ms: 0, p99Ms: 0,
  };
  const producers = new Map<string, RequestIdentity[]>();
  const originalBilling = { anthropic: new AnthropicCacheSimulator(), openai: undefined as OpenAiCacheSimulator | undefined };
  const forwardedBilling = { anthropic: new AnthropicCacheSimulator(), openai: undefined as OpenAiCacheSimulator | undefined };
  const latencies: number[] = [];
  let prefixEligible = 0;
  let prefixStable = 0;
  let answer: JsonObject = {};
  const respond = (): void => fake.respondWith(() => ({ body: answer }));

  try {
    for (const [fileIndex, file] of selected.entries()) {
      const trajectory = await loadTrajectory(file, options.dir);
      let previous: { original: TurnBytes; forwarded?: TurnBytes } | undefined;
      for (const call of trajectory.calls) {
        const body = anthropic ? toAnthropicRequest(call.request) : call.request;
        const model = String(body.model);
        const text = JSON.stringify(body);
        const identity = identify(body);
        answer = recordedAnswerBody(options.api, call, `isartor-bench-${report.requests + 1}`);
        fake.reset();
        respond();

        const started = performance.now();
        const response = await fetch(endpoint, { method: 'POST', headers, body: text });
        const responseText = await response.text();
        latencies.push(performance.now() - started);
        if (response.status !== 200) throw new Error(`${trajectory.id}: the proxy answered ${response.status}: ${responseText.slice(0, 300)}`);
        const layer = response.headers.get('x-isartor-layer') ?? 'l3';
        const responseBody = JSON.parse(responseText) as JsonObject;
        report.requests++;

        // Billing and tokens: the request as the client sent it, and as it reached the upstream.
        if (!originalBilling.openai) {
          const price = priceFor(model);
          const rate = price?.cachedInput !== undefined && price.input > 0 ? price.cachedInput / price.input : DEFAULT_OPENAI_CACHED_RATE;
          originalBilling.openai = new OpenAiCacheSimulator(rate);
          forwardedBilling.openai = new OpenAiCacheSimulator(rate);
        }
        const minimum = minimumCacheableTokens(model);
        const bill = (simulators: typeof originalBilling, requestBody: JsonObject) =>
          anthropic
            ? simulators.anthropic.bill(anthropicPromptBlocks(requestBody, count), minimum, call.time)
            : simulators.openai!.bill(openAiPromptBlocks(requestBody, count), call.time);
        const originalBill = bill(originalBilling, body);
        report.inputTokens += originalBill.inputTokens;
        report.billedInputTokens.original += originalBill.billed;
        const originalTurns = turnBytes(text);

        if (DEFLECTED_LAYERS.has(layer)) {
          report.deflected[layer as 'l1a' | 'l1b' | 'l2']++;
          const sources = producers.get(answerFingerprint(options.api, responseBody)) ?? [];
          const sameRequest = (source: RequestIdentity): boolean =>
            source.params === identity.params && source.history === identity.history && (layer !== 'l1a' || source.lastTurn === identity.lastTurn);
          if (layer !== 'l2' && !sources.some(sameRequest)) report.falseHits++;
          if (layer === 'l1b') {
            report.l1bPairs.push({
              trajectory: trajectory.id,
              asked: identity.lastTurnText.slice(0, PAIR_TEXT_LIMIT),
              answeredFor: (sources[0]?.lastTurnText ?? '(no recorded request gave this answer)').slice(0, PAIR_TEXT_LIMIT),
            });
          }
          previous = { original: originalTurns };
        } else {
          const forwarded = fake.requests[fake.requests.length - 1];
          if (!forwarded || fake.requests.length !== 1) throw new Error(`${trajectory.id}: expected one upstream request, saw ${fake.requests.length}`);
          const forwardedText = forwarded.rawBody.toString('utf8');
          const forwardedBill = bill(forwardedBilling, forwarded.json as JsonObject);
          report.forwardedInputTokens += forwardedBill.inputTokens;
          report.billedInputTokens.forwarded += forwardedBill.billed;
          const forwardedTurns = turnBytes(forwardedText);
          if (previous?.forwarded && startsWithTurns(originalTurns, previous.original)) {
            prefixEligible++;
            if (startsWithTurns(forwardedTurns, previous.forwarded)) prefixStable++;
          }
          const fingerprint = answerFingerprint(options.api, responseBody);
          producers.set(fingerprint, [...(producers.get(fingerprint) ?? []), identity]);
          previous = { original: originalTurns, forwarded: forwardedTurns };
        }
      }
      options.onProgress?.(fileIndex + 1, selected.length);
    }
  } finally {
    await proxy.close();
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  latencies.sort((a, b) => a - b);
  report.p50Ms = round(percentile(latencies, 50));
  report.p99Ms = round(percentile(latencies, 99));
  report.prefixStableRatio = prefixEligible === 0 ? null : prefixStable / prefixEligible;
  report.billedInputTokens.original = Math.round(report.billedInputTokens.original);
  report.billedInputTokens.forwarded = Math.round(report.billedInputTokens.forwarded);
  return report;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
