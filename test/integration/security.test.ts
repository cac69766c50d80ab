/**
 * What keeps a web page from spending the configured key: any Origin is refused unless allowed,
 * API bodies must be declared JSON, the upstream's CORS headers never reach the client, and the
 * Host check holds on every loopback address the proxy may bind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { silentLogger } from '../../src/core/logger';
import { startProxy } from '../../src/proxy/server';
import { tempDirUntilExit } from '../fixtures/tempDir';
import { chatBody, postRaw, startStack, type Stack } from './helpers';

const CONFIGURED_KEY = 'sk-configured-key-for-the-default-route-01';
let stack: Stack;
before(async () => {
  stack = await startStack((config, fake) => {
    // The dangerous case: a key configured for the default route, so a request needs no key of its own.
    config.upstream.providers = [
      { name: 'fake-openai', kind: 'openai', baseUrl: fake.openaiBase, apiKey: CONFIGURED_KEY },
      { name: 'fake-anthropic', kind: 'anthropic', baseUrl: fake.anthropicBase, apiKey: CONFIGURED_KEY },
    ];
  });
});
after(() => stack.close());

const chat = JSON.stringify(chatBody('spend the key'));
const messages = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'spend the key' }] });

test('every Origin a browser context can send is refused with 403 before anything is forwarded', async () => {
  const calls = stack.fake.requests.length;
  for (const origin of ['null', 'file://', 'chrome-extension://abcdefghijklmnop', 'http://127.0.0.2:8080', 'http://localhost:3000', 'vscode-webview://x', 'https://attacker.example']) {
    const openai = await postRaw(`${stack.proxy.url}/v1/chat/completions`, chat, { origin });
    assert.equal(openai.status, 403, `Origin ${origin} on chat completions`);
    assert.equal(openai.json.error.type, 'permission_error');
    assert.match(openai.json.error.message, /security\.allowedOrigins/);
    const anthropic = await postRaw(`${stack.proxy.url}/v1/messages`, messages, { origin });
    assert.equal(anthropic.status, 403, `Origin ${origin} on messages`);
    assert.equal(anthropic.json.type, 'error', 'the Anthropic error shape on /v1/messages');
    assert.equal(anthropic.json.error.type, 'permission_error');
  }
  const preflight = await fetch(`${stack.proxy.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'null', 'access-control-request-method': 'POST' } });
  assert.equal(preflight.status, 403);
  assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  assert.equal(stack.fake.requests.length, calls, 'nothing was forwarded');
});

test('an origin on security.allowedOrigins passes, and so does the proxy\'s own origin', async () => {
  const config = { ...stack.config, dataDir: tempDirUntilExit('isartor-it-allowed-'), security: { allowedOrigins: ['http://localhost:5173'] } };
  const proxy = await startProxy(config, { logger: silentLogger });
  try {
    const allowed = await postRaw(`${proxy.url}/v1/chat/completions`, chat, { origin: 'http://localhost:5173' });
    assert.equal(allowed.status, 200);
    const other = await postRaw(`${proxy.url}/v1/chat/completions`, chat, { origin: 'http://localhost:5174' });
    assert.equal(other.status, 403);
    const own = await fetch(`${proxy.url}/isartor/stats`, { headers: { origin: proxy.url } });
    assert.equal(own.status, 200);
  } finally {
    await proxy.close();
  }
});

test('an API POST whose body is not declared JSON gets 415 in the API\'s shape and is not forwarded', async () => {
  const calls = stack.fake.requests.length;
  for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const openai = await postRaw(`${stack.proxy.url}/v1/chat/completions`, chat, { 'content-type': contentType });
    assert.equal(openai.status, 415, contentType);
    assert.equal(openai.json.error.type, 'invalid_request_error');
    assert.equal(openai.json.error.code, 'unsupported_media_type');
    assert.match(openai.json.error.message, /Content-Type: application\/json/);
    const anthropic = await postRaw(`${stack.proxy.url}/v1/messages`, messages, { 'content-type': contentType, 'anthropic-version': '2023-06-01' });
    assert.equal(anthropic.status, 415);
    assert.equal(anthropic.json.type, 'error');
    assert.equal(anthropic.json.error.type, 'invalid_request_error');
    for (const path of ['/v1/completions', '/v1/embeddings', '/v1/messages/count_tokens']) {
      assert.equal((await postRaw(`${stack.proxy.url}${path}`, chat, { 'content-type': contentType })).status, 415, path);
    }
  }
  // A body with no Content-Type at all (what fetch sends for a Blob without a type).
  const untyped = await fetch(`${stack.proxy.url}/v1/chat/completions`, { method: 'POST', body: new Blob([chat]) });
  assert.equal(untyped.status, 415);
  assert.equal(stack.fake.requests.length, calls, 'nothing was forwarded');
  const vendorJson = await postRaw(`${stack.proxy.url}/v1/chat/completions`, JSON.stringify(chatBody('vendor json')), { 'content-type': 'application/vnd.api+json; charset=utf-8' });
  assert.equal(vendorJson.status, 200, 'application/*+json is JSON');
});

test('the upstream\'s CORS headers never reach the client, fresh or passed through', async () => {
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-expose-headers': 'x-request-id' };
  stack.fake.enqueue({ headers: cors }, { headers: cors }, { headers: cors });
  const fresh = await fetch(`${stack.proxy.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chatBody('cors please')), headers: { 'content-type': 'application/json' } });
  assert.equal(fresh.status, 200);
  const streamed = await fetch(`${stack.proxy.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chatBody('cors stream', { stream: true })), headers: { 'content-type': 'application/json' } });
  const models = await fetch(`${stack.proxy.url}/v1/models`);
  for (const response of [fresh, streamed, models]) {
    await response.arrayBuffer();
    assert.equal(response.status, 200);
    for (const name of Object.keys(cors)) assert.equal(response.headers.get(name), null, `${name} on ${response.url}`);
  }
});

/** Status of a POST sent with a forged Host header. */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', headers: { host, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(chat);
  });
}

test('bound to 127.0.0.2, the proxy still refuses a rebound Host and accepts loopback ones', async () => {
  const config = { ...stack.config, dataDir: tempDirUntilExit('isartor-it-host2-'), host: '127.0.0.2' };
  const proxy = await startProxy(config, { logger: silentLogger });
  try {
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.2:\d+$/);
    const calls = stack.fake.requests.length;
    assert.equal(await statusWithHost(proxy.url, `rebound.example:${proxy.port}`), 403);
    assert.equal(await statusWithHost(proxy.url, `127.0.0.1.nip.io:${proxy.port}`), 403);
    assert.equal(stack.fake.requests.length, calls, 'nothing was forwarded');
    assert.equal(await statusWithHost(proxy.url, `127.0.0.2:${proxy.port}`), 200);
    assert.equal(await statusWithHost(proxy.url, `localhost:${proxy.port}`), 200);
  } finally {
    await proxy.close();
  }
});

test('isartor serve --host 127.0.0.2 does not call that address "not loopback", and an upstream password is logged redacted', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-security-'));
  const bin = join(__dirname, '..', '..', 'bin', 'isartor.js');
  const upstream = stack.fake.openaiBase.replace('http://', 'http://proxyuser:hunter2-secret@');
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_HOST']) delete env[name];
  const child = spawn(process.execPath, [bin, 'serve', '--host', '127.0.0.2', '--port', '0', '--data-dir', dataDir, '--upstream', upstream], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, 'line')) as [string];
    lines.close();
    const url = /listening on (http:\/\/127\.0\.0\.2:\d+)/.exec(line)?.[1];
    assert.ok(url, line);
    // The "default route forwards to" line is written right after the ready line.
    while (!stderr.includes('default route forwards to')) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.doesNotMatch(stderr, /not loopback/);
    assert.doesNotMatch(stderr, /hunter2/);
    assert.match(stderr, /proxyuser:\*\*\*@127\.0\.0\.1/);
    assert.equal(await statusWithHost(url, 'rebound.example'), 403);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** The command line `ps` shows other users for a process (Linux and macOS). */
function processListLine(pid: number): string {
  return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
}

test('isartor serve hides the passwords on its command line (--store, --upstream) from the process list', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-security-ps-'));
  const bin = join(__dirname, '..', '..', 'bin', 'isartor.js');
  const upstream = stack.fake.openaiBase.replace('http://', 'http://proxyuser:upstream-pass-in-argv@');
  // README's team set-up passes the Redis password this way; port 1 refuses, and serve starts anyway.
  const store = 'redis://isartor:store-pass-in-argv@127.0.0.1:1/0';
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_HOST', 'ISARTOR_STORE_URL']) delete env[name];
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir, '--upstream', upstream, '--store', store], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.resume();
  try {
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, 'line')) as [string];
    lines.close();
    assert.match(line, /listening on http:\/\/127\.0\.0\.1:\d+/);
    const shown = processListLine(child.pid!);
    assert.doesNotMatch(shown, /store-pass-in-argv/, `ps shows: ${shown}`);
    assert.doesNotMatch(shown, /upstream-pass-in-argv/, `ps shows: ${shown}`);
    assert.match(shown, /serve/, 'the rest of the command line is still there to recognise the process');
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await rm(dataDir, { recursive: true, force: true });
  }
});
