/**
 * Prometheus metrics for one proxy instance, in its own registry so several proxies (tests, the
 * extension next to a CLI) never share counters.
 *
 * prom-client is loaded at the first scrape (or once PENDING_LIMIT updates wait for it), not at
 * start: evaluating it is ~20 ms of start-up CPU that a proxy nobody scrapes never needs. Updates
 * made before are replayed into it in order, so the scrape reads exactly what it would have.
 */
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LedgerRecord } from '../core/ledger-types';

export interface ProxyMetrics {
  /** The registry, with every update so far in it (prom-client is loaded on the first read). */
  readonly registry: Registry;
  /** Requests currently being answered; tests wait on it instead of sleeping. */
  readonly inFlight: { inc(): void; dec(): void };
  /** Counts one finished request from its ledger record. */
  observeRecord(record: LedgerRecord): void;
  /** Counts a request the proxy answered with an error of its own (bad JSON, unknown route, ...). */
  observeError(endpoint: string, status: number, code: string): void;
  observeUpstreamLatency(provider: string, seconds: number): void;
}

/** Updates kept while prom-client is not loaded; past this it is loaded, so memory stays bounded. */
export const PENDING_LIMIT = 4096;

interface Instruments {
  registry: Registry;
  requests: Counter<'layer' | 'api' | 'status'>;
  deflections: Counter<'layer'>;
  upstreamLatency: Histogram<'provider'>;
  savedTokens: Counter<'layer'>;
  savedUsd: Counter<'layer'>;
  errors: Counter<'endpoint' | 'status' | 'code'>;
  inFlight: Gauge;
}

function createInstruments(): Instruments {
  // A require, not an import: the bundle evaluates prom-client only when this runs.
  const { Counter, Gauge, Histogram, Registry } = require('prom-client') as typeof PromClient;
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
  const errors = new Counter({
    name: 'isartor_errors_total',
    help: 'Requests that ended in an error, by endpoint, status and code.',
    labelNames: ['endpoint', 'status', 'code'] as const,
    registers: [registry],
  });
  const inFlight = new Gauge({ name: 'isartor_requests_in_flight', help: 'Requests being answered right now.', registers: [registry] });
  return { registry, requests, deflections, upstreamLatency, savedTokens, savedUsd, errors, inFlight };
}

/** Creates the metrics of one proxy. */
export function createProxyMetrics(): ProxyMetrics {
  let loaded: Instruments | undefined;
  let pending: Array<(m: Instruments) => void> = [];
  const load = (): Instruments => {
    if (!loaded) {
      const instruments = createInstruments();
      for (const update of pending) update(instruments);
      pending = [];
      loaded = instruments;
    }
    return loaded;
  };
  /** Applies `update` now when loaded, else keeps it for the load. */
  const apply = (update: (m: Instruments) => void): void => {
    if (loaded) return update(loaded);
    pending.push(update);
    if (pending.length >= PENDING_LIMIT) load();
  };

  return {
    get registry() {
      return load().registry;
    },
    inFlight: {
      inc: () => apply((m) => m.inFlight.inc()),
      dec: () => apply((m) => m.inFlight.dec()),
    },
    observeRecord(record) {
      // Only the fields counted: a kept update must not hold on to the whole record.
      const { layer, api, savedTokens, savedUsd, error } = record;
      const status = String(record.status);
      apply((m) => {
        m.requests.inc({ layer, api, status });
        if (layer === 'l1a' || layer === 'l1b' || layer === 'l2') m.deflections.inc({ layer });
        if (savedTokens > 0) m.savedTokens.inc({ layer }, savedTokens);
        if (savedUsd > 0) m.savedUsd.inc({ layer }, savedUsd);
        if (error) m.errors.inc({ endpoint: api, status, code: error });
      });
    },
    observeError(endpoint, status, code) {
      apply((m) => m.errors.inc({ endpoint, status: String(status), code }));
    },
    observeUpstreamLatency(provider, seconds) {
      apply((m) => m.upstreamLatency.observe({ provider }, seconds));
    },
  };
}
