/**
 * startProxy as the VS Code extension embeds it: a taken port fails cleanly so the caller can ask
 * for port 0 on the same data dir, close() ends open streams, and Azure routes are addressed right.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/logger';
import { startProxy } from '../../src/proxy/server';
import { tempDirUntilExit } from '../fixtures/tempDir';
import { chatBody, postRaw, startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

test('a taken port rejects with EADDRINUSE, and port 0 then works on the same data dir', async () => {
  const other = { ...stack.config, dataDir: tempDirUntilExit('isartor-it-second-'), port: stack.proxy.port };
  await assert.rejects(startProxy(other, { logger: silentLogger }), (error: NodeJS.ErrnoException) => error.code === 'EADDRINUSE');
  const retry = await startProxy({ ...other, port: 0 }, { logger: silentLogger });
  try {
    assert.notEqual(retry.port, stack.proxy.port);
    assert.equal((await fetch(`${retry.url}/healthz`)).status, 200);
  } finally {
    await retry.close();
  }
});

test('close() ends an open stream, releases the data dir, and a new proxy opens it', async () => {
  const config = { ...stack.config, dataDir: tempDirUntilExit('isartor-it-close-'), port: 0 };
  const proxy = await startProxy(config, { logger: silentLogger });
  stack.fake.enqueue({ stallAfterEvents: 2 });
  const aborts = stack.fake.aborted.length;
  const stream = await stack.openai({ baseURL: `${proxy.url}/v1` }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'open while closing' }], stream: true });
  // Settled into a value at once, so the failure is never an unhandled rejection while close() runs.
  const outcome = (async () => {
    for await (const _chunk of stream) {
      // keep reading until the proxy goes away
    }
  })().then(() => 'ended cleanly', (error: unknown) => error);
  await proxy.close();
  assert.ok((await outcome) instanceof Error, 'the client saw its stream cut');
  await stack.fake.waitForAborts(aborts + 1);
  const reopened = await startProxy(config, { logger: silentLogger });
  await reopened.close();
});

test('an Azure route uses the deployment URL, api-version and api-key header', async () => {
  const route = stack.proxy.addRoute({
    providers: [{ name: 'azure-test', kind: 'azure', baseUrl: stack.fake.url, apiKey: 'azure-key-000111222', azure: { apiVersion: '2024-10-21' } }],
  });
  const res = await postRaw(`${stack.proxy.url}/r/${route.id}/v1/chat/completions`, JSON.stringify(chatBody('hello azure')));
  assert.equal(res.status, 200);
  const received = stack.fake.requests.at(-1)!;
  assert.equal(received.url, '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21');
  assert.equal(received.headers['api-key'], 'azure-key-000111222');
  assert.equal(received.headers['authorization'], undefined);
});
