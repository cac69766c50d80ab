// A client chooses the model name, and the proxy logs it: a name with a line break must not be able
// to write a line of its own into the log (a forged "ERROR" or a fake start-up line).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../src/core/config';
import { createLogger } from '../../src/core/logger';
import { startProxy } from '../../src/proxy/server';

test('a model name with line breaks stays inside its own log line', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-log-lines-'));
  const writes: string[] = [];
  const config = defaultConfig(dataDir);
  config.port = 0;
  config.semantic.enabled = false;
  config.local.enabled = false;
  // Nothing listens on port 9: the upstream is unreachable, which the proxy logs as a warning with the model.
  config.upstream = { providers: [{ name: 'gone', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' }], timeoutMs: 2_000, retries: 0, maxBackoffMs: 10 };
  const proxy = await startProxy(config, { logger: createLogger((line) => writes.push(line), 'debug') });
  try {
    const forged = 'gpt-4o\n[2026-12-07T00:00:00.000Z] ERROR forged line\r\u2028';
    const response = await fetch(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: JSON.stringify({ model: forged, messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(response.status, 502);
    await response.text();
  } finally {
    await proxy.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const mentions = writes.filter((line) => line.includes('forged line'));
  assert.ok(mentions.length > 0, 'the model name was logged');
  for (const line of mentions) {
    assert.doesNotMatch(line, /[\n\r\u2028]/, line);
    assert.match(line, /gpt-4o\\n\[2026/);
  }
});
