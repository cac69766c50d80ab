/**
 * Prometheus metrics for one proxy instance, in its own registry so several proxies (tests, the
 * extension next to a CLI) never share counters.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LedgerRecord } from '../core/ledger-types';

export interface ProxyMetrics {
  readonly registry: Registry;
  /** Requests currently being answered; tests wait on it instead of sleeping. */
  readonly inFlight: Gauge;
  /** Counts one finished request from its ledger record. */
  observeRecord(record: LedgerRecord): void;
  /** Counts a request the proxy answered with an error of its own (bad JSON, unknown route, ...). */
  observeError(endpoint: string, status: number, code: string): void;
  observeUpstreamLatency(provider: string, seconds: number): void;
}

/** Creates the metrics of one proxy. */
export function createProxyMetrics(): ProxyMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'isartor_requests_total',
    help: 'Requests answered, by layer, API style and HTTP status.',
    labelNames: ['layer', 'api', 'status'] as const,
    registers: [registry],
  });
  const deflections = new Counter({
    name: 'isartor_deflections_total',
    help: 'Requests answered without the cloud, by layer (l1a, l1b, l2).',
    labelNames: ['layer'] as const,
    registers: [registry],
  });
  const upstreamLatency = new Histogram({
    name: 'isartor_upstream_latency_seconds',
    help: 'Time from sending a request upstream to its response headers.',
    labelNames: ['provider'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const savedTokens = new Counter({ name: 'isartor_saved_tokens_total', help: 'Cloud tokens not billed thanks to Isartor.', labelNames: ['layer'] as const, registers: [registry] });
  const savedUsd = new Counter({ name: 'isartor_saved_usd_total', help: 'USD not billed thanks to Isartor, under the price table.', labelNames: ['layer'] as const, registers: [registry] });
  // Counters only go up: an optimiser net below zero (cache writes dearer than what the hints saved)
  // is counted here, so the net saving is isartor_saved_usd_total minus this.
  const writePremium = new Counter({
    name: 'isartor_optimiser_cache_write_premium_usd_total',
    help: 'USD by which optimiser-hinted requests cost more in cache writes than they saved; subtract from isartor_saved_usd_total for the net.',
    registers: [registry],
  });
  const spentUsd = new Counter({ name: 'isartor_spent_usd_total', help: 'USD billed in the cloud, under the price table (cache reads and writes at their rates).', labelNames: ['layer'] as const, registers: [registry] });
  const errors = new Counter({
    name: 'isartor_errors_total',
    help: 'Requests that ended in an error, by endpoint, status and code.',
    labelNames: ['endpoint', 'status', 'code'] as const,
    registers: [registry],
  });
  const inFlight = new Gauge({ name: 'isartor_requests_in_flight', help: 'Requests being answered right now.', registers: [registry] });

  return {
    registry,
    inFlight,
    observeRecord(record) {
      requests.inc({ layer: record.layer, api: record.api, status: String(record.status) });
      if (record.layer === 'l1a' || record.layer === 'l1b' || record.layer === 'l2') deflections.inc({ layer: record.layer });
      if (record.savedTokens > 0) savedTokens.inc({ layer: record.layer }, record.savedTokens);
      if (record.savedUsd > 0) savedUsd.inc({ layer: record.layer }, record.savedUsd);
      else if (record.savedUsd < 0) writePremium.inc(-record.savedUsd);
      const spent = record.spentUsd ?? 0;
      if (spent > 0) spentUsd.inc({ layer: record.layer }, spent);
      if (record.error) errors.inc({ endpoint: record.api, status: String(record.status), code: record.error });
    },
    observeError(endpoint, status, code) {
      errors.inc({ endpoint, status: String(status), code });
    },
    observeUpstreamLatency(provider, seconds) {
      upstreamLatency.observe({ provider }, seconds);
    },
  };
}
