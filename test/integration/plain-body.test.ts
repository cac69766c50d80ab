/**
 * A non-streamed upstream answer on its way to the client: the same bytes and headers, cached only
 * when whole; an upstream that cuts the body half-way fails the client's response and caches
 * nothing; a client that hangs up half-way through the body ends the upstream request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OPENAI_KEY, startStack, type Stack } from './helpers';

/** What the raw upstream does with the next request. */
type Mode = 'whole' | 'cut' | 'stall';

const ANSWER = JSON.stringify({
  id: 'chatcmpl-plain',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'a plain answer, '.repeat(400) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
});

let stack: Stack;
let upstream: http.Server;
let mode: Mode = 'whole';
let calls = 0;
/** Resolves when the upstream sees the connection of the request it stalled closed. */
let stalledClosed: Promise<void> = Promise.resolve();
let routeId = '';

before(async () => {
  upstream = http.createServer((req, res) => {
    calls++;
    req.resume();
    req.on('end', () => {
      const bytes = Buffer.from(ANSWER);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes.length), 'x-upstream-marker': 'plain' });
      if (mode === 'whole') {
        res.end(bytes);
        return;
      }
      res.write(bytes.subarray(0, 1000));
      if (mode === 'cut') setTimeout(() => res.socket?.destroy(), 20);
      else stalledClosed = new Promise((resolve) => res.on('close', () => resolve()));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as AddressInfo).port;
  stack = await startStack();
  routeId = stack.proxy.addRoute({ providers: [{ name: 'raw', kind: 'openai', baseUrl: `http://127.0.0.1:${port}/v1` }] }).id;
});

after(async () => {
  await stack.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Whether the response ended cleanly (false: the connection broke first). */
  complete: boolean;
}

/** One chat request to the raw upstream's route; `hangUpAfterBytes` closes the connection once that much body arrived. */
function ask(content: string, hangUpAfterBytes?: number): Promise<RawResponse> {
  const payload = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
  return new Promise((resolve, reject) => {
    const req = http.request(`${stack.proxy.url}/r/${routeId}/v1/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}` },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (complete: boolean): void => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (hangUpAfterBytes !== undefined && Buffer.concat(chunks).length >= hangUpAfterBytes) {
          req.destroy();
          finish(false);
        }
      });
      res.on('end', () => finish(res.complete));
      res.on('error', () => finish(false));
      res.on('aborted', () => finish(false));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

test('a plain answer reaches the client byte for byte with the upstream\'s headers, and the next identical request is an L1a hit', async () => {
  mode = 'whole';
  const first = await ask('plain and whole');
  assert.equal(first.status, 200);
  assert.ok(first.complete);
  assert.equal(first.body.toString(), ANSWER);
  assert.equal(first.headers['content-length'], String(Buffer.byteLength(ANSWER)));
  assert.equal(first.headers['x-upstream-marker'], 'plain');
  assert.equal(first.headers['x-isartor-layer'], 'l3');
  const callsBefore = calls;
  const second = await ask('plain and whole');
  assert.equal(second.headers['x-isartor-layer'], 'l1a');
  assert.deepEqual(JSON.parse(second.body.toString()).choices, JSON.parse(ANSWER).choices);
  assert.equal(calls, callsBefore, 'the hit did not go upstream');
});

test('an upstream that cuts a plain body half-way fails the client\'s response, and nothing is cached', async () => {
  mode = 'cut';
  const cut = await ask('cut me off');
  assert.equal(cut.complete, false, 'the client sees a broken response, not a short whole one');
  assert.ok(cut.body.length < Buffer.byteLength(ANSWER));
  mode = 'whole';
  const callsBefore = calls;
  const retry = await ask('cut me off');
  assert.equal(retry.headers['x-isartor-layer'], 'l3', 'the truncated answer was not cached');
  assert.equal(calls, callsBefore + 1);
  assert.equal(retry.body.toString(), ANSWER);
});

test('a client that hangs up half-way through a plain body ends the upstream request, and nothing is cached', async () => {
  mode = 'stall';
  const gone = await ask('I leave mid-body', 500);
  assert.equal(gone.complete, false);
  await stalledClosed; // hangs (and the test times out) if the proxy kept the upstream request open
  mode = 'whole';
  const callsBefore = calls;
  const retry = await ask('I leave mid-body');
  assert.equal(retry.headers['x-isartor-layer'], 'l3');
  assert.equal(calls, callsBefore + 1);
});
