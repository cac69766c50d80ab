/**
 * Backoff waits: exponential with jitter, Retry-After in its three forms, always capped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, retryAfterMs } from '../../src/core/upstream/backoff';

test('exponential steps with equal jitter, capped by maxBackoffMs', () => {
  assert.equal(backoffDelay(0, undefined, 20_000, () => 0), 250);
  assert.equal(backoffDelay(0, undefined, 20_000, () => 1), 500);
  assert.equal(backoffDelay(3, undefined, 20_000, () => 1), 4000);
  assert.equal(backoffDelay(10, undefined, 3000, () => 1), 3000);
  assert.equal(backoffDelay(10, undefined, 3000, () => 0), 1500);
});

test('Retry-After wins over the computed step and is capped too', () => {
  assert.equal(backoffDelay(0, 7000, 20_000), 7000);
  assert.equal(backoffDelay(0, 90_000, 20_000), 20_000);
});

test('Retry-After as seconds, as an HTTP date, and OpenAI retry-after-ms', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs({ 'retry-after': '3' }, now), 3000);
  assert.equal(retryAfterMs({ 'retry-after': '0.5' }, now), 500);
  assert.equal(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }, now), 10_000);
  assert.equal(retryAfterMs({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }, now), 0);
  assert.equal(retryAfterMs({ 'retry-after-ms': '120', 'retry-after': '9' }, now), 120);
  assert.equal(retryAfterMs({ 'retry-after': 'soon' }, now), undefined);
  assert.equal(retryAfterMs({}, now), undefined);
});
