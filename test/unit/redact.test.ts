/**
 * The one redaction path every log line, start-up line and error shown to a caller goes through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets } from '../../src/core/logger';

test('a password in a URL becomes user:***@, wherever the URL sits in the text', () => {
  assert.equal(redactSecrets('openai https://me:hunter2@proxy.example:8443/v1 (key set)'), 'openai https://me:***@proxy.example:8443/v1 (key set)');
  assert.equal(redactSecrets('redis://:p%40ss@127.0.0.1:6379/0'), 'redis://:***@127.0.0.1:6379/0');
  assert.equal(redactSecrets('http://user@host/v1 and http://host:8080/v1'), 'http://user@host/v1 and http://host:8080/v1', 'no password, nothing to hide');
});

test('a key in a URL\'s query string loses all but a short prefix', () => {
  assert.equal(redactSecrets('forwards to http://127.0.0.1:1/v1?key=QUERYSECRET123&x=1'), 'forwards to http://127.0.0.1:1/v1?key=QUER…[redacted]&x=1');
  assert.equal(redactSecrets('https://h/v1?api_key=abcdefgh1234'), 'https://h/v1?api_key=abcd…[redacted]');
  assert.equal(redactSecrets('https://h/v1?monkey=banana1234'), 'https://h/v1?monkey=banana1234', 'only whole parameter names');
});

test('API keys keep a short prefix and lose the rest', () => {
  const out = redactSecrets('Incorrect API key provided: sk-proj-abcdefgh12345678901234567890');
  assert.doesNotMatch(out, /12345678901234567890/);
  assert.match(out, /sk-proj-abcdefgh…\[redacted\]/);
});

test('an error handed to another extension loses the key its message echoed, and keeps its class when clean', async () => {
  const { redactedError } = await import('../../src/extension/log');
  const echoed = redactedError(new TypeError('upstream said: invalid key sk-abcdefgh1234567890abcdef')) as Error;
  assert.equal(echoed.name, 'TypeError');
  assert.doesNotMatch(echoed.message, /1234567890abcdef/);
  const clean = new RangeError('nothing secret');
  assert.equal(redactedError(clean), clean);
  assert.equal(redactedError('Bearer abcdefghijklmnopqrstuvwxyz'), 'Bearer abcd…[redacted]');
});

test("Google, Groq and xAI keys are redacted like OpenAI's and Anthropic's", () => {
  const keys = ['AIzaSyD3xampleKeyValue0123456789abcdefg', 'gsk_8f7e6d5c4b3a29180716253443526170', 'xai-Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6'];
  for (const key of keys) {
    const line = redactSecrets(`provider failed with key ${key}.`);
    assert.ok(!line.includes(key.slice(8)), line);
    assert.match(line, /…\[redacted\]/);
  }
});
