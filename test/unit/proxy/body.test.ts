/**
 * Reading a request body (src/proxy/body.ts) from a real HTTP request on loopback. A body the body
 * worker will parse arrives straight into shared memory, so that nothing copies it again in one go
 * on the proxy's thread; every body must still come back byte for byte.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { readRequestBody } from '../../../src/proxy/body';
import { OFF_THREAD_BYTES } from '../../../src/proxy/bodyParser';
import { ProxyError } from '../../../src/proxy/errors';

const LIMIT = 4 * OFF_THREAD_BYTES;

describe('readRequestBody', () => {
  let server: http.Server;
  let url = '';
  /** What the server read from the last request, or the error it got. */
  let read: Promise<Buffer>;

  before(async () => {
    server = http.createServer((req, res) => {
      read = readRequestBody(req, LIMIT);
      read.then(() => res.end('ok'), () => res.end('refused'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());

  /** Sends `body` in pieces of `piece` bytes, a turn of the event loop apart. */
  async function send(body: Buffer, headers: http.OutgoingHttpHeaders, piece = 64 * 1024): Promise<void> {
    const req = http.request(url, { method: 'POST', headers });
    const answered = once(req, 'response').then(([res]) => (res as http.IncomingMessage).resume());
    for (let at = 0; at < body.length; at += piece) {
      req.write(body.subarray(at, at + piece));
      await new Promise((resolve) => setImmediate(resolve));
    }
    req.end();
    await answered;
  }

  const bytes = (length: number): Buffer => {
    const body = Buffer.alloc(length);
    for (let i = 0; i < length; i++) body[i] = (i * 31 + 7) & 0xff;
    return body;
  };

  it('reads a body the worker will parse into shared memory, byte for byte', async () => {
    const body = bytes(OFF_THREAD_BYTES * 2 + 12_345);
    await send(body, { 'content-length': body.length });
    const raw = await read;
    assert.ok(raw.buffer instanceof SharedArrayBuffer, 'in shared memory');
    assert.ok(raw.equals(body));
  });

  it('reads a smaller body, or one sent without a length, into ordinary memory', async () => {
    const small = bytes(OFF_THREAD_BYTES - 1);
    await send(small, { 'content-length': small.length });
    const raw = await read;
    assert.ok(!(raw.buffer instanceof SharedArrayBuffer));
    assert.ok(raw.equals(small));
    const chunked = bytes(OFF_THREAD_BYTES + 1);
    await send(chunked, { 'transfer-encoding': 'chunked' });
    assert.ok((await read).equals(chunked));
  });

  it('decodes a compressed body whatever its size', async () => {
    const body = bytes(OFF_THREAD_BYTES * 3);
    const gzipped = gzipSync(body);
    await send(gzipped, { 'content-length': gzipped.length, 'content-encoding': 'gzip' });
    assert.ok((await read).equals(body));
  });

  it('refuses a body over the limit with a 413, whether its length was declared or not', async () => {
    const body = bytes(LIMIT + 1);
    await send(body, { 'content-length': body.length });
    await assert.rejects(read, (error: unknown) => error instanceof ProxyError && error.status === 413);
    await send(body, { 'transfer-encoding': 'chunked' });
    await assert.rejects(read, (error: unknown) => error instanceof ProxyError && error.status === 413);
  });
});
