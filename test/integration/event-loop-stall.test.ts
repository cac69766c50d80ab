/**
 * No prompt may freeze the proxy (issue 11, item 2): texts that make a byte-pair tokenizer
 * quadratic (long runs without spaces) and very large plain texts go through `isartor serve` with
 * every default layer on, by both APIs and both official SDKs, streamed and not, while a second
 * client polls `/healthz` every ~10 ms from its own thread. No poll may wait more than 100 ms on
 * the work of the proxy's event loop (the wall-clock wait is reported too; on a machine shared by
 * many jobs it also holds time the proxy spent waiting for a core, which is not a stall of its own).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
const KIB = 1024;
const MIB = 1024 * KIB;
/** The bound the issue sets for a poll; the proxy's own goal is 50 ms per request. */
const MAX_POLL_MS = 100;
/** The fake echoes at most this much of the prompt, so answers are pathological too. */
const ECHO_LIMIT = 64 * KIB;

/** A prompt that carries this is answered with `largeAnswer()`. */
const LARGE_ANSWER_MARK = 'LARGE-ANSWER';
let largeAnswerText: string | undefined;

/** 8 MB of CJK and emoji in words of 30 characters, so a stream sends it in ~90,000 events. */
function largeAnswer(): string {
  if (largeAnswerText !== undefined) return largeAnswerText;
  const word = '緩存答案数据キャッシュ🚀火箭快取回答資料😀'.repeat(2).slice(0, 30);
  return (largeAnswerText = Array.from({ length: 8 * MIB / Buffer.byteLength(`${word} `) }, (_, i) => `${word}${i % 10}`).join(' '));
}

/** Deterministic pseudo-random lower-case letters (xorshift), so a failure can be replayed. */
function randomLetters(length: number): string {
  let state = 0x2545f491;
  const out = new Array<string>(length);
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = String.fromCharCode(97 + ((state >>> 0) % 26));
  }
  return out.join('');
}

/** Identifiers glued without spaces, as minified code or a pasted symbol table looks. */
function gluedIdentifiers(length: number): string {
  const parts = ['camelCase', 'Glued', 'Without', 'Spaces', 'handleRequest', 'Vector', 'Index', 'Snapshot', 'loadModel', 'Buffer'];
  let text = '';
  for (let i = 0; text.length < length; i++) text += parts[i % parts.length]! + (i % 7);
  return text.slice(0, length);
}

function plainWords(length: number): string {
  const words = 'the quick brown fox jumps over a lazy dog while reviewing pull requests about caching layers'.split(' ');
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const word = words[(i * 7) % words.length]!;
    out.push(word);
    size += word.length + 1;
  }
  return out.join(' ');
}

const SHAPES: Array<[name: string, text: () => string]> = [
  ['one letter, 64 KiB', () => 'x'.repeat(64 * KIB)],
  ['one letter, 256 KiB', () => 'x'.repeat(256 * KIB)],
  ['one letter, 1 MiB + 1', () => 'x'.repeat(MIB + 1)],
  ['two letters alternating, 256 KiB', () => 'ab'.repeat(128 * KIB)],
  ['random letters, 256 KiB', () => randomLetters(256 * KIB)],
  ['glued identifiers, 256 KiB', () => gluedIdentifiers(256 * KIB)],
  ['plain words, 4 MiB', () => plainWords(4 * MIB)],
];

/** What the poller saw: the longest wait, and the longest wait the proxy spent computing. */
interface PollResult {
  polls: number;
  /** Longest wall-clock wait for an answer. */
  maxMs: number;
  /**
   * Longest wait counted as the CPU time the proxy's main thread used meanwhile (never more than
   * the wait). A stalled event loop burns CPU the whole time; a proxy merely waiting for a core on
   * a loaded machine does not, nor does one whose worker threads (body parsing, L1b) are busy while
   * its event loop answers: so this is the figure the bound applies to.
   */
  maxBusyMs: number;
  /** The whole process's CPU time in one wait (worker threads included), reported only. */
  maxProcessMs: number;
}

/**
 * Polls `/healthz` every ~10 ms from a worker thread, so the test's own work (building bodies, the
 * fake upstream parsing them) never delays a poll: only the proxy process can.
 */
async function startPoller(url: string, pid: number): Promise<{ stop(): Promise<PollResult> }> {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // utime + stime in ms (stat fields 14 and 15, in clock ticks of 10 ms): of the proxy's main
    // thread (its task id is the process id), and of the whole process (worker threads included).
    const cpuOf = (path) => {
      const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    };
    const cpuMs = () => cpuOf('/proc/' + workerData.pid + '/task/' + workerData.pid + '/stat');
    const processCpuMs = () => cpuOf('/proc/' + workerData.pid + '/stat');
    let running = true, polls = 0, maxMs = 0, maxBusyMs = 0, maxProcessMs = 0;
    parentPort.on('message', () => { running = false; });
    const poll = () => new Promise((resolve, reject) => {
      http.get(workerData.url, { agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
    });
    (async () => {
      await poll();
      parentPort.postMessage('ready');
      while (running) {
        const started = performance.now();
        const cpuBefore = cpuMs();
        const processBefore = processCpuMs();
        await poll();
        const waited = performance.now() - started;
        maxMs = Math.max(maxMs, waited);
        maxBusyMs = Math.max(maxBusyMs, Math.min(waited, cpuMs() - cpuBefore));
        maxProcessMs = Math.max(maxProcessMs, processCpuMs() - processBefore);
        polls++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      agent.destroy();
      parentPort.postMessage({ polls, maxMs, maxBusyMs, maxProcessMs });
    })();
    `,
    { eval: true, workerData: { url, pid } },
  );
  await once(worker, 'message'); // polling before the first request is sent
  return {
    async stop() {
      worker.postMessage('stop');
      const [result] = (await once(worker, 'message')) as [PollResult];
      await worker.terminate();
      return result;
    },
  };
}

let fake: FakeUpstream;
let dataDir: string;
let child: ChildProcess;
let baseUrl: string;
let stderr = '';

before(async () => {
  fake = await startFakeUpstream();
  fake.respondWith((recorded) => {
    if (JSON.stringify(recorded.json ?? null).includes(LARGE_ANSWER_MARK)) return { text: largeAnswer() };
    const messages: Array<{ content: unknown }> = recorded.json?.messages ?? [];
    const last = messages.at(-1)?.content;
    return { text: typeof last === 'string' ? last.slice(0, ECHO_LIMIT) : 'ok' };
  });
  dataDir = await mkdtemp(join(tmpdir(), 'isartor-stall-'));
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG']) delete env[name];
  child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--upstream', fake.openaiBase, '--anthropic-upstream', fake.anthropicBase], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  const match = /^isartor listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
  assert.ok(match, `unexpected ready line: ${line}`);
  baseUrl = match[1]!;
  // Start-up is not under test: one ordinary streamed request first, so the tokenizer's one-time
  // load (~0.3 s, on the first count the process makes) happens before the polls begin.
  const warm = await new OpenAI({ apiKey: 'sk-stall-test-0001', baseURL: `${baseUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'warm up' }] });
  for await (const _chunk of warm);
  await fetch(`${baseUrl}/healthz`); // answered once the load, if it was still running, is over
});

after(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

for (const [index, [name, makeText]] of SHAPES.entries()) {
  test(`${name}: chat completions and Messages, plain and streamed, never stall /healthz over ${MAX_POLL_MS} ms`, { timeout: 120_000 }, async (t) => {
    const diagnostic = (message: string): void => t.diagnostic(message);
    const text = makeText();
    const openai = new OpenAI({ apiKey: 'sk-stall-test-0001', baseURL: `${baseUrl}/v1`, maxRetries: 0, timeout: 120_000 });
    const anthropic = new Anthropic({ apiKey: 'sk-ant-stall-test-0001', baseURL: baseUrl, maxRetries: 0, timeout: 120_000 });
    const poller = await startPoller(`${baseUrl}/healthz`, child.pid!);
    try {
      // A distinct first line per request, so none is answered from the exact cache.
      const plain = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${index} plain\n${text}` }] });
      assert.ok(plain.choices[0]?.message.content);
      // No `include_usage`: the proxy estimates the usage itself from the texts.
      const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `${index} stream\n${text}` }] });
      let streamed = '';
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
      assert.ok(streamed.length > 0);
      const message = await anthropic.messages.create({ model: 'fake-claude', max_tokens: 64, messages: [{ role: 'user', content: `${index} messages\n${text}` }] });
      assert.equal(message.content[0]?.type, 'text');
      const streamedMessage = await anthropic.messages.stream({ model: 'fake-claude', max_tokens: 64, messages: [{ role: 'user', content: `${index} messages stream\n${text}` }] }).finalMessage();
      assert.equal(streamedMessage.content[0]?.type, 'text');
    } finally {
      const { polls, maxMs, maxBusyMs, maxProcessMs } = await poller.stop();
      assert.ok(polls > 0, 'the poller ran');
      const figures = `longest wait ${maxMs.toFixed(0)} ms, of which the proxy's main thread computed ${maxBusyMs.toFixed(0)} ms (the whole process at most ${maxProcessMs.toFixed(0)} ms in one wait; ${polls} polls)`;
      assert.ok(maxBusyMs <= MAX_POLL_MS, `a /healthz poll waited on the proxy during "${name}": ${figures}\n${stderr}`);
      diagnostic(`${name}: ${figures}`);
    }
  });
}

test(`default settings: thousands of short turns just under the worker's threshold get cache hints without stalling /healthz over ${MAX_POLL_MS} ms`, { timeout: 120_000 }, async (t) => {
  // Cache hints are on by default and such a body is optimised on the proxy's thread: wrapping
  // every string turn took one copy of the body per turn and held that thread for 1.7-2.1 s.
  const messages = Array.from({ length: 6_500 }, (_, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content: `ok${i % 10}` }));
  messages.push({ role: 'user', content: `end ${Date.now()}` });
  const request = { model: 'claude-sonnet-4-5', max_tokens: 16, system: 'You are a careful coding agent. '.repeat(200), messages };
  assert.ok(JSON.stringify(request).length < 256 * KIB, 'under the body worker\'s threshold');
  const anthropic = new Anthropic({ apiKey: 'sk-ant-stall-test-0001', baseURL: baseUrl, maxRetries: 0, timeout: 120_000 });
  const poller = await startPoller(`${baseUrl}/healthz`, child.pid!);
  try {
    const { data, response } = await anthropic.messages.create(request).withResponse();
    assert.equal(data.content[0]?.type, 'text');
    assert.match(response.headers.get('x-isartor-optimised') ?? '', /cache_hints=[1-4]$/);
    const forwarded = fake.requests.at(-1)!.rawBody.toString('utf8');
    assert.ok(forwarded.includes('{"role":"assistant","content":[{"type":"text","text":"ok1"}]},{"role":"user","content":[{"type":"text","text":"ok2"}]}'), 'every turn wrapped the same way');
  } finally {
    const { polls, maxMs, maxBusyMs, maxProcessMs } = await poller.stop();
    const figures = `longest wait ${maxMs.toFixed(0)} ms, of which the proxy's main thread computed ${maxBusyMs.toFixed(0)} ms (the whole process at most ${maxProcessMs.toFixed(0)} ms in one wait; ${polls} polls)`;
    assert.ok(maxBusyMs <= MAX_POLL_MS, `a /healthz poll waited on the proxy: ${figures}\n${stderr}`);
    t.diagnostic(figures);
  }
});

test(`opted-in edits of a large instruction file with 64 comments never stall /healthz over ${MAX_POLL_MS} ms`, { timeout: 120_000 }, async (t) => {
  // An 84 KB CLAUDE.md whose comments each separate two lists: removing them all changes the tree,
  // and trying each alone re-parsed the file 66 times a round, 4.4 s on the proxy's thread (the body
  // is far below the worker's 256 KiB). Now the parses are bounded and such editing runs in the worker.
  const editingDir = await mkdtemp(join(tmpdir(), 'isartor-stall-edit-'));
  const configFile = join(editingDir, 'config.json');
  await writeFile(configFile, JSON.stringify({ optimiser: { cacheHints: true, whitespace: true, htmlComments: true, dedupeBlocks: true } }));
  const env: NodeJS.ProcessEnv = { ...process.env, ISARTOR_CONFIG: configFile };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR']) delete env[name];
  const editing = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(editingDir, 'data'), '--upstream', fake.openaiBase, '--anthropic-upstream', fake.anthropicBase], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let editingStderr = '';
  editing.stderr!.on('data', (chunk: Buffer) => (editingStderr += chunk.toString()));
  try {
    const lines = createInterface({ input: editing.stdout! });
    const [line] = (await once(lines, 'line')) as [string];
    lines.close();
    const url = /^isartor listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
    assert.ok(url, `unexpected ready line: ${line}`);
    let markdown = '';
    for (let k = 0; k < 64; k++) markdown += `- a${k} ${'words about the build and tests '.repeat(40)}\n\n<!-- sep ${k} -->\n\n- b${k}\n\n`;
    const system = `Contents of /r/CLAUDE.md (project instructions):\n\n${markdown}</system-reminder>`;
    const anthropic = new Anthropic({ apiKey: 'sk-ant-stall-test-0001', baseURL: url, maxRetries: 0, timeout: 120_000 });
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'warm up' }] });
    const poller = await startPoller(`${url}/healthz`, editing.pid!);
    try {
      const { response } = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, system, messages: [{ role: 'user', content: `hi ${Date.now()}` }] }).withResponse();
      assert.match(response.headers.get('x-isartor-optimised') ?? '', /cache_hints=[1-4]$/);
    } finally {
      const { polls, maxMs, maxBusyMs, maxProcessMs } = await poller.stop();
      const figures = `longest wait ${maxMs.toFixed(0)} ms, of which the proxy's main thread computed ${maxBusyMs.toFixed(0)} ms (the whole process at most ${maxProcessMs.toFixed(0)} ms in one wait; ${polls} polls)`;
      assert.ok(maxBusyMs <= MAX_POLL_MS, `a /healthz poll waited on the proxy: ${figures}\n${editingStderr}`);
      t.diagnostic(figures);
    }
  } finally {
    if (editing.exitCode === null) {
      editing.kill('SIGTERM');
      await once(editing, 'exit');
    }
    await rm(editingDir, { recursive: true, force: true });
  }
});

test(`bodies of very many JSON values go upstream as sent, uncached, and never stall /healthz over ${MAX_POLL_MS} ms`, { timeout: 120_000 }, async (t) => {
  // A million pieces each (src/core/jsonNodes.ts), ~5 MB: taking such a body in from the body
  // worker held the proxy's thread for 100-200 ms; JSON.parse there would be no faster. So the
  // proxy forwards the client's bytes and keeps nothing.
  const messages = Array.from({ length: 200_000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}` }));
  const tokenRows = Array.from({ length: 500 }, (_, row) => Array.from({ length: 2_000 }, (_, i) => (row + i) % 50_000));
  const openai = new OpenAI({ apiKey: 'sk-stall-test-0001', baseURL: `${baseUrl}/v1`, maxRetries: 0, timeout: 120_000 });
  const anthropic = new Anthropic({ apiKey: 'sk-ant-stall-test-0001', baseURL: baseUrl, maxRetries: 0, timeout: 120_000 });
  /** The last request the fake upstream received, checked to be byte for byte what the SDK sent. */
  const assertForwardedAsSent = (params: unknown): void => {
    const recorded = fake.requests.at(-1)!;
    assert.ok(recorded.rawBody.equals(Buffer.from(JSON.stringify(params))), `the upstream got ${recorded.rawBody.length} bytes that differ from the client's`);
  };
  const poller = await startPoller(`${baseUrl}/healthz`, child.pid!);
  try {
    const chat = { model: 'gpt-4o-mini', messages } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const before = fake.requests.length;
    for (let attempt = 0; attempt < 2; attempt++) {
      const { data, response } = await openai.chat.completions.create(chat).withResponse();
      assert.ok(data.choices[0]?.message.content);
      assert.equal(response.headers.get('x-isartor-layer'), 'l3');
      assertForwardedAsSent(chat);
    }
    assert.equal(fake.requests.length, before + 2, 'the same request twice went upstream twice: nothing was cached');

    const streamed = { model: 'gpt-4o-mini', messages, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming;
    let text = '';
    for await (const chunk of await openai.chat.completions.create(streamed)) text += chunk.choices[0]?.delta.content ?? '';
    assert.ok(text.length > 0);
    assertForwardedAsSent(streamed);

    const message = { model: 'fake-claude', max_tokens: 64, messages } as Anthropic.MessageCreateParamsNonStreaming;
    assert.equal((await anthropic.messages.create(message)).content[0]?.type, 'text');
    assertForwardedAsSent(message);

    const embedding = { model: 'text-embedding-3-small', input: tokenRows, encoding_format: 'float' } as const;
    assert.equal((await openai.embeddings.create(embedding)).data.length, 1);
    assertForwardedAsSent(embedding);

    // A malformed one is still the proxy's own 400, in the API's shape.
    await assert.rejects(openai.chat.completions.create({ messages } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 400);
      assert.equal(error.param, 'model');
      return true;
    });
  } finally {
    const { polls, maxMs, maxBusyMs, maxProcessMs } = await poller.stop();
    const figures = `longest wait ${maxMs.toFixed(0)} ms, of which the proxy's main thread computed ${maxBusyMs.toFixed(0)} ms (the whole process at most ${maxProcessMs.toFixed(0)} ms in one wait; ${polls} polls)`;
    assert.ok(maxBusyMs <= MAX_POLL_MS, `a /healthz poll waited on the proxy: ${figures}\n${stderr}`);
    t.diagnostic(figures);
  }
});

test(`answers of 8 MB reach the client whole, are not cached, are counted, and never stall /healthz over ${MAX_POLL_MS} ms`, { timeout: 180_000 }, async (t) => {
  // Storing an answer, and replaying it, decoded and parsed it in one piece on the proxy's thread:
  // a 5 MB answer held it for 120 ms. An answer over 1 MiB now passes through uncached, and its
  // usage is read on the body worker.
  const text = largeAnswer();
  const outputTokens = Math.ceil(text.length / 4); // what the fake reports
  const openai = new OpenAI({ apiKey: 'sk-stall-test-0001', baseURL: `${baseUrl}/v1`, maxRetries: 0, timeout: 120_000 });
  const anthropic = new Anthropic({ apiKey: 'sk-ant-stall-test-0001', baseURL: baseUrl, maxRetries: 0, timeout: 120_000 });
  const poller = await startPoller(`${baseUrl}/healthz`, child.pid!);
  const before = fake.requests.length;
  try {
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${LARGE_ANSWER_MARK} plain` }] } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    for (let attempt = 0; attempt < 2; attempt++) {
      const { data, response } = await openai.chat.completions.create(chat).withResponse();
      assert.equal(data.choices[0]?.message.content, text);
      assert.equal(response.headers.get('x-isartor-layer'), 'l3', 'the same request again is not a hit: the answer was not stored');
    }
    let streamed = '';
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `${LARGE_ANSWER_MARK} stream` }] });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, text);
    const message = await anthropic.messages.create({ model: 'fake-claude', max_tokens: 64, messages: [{ role: 'user', content: `${LARGE_ANSWER_MARK} messages` }] });
    assert.equal(message.content[0]?.type === 'text' ? message.content[0].text : undefined, text);
    // A Responses stream repeats the whole text in its last events, response.completed among them.
    let deltas = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of await openai.responses.create({ model: 'gpt-5-mini', input: `${LARGE_ANSWER_MARK} responses`, stream: true })) {
      if (event.type === 'response.output_text.delta') deltas += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.equal(deltas, text);
    assert.equal(completed?.output_text ?? (completed?.output[0] as { content?: Array<{ text?: string }> } | undefined)?.content?.[0]?.text, text, 'the stream reached response.completed: no error event added');
    assert.equal(fake.requests.length, before + 5, 'every request went upstream');
  } finally {
    const { polls, maxMs, maxBusyMs, maxProcessMs } = await poller.stop();
    const figures = `longest wait ${maxMs.toFixed(0)} ms, of which the proxy's main thread computed ${maxBusyMs.toFixed(0)} ms (the whole process at most ${maxProcessMs.toFixed(0)} ms in one wait; ${polls} polls)`;
    assert.ok(maxBusyMs <= MAX_POLL_MS, `a /healthz poll waited on the proxy: ${figures}\n${stderr}`);
    t.diagnostic(figures);
  }
  // The ledger has each of them with the provider's own usage, read from the answer.
  const counted = async (): Promise<number> => {
    const stats = (await (await fetch(`${baseUrl}/isartor/stats`)).json()) as { ledger: { recent: Array<{ layer: string; outputTokens: number; estimated: boolean }> } };
    return stats.ledger.recent.filter((record) => record.layer === 'l3' && record.outputTokens === outputTokens && !record.estimated).length;
  };
  const deadline = Date.now() + 10_000;
  while ((await counted()) < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(await counted(), 5, 'five ledger records with the answers\' usage');
});

test(`a local model's long answer, generated in full before it is streamed, never stalls /healthz over ${MAX_POLL_MS} ms`, { timeout: 120_000 }, async (t) => {
  // A streamed request without its own token limit is answered only once the local answer is
  // whole (it could still hit the local cap). Its deltas were then written in one run of promise
  // callbacks that never let the event loop turn: 500,000 of them held it for 1.8 s.
  const EVENTS = 60_000;
  const local = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as { stream?: boolean };
      if (!request.stream) {
        // Triage: SIMPLE, so the local model answers.
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'SIMPLE' }, logprobs: { content: [{ token: 'SIMPLE', logprob: -0.01, top_logprobs: [{ token: 'SIMPLE', logprob: -0.01 }] }] }, finish_reason: 'length' }] }));
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const frame = (delta: object, finish: string | null = null): string => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(Array.from({ length: EVENTS }, (_, i) => frame({ content: ` w${i % 10}` })).join(''));
      res.end(`${frame({}, 'stop')}data: [DONE]\n\n`);
    });
  });
  local.listen(0, '127.0.0.1');
  await once(local, 'listening');
  const dir = await mkdtemp(join(tmpdir(), 'isartor-stall-local-'));
  const configFile = join(dir, 'config.json');
  const localUrl = `http://127.0.0.1:${(local.address() as AddressInfo).port}/v1`;
  await writeFile(configFile, JSON.stringify({ local: { enabled: true, backendUrl: localUrl, backendModel: 'fake-local', maxAnswerTokens: 100_000 } }));
  const env: NodeJS.ProcessEnv = { ...process.env, ISARTOR_CONFIG: configFile };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR']) delete env[name];
  const serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--upstream', fake.openaiBase, '--anthropic-upstream', fake.anthropicBase], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serveStderr = '';
  serve.stderr!.on('data', (chunk: Buffer) => (serveStderr += chunk.toString()));
  try {
    const lines = createInterface({ input: serve.stdout! });
    const [line] = (await once(lines, 'line')) as [string];
    lines.close();
    const url = /^isartor listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
    assert.ok(url, `unexpected ready line: ${line}`);
    const openai = new OpenAI({ apiKey: 'sk-stall-test-0001', baseURL: `${url}/v1`, maxRetries: 0, timeout: 120_000 });
    // The tokenizer's one-time load (the first count, which the local layer's limits make) is not under test.
    // A prompt past the local limits is counted and then goes to the cloud.
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'warm up '.repeat(1_000) }] });
    const before = fake.requests.length;
    const poller = await startPoller(`${url}/healthz`, serve.pid!);
    try {
      const { data: stream, response } = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
      let deltas = 0;
      let text = '';
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (content) (deltas++, (text += content));
      }
      assert.equal(response.headers.get('x-isartor-layer'), 'l2');
      assert.equal(deltas, EVENTS, 'every delta of the local answer, one frame each');
      assert.ok(text.startsWith(' w0 w1 w2'));
      assert.equal(fake.requests.length, before, 'nothing went to the cloud');
    } finally {
      const { polls, maxMs, maxBusyMs, maxProcessMs } = await poller.stop();
      const figures = `longest wait ${maxMs.toFixed(0)} ms, of which the proxy's main thread computed ${maxBusyMs.toFixed(0)} ms (the whole process at most ${maxProcessMs.toFixed(0)} ms in one wait; ${polls} polls)`;
      assert.ok(maxBusyMs <= MAX_POLL_MS, `a /healthz poll waited on the proxy: ${figures}\n${serveStderr}`);
      t.diagnostic(figures);
    }
  } finally {
    if (serve.exitCode === null) {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    }
    local.close();
    await rm(dir, { recursive: true, force: true });
  }
});
