/**
 * The benchmark's own plumbing on real loopback HTTP: the bare pass-through forwards requests and
 * answers (plain and streamed) unchanged, and the load generator counts, times and fails loudly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Agent } from 'undici';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { createLoadAgent, LoadError, runLoad } from '../../src/bench/load';
import { startPassThrough, type PassThrough } from '../../src/bench/passthrough';

let fake: FakeUpstream;
let pass: PassThrough;
let agent: Agent;
const headers = { 'content-type': 'application/json', authorization: 'Bearer test-key' };
const body = (i: number, stream = false): string => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${i}` }], ...(stream ? { stream: true } : {}) });

before(async () => {
  fake = await startFakeUpstream();
  pass = await startPassThrough(fake.url);
  agent = createLoadAgent();
});
after(async () => {
  await agent.close();
  await pass.close();
  await fake.close();
});

describe('pass-through', () => {
  it('forwards method, path, headers and body byte for byte, and the answer back', async () => {
    fake.reset();
    const response = await fetch(`${pass.url}/v1/chat/completions?x=1`, { method: 'POST', headers, body: body(1) });
    const json = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    assert.equal(response.status, 200);
    assert.equal(json.choices[0]!.message.content, 'Answer 1 to: question 1');
    const seen = fake.requests[0]!;
    assert.equal(seen.url, '/v1/chat/completions?x=1');
    assert.equal(seen.rawBody.toString(), body(1));
    assert.equal(seen.headers.authorization, 'Bearer test-key');
  });

  it('passes a stream through whole and an upstream error status unchanged', async () => {
    fake.reset();
    const streamed = await fetch(`${pass.url}/v1/chat/completions`, { method: 'POST', headers, body: body(2, true) });
    const text = await streamed.text();
    assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.ok(text.trimEnd().endsWith('data: [DONE]'));
    fake.enqueue({ status: 429, body: { error: { message: 'slow down' } } });
    const limited = await fetch(`${pass.url}/v1/chat/completions`, { method: 'POST', headers, body: body(3) });
    assert.equal(limited.status, 429);
    assert.deepEqual(await limited.json(), { error: { message: 'slow down' } });
  });
});

describe('runLoad', () => {
  it('sends every request once with the body made for its index, and times each', async () => {
    fake.reset();
    const result = await runLoad({ url: `${pass.url}/v1/chat/completions`, headers, body: (i) => body(100 + i, i % 2 === 1), count: 40, concurrency: 8, agent });
    assert.equal(result.totalMs.length, 40);
    assert.equal(result.firstByteMs.length, 40);
    assert.deepEqual(result.layers, { none: 40 }, 'no x-isartor-layer header outside the proxy');
    result.totalMs.forEach((total, i) => assert.ok(result.firstByteMs[i]! <= total));
    assert.ok(result.wallMs > 0);
    const asked = fake.requests.map((r) => (r.json as { messages: Array<{ content: string }> }).messages[0]!.content).sort();
    assert.deepEqual(asked, Array.from({ length: 40 }, (_, i) => `question ${100 + i}`).sort());
  });

  it('fails with the status and body of an answer that is not a 200, and stops the other workers', async () => {
    fake.reset();
    fake.enqueue({}, { status: 500, body: { error: { message: 'boom' } } });
    await assert.rejects(
      runLoad({ url: `${fake.url}/v1/chat/completions`, headers, body: (i) => body(i), count: 50, concurrency: 1, agent }),
      (error: unknown) => error instanceof LoadError && /answered 500/.test(error.message) && /boom/.test(error.message),
    );
    assert.equal(fake.requests.length, 2, 'no request is sent after the failure');
  });
});
