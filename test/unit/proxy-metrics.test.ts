// The proxy's metrics load prom-client at the first scrape: what a scrape reads must be exactly
// what it reads when prom-client was there from the start, with the same updates in the same order.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { LedgerRecord } from '../../src/core/ledger-types';
import { createProxyMetrics, PENDING_LIMIT, type ProxyMetrics } from '../../src/proxy/metrics';

const requireHere = createRequire(__filename);
const promClientLoaded = (): boolean => requireHere.resolve('prom-client') in requireHere.cache;

/** Deterministic pseudo-random numbers (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function record(next: () => number): LedgerRecord {
  const layers = ['l1a', 'l1b', 'l2', 'l3', 'error'] as const;
  const layer = layers[Math.floor(next() * layers.length)]!;
  return {
    time: 0,
    tool: 'test',
    routeId: '',
    api: next() < 0.5 ? 'openai.chat' : 'anthropic.messages',
    model: 'm',
    layer,
    status: layer === 'error' ? 502 : 200,
    inputTokens: 1,
    outputTokens: 1,
    cachedInputTokens: 0,
    latencyMs: 1,
    savedTokens: layer === 'l3' ? 0 : Math.floor(next() * 900),
    // Fractions whose sum depends on the order of the additions.
    savedUsd: layer === 'l3' ? 0 : next() / 7,
    estimated: false,
    ...(layer === 'error' ? { error: 'upstream_error' } : {}),
  } as LedgerRecord;
}

/** `count` updates of every kind, the same sequence for the same seed. */
function feed(metrics: ProxyMetrics, seed: number, count: number): void {
  const next = random(seed);
  let inFlight = 0;
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (roll < 0.3) metrics.observeRecord(record(next));
    else if (roll < 0.45) metrics.observeError(next() < 0.5 ? 'chat' : 'guard', 400 + Math.floor(next() * 4), 'bad_request');
    else if (roll < 0.7) metrics.observeUpstreamLatency(next() < 0.5 ? 'openai' : 'anthropic', next() * next() * 40);
    else if (roll < 0.85 || inFlight === 0) {
      metrics.inFlight.inc();
      inFlight++;
    } else {
      metrics.inFlight.dec();
      inFlight--;
    }
  }
}

describe('proxy metrics', () => {
  it('do not load prom-client until the first scrape, and that scrape counts the requests made before it', async () => {
    const metrics = createProxyMetrics();
    metrics.inFlight.inc();
    metrics.observeRecord(record(random(1)));
    metrics.observeError('chat', 404, 'unknown_route');
    assert.equal(promClientLoaded(), false, 'prom-client was loaded before any scrape');
    const text = await metrics.registry.metrics();
    assert.equal(promClientLoaded(), true);
    assert.match(text, /^isartor_requests_in_flight 1$/m);
    assert.match(text, /^isartor_errors_total\{endpoint="chat",status="404",code="unknown_route"\} 1$/m);
    assert.match(text, /^isartor_requests_total\{layer="[a-z0-9]+",api="[a-z.]+",status="\d+"\} 1$/m);
  });

  for (const count of [200, PENDING_LIMIT + 1500]) {
    it(`read exactly what eager metrics read after ${count} updates before the first scrape`, async () => {
      const eager = createProxyMetrics();
      const eagerText = (await eager.registry.metrics()).length; // loads it before any update
      assert.ok(eagerText > 0);
      const lazy = createProxyMetrics();
      feed(eager, count, count);
      feed(lazy, count, count);
      const expected = await eager.registry.metrics();
      assert.equal(await lazy.registry.metrics(), expected);
      assert.match(expected, /^isartor_upstream_latency_seconds_count\{provider="openai"\} [1-9]/m);
      assert.match(expected, /^isartor_saved_usd_total\{layer="l1a"\} \d+\.\d+/m);
      // And after the load, updates go straight in: still the same.
      feed(eager, 7, 300);
      feed(lazy, 7, 300);
      assert.equal(await lazy.registry.metrics(), await eager.registry.metrics());
      assert.equal(lazy.registry.contentType, eager.registry.contentType);
    });
  }
});
