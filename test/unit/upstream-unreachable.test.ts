/**
 * When every provider fails to connect, the client's error names each provider with its own
 * cause, and a host name that does not exist is not retried.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../src/core/logger';
import { silentLogger } from '../../src/core/logger';
import { createUpstreamClient } from '../../src/core/upstream/client';
import { UpstreamUnreachableError } from '../../src/core/upstream/errors';

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warn: (message: string) => warnings.push(message), warnings };
}

test('each provider is named with its own cause; an unknown host name is tried once, a refused port retried', async () => {
  const providers = [
    { name: 'refused', kind: 'openai' as const, baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-a' },
    { name: 'unknown-host', kind: 'openai' as const, baseUrl: 'http://isartor-test-host.invalid/v1', apiKey: 'sk-b' },
  ];
  const logger = capturingLogger();
  const client = createUpstreamClient({ providers, timeoutMs: 5_000, retries: 2, maxBackoffMs: 10 }, logger);
  try {
    const body = Buffer.from('{"model":"m","messages":[]}');
    await assert.rejects(client.send({ providers, endpoint: 'chat', model: 'm', method: 'POST', headers: {}, body, signal: new AbortController().signal }), (error: unknown) => {
      assert.ok(error instanceof UpstreamUnreachableError);
      assert.match(error.message, /refused \(.*ECONNREFUSED.*\); unknown-host \(.*ENOTFOUND.*\)/);
      return true;
    });
    assert.equal(logger.warnings.filter((line) => line.startsWith('upstream refused failed')).length, 3, 'a refused connection is retried');
    assert.equal(logger.warnings.filter((line) => line.startsWith('upstream unknown-host failed')).length, 1, 'a name that does not exist is not');
  } finally {
    await client.close();
  }
});
