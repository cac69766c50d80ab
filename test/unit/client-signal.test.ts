// ClientSignal, the per-request stand-in for an AbortController: the AbortSignal behaviour the proxy
// relies on, and the two libraries that take it in an AbortSignal's place (undici, timers/promises).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as wait } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { asAbortSignal, ClientSignal } from '../../src/core/clientSignal';
import { untilAborted } from '../../src/core/abortable';

describe('ClientSignal', () => {
  it('calls each abort listener once, in order, with the reason set, and forgets removed ones', () => {
    const signal = new ClientSignal();
    const calls: string[] = [];
    const first = (): void => void calls.push(`first:${String(signal.reason)}`);
    const removed = (): void => void calls.push('removed');
    const last = (): void => void calls.push(`last:${String(signal.aborted)}`);
    signal.addEventListener('abort', first);
    signal.addEventListener('abort', first); // the same listener twice is one listener, as with EventTarget
    signal.addEventListener('abort', removed, { once: true });
    signal.addEventListener('abort', last);
    signal.removeEventListener('abort', removed);
    assert.equal(signal.aborted, false);
    signal.abort('gone');
    signal.abort('again'); // a second abort changes nothing and calls nobody
    assert.deepEqual(calls, ['first:gone', 'last:true']);
    assert.equal(signal.reason, 'gone');
    assert.throws(() => signal.throwIfAborted(), (thrown: unknown) => thrown === 'gone');
  });

  it('defaults the reason to an AbortError, as AbortController does', () => {
    const signal = new ClientSignal();
    signal.throwIfAborted();
    signal.abort();
    assert.ok(signal.reason instanceof DOMException);
    assert.equal((signal.reason as DOMException).name, 'AbortError');
  });

  it('keeps calling the other listeners when one throws', async () => {
    const signal = new ClientSignal();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    let reached = false;
    signal.addEventListener('abort', () => {
      throw new Error('listener broke');
    });
    signal.addEventListener('abort', () => (reached = true));
    signal.abort();
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    assert.equal(reached, true);
    assert.ok(warnings.some((message) => message.includes('listener broke')));
  });

  it('rejects untilAborted with its reason and leaves no listener behind once the work settled', async () => {
    const signal = new ClientSignal();
    assert.equal(await untilAborted(Promise.resolve(7), signal), 7);
    const pending = untilAborted(new Promise(() => undefined), signal);
    signal.abort('client left');
    await assert.rejects(pending, (thrown: unknown) => thrown === 'client left');
  });

  it('stops a timers/promises wait', async () => {
    const signal = new ClientSignal();
    const waiting = wait(60_000, undefined, { signal: asAbortSignal(signal) });
    signal.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
  });

  describe('with undici', () => {
    let server: Server;
    let origin: string;
    let closedByPeer: Promise<void>;
    before(async () => {
      let markClosed!: () => void;
      closedByPeer = new Promise((resolve) => (markClosed = resolve));
      // Never answers; tells the test when undici hung up.
      server = createServer((req) => req.socket.once('close', markClosed));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('aborts a request under way and closes its connection', async () => {
      const agent = new Agent();
      const signal = new ClientSignal();
      const request = agent.request({ origin, path: '/', method: 'POST', body: '{}', signal: asAbortSignal(signal) });
      await new Promise((resolve) => setTimeout(resolve, 50));
      signal.abort();
      await assert.rejects(request);
      await closedByPeer;
      await agent.close();
    });

    it('refuses to start a request whose signal has already aborted', async () => {
      const agent = new Agent();
      const signal = new ClientSignal();
      signal.abort();
      await assert.rejects(agent.request({ origin, path: '/', method: 'GET', signal: asAbortSignal(signal) }));
      await agent.close();
    });
  });
});
