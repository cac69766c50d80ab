/**
 * The shape of one savings ledger record and of the aggregates built from them. Shared by the
 * ledger, the proxy's `/isartor/stats`, the CLI's `isartor stats` and the extension's panel.
 */
import type { ApiStyle } from './request';

/** Where a request ended: a layer that answered, or an error before any answer. */
export type LedgerLayer = 'l1a' | 'l1b' | 'l2' | 'l3' | 'error';

export interface LedgerRecord {
  /** Epoch ms. */
  time: number;
  /** Client tool from the User-Agent ("continue", "claude-code", "openai-sdk", "unknown", ...). */
  tool: string;
  routeId: string;
  api: ApiStyle;
  model: string;
  layer: LedgerLayer;
  /** HTTP status returned to the client. */
  status: number;
  /** Tokens the request consumed (upstream usage for L3; the stored answer's usage for hits). */
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  latencyMs: number;
  /** Cloud tokens (input + output) not billed thanks to Isartor. */
  savedTokens: number;
  /**
   * USD not billed thanks to Isartor, under the price table. Negative only on an l3 record whose
   * optimiser cache hints cost more in cache writes than they saved in cache reads (a first turn).
   */
  savedUsd: number;
  /**
   * USD the request was billed in the cloud, priced when recorded with the same cache-aware rates as
   * `savedUsd`: the provider's usage (cached reads and cache writes at their rates) for anything
   * that reached the cloud, 0 for l1a/l1b/l2 answers and for failures without reported usage.
   * Absent on records written before Isartor recorded it (see LedgerTotals.spentMissing).
   */
  spentUsd?: number;
  /** True when the model has no price in the table, so `savedUsd` and `spentUsd` are $0 whatever the tokens. */
  unpriced?: boolean;
  /** True when the saving is estimated (L2 answers, models missing from the price table). */
  estimated: boolean;
  /** L2.5: input tokens removed and breakpoints added (on L3 requests). */
  optimisedTokens?: number;
  cacheHints?: number;
  /** L1b: a near neighbour rejected by a safety gate, with the gate's reason ("l1b_rejected"). */
  semanticRejected?: string;
  /** Short error code when layer is "error" or the upstream failed. */
  error?: string;
}

/** Totals for one slice (a layer, a tool, a model, a day). */
export interface LedgerTotals {
  requests: number;
  deflected: number;
  /** Requests that got no answer (layer "error": status >= 400, a client that went away). */
  failed: number;
  inputTokens: number;
  outputTokens: number;
  savedTokens: number;
  savedUsd: number;
  /** Sum of the records' `spentUsd`: what the cloud billed. */
  spentUsd: number;
  /** Requests whose figures are estimates (record.estimated). */
  estimated: number;
  /** Requests on a model without a price: their tokens are counted, their money is $0. */
  unpriced: number;
  /** Requests recorded before `spentUsd` existed: their cloud cost is not in `spentUsd`. */
  spentMissing: number;
}

export interface LedgerSummary {
  totals: LedgerTotals;
  byLayer: Record<string, LedgerTotals>;
  byTool: Record<string, LedgerTotals>;
  byModel: Record<string, LedgerTotals>;
  /** Keyed by UTC day, "2026-11-24". */
  byDay: Record<string, LedgerTotals>;
  /**
   * Optional: per UTC day, totals per layer (`byDayLayer["2026-11-24"]["l1a"]`). The savings panel
   * charts deflections per layer over time from it; without it the panel falls back to `recent`.
   */
  byDayLayer?: Record<string, Record<string, LedgerTotals>>;
  /** l1b_rejected counts by gate reason. */
  semanticRejected: Record<string, number>;
  /** The newest records, newest first (at most 100). */
  recent: LedgerRecord[];
}
