/**
 * The team's ledger on the shared Redis: every replica appends each ledger record to one stream
 * and adds it to running totals (a hash, updated in the same MULTI), so `/isartor/stats` and
 * `isartor stats --store` show what the whole team saved without reading the stream back.
 * Each replica's own ledger file stays as it is; this is a copy, written off the request path.
 */
import type { LedgerRecord, LedgerTotals } from '../ledger-types';
import { DEFLECTING_LAYERS } from '../ledgerSummary';
import type { Logger } from '../logger';
import type { SharedRedis } from './redisConnection';

/**
 * Records kept in the stream: the team's last requests, for an operator to look at (XREVRANGE).
 * Isartor itself never reads them back (the totals count every record), so at ~390 B a record
 * 10,000 (~4 MB) is plenty; a million was ~390 MB of Redis's memory competing with the cache.
 */
const STREAM_LENGTH = 10_000;
const REFRESH_EVERY_MS = 2000;
const FIELDS: ReadonlyArray<keyof LedgerTotals> = ['requests', 'deflected', 'failed', 'inputTokens', 'outputTokens', 'savedTokens', 'savedUsd', 'spentUsd', 'estimated', 'unpriced', 'spentMissing'];

/** What the team saved: the sum over every replica's records, by layer too. */
export interface TeamTotals {
  totals: LedgerTotals;
  byLayer: Record<string, LedgerTotals>;
  /** Why the totals read as zero when that is suspicious: evicted, or nothing under this namespace. */
  warning?: string;
}

export interface TeamLedger {
  /** Appends a record (fire and forget: Redis down = this record is not in the team figures). */
  append(record: LedgerRecord): void;
  /** The team totals last read (refreshed in the background at most every 2 s), or undefined. */
  cached(): TeamTotals | undefined;
  read(): Promise<TeamTotals | undefined>;
  /**
   * The totals read now, once this replica's own appends in flight have landed, so a caller that
   * just got its answers sees them counted; the last read if Redis takes longer than `waitMs`.
   */
  fresh(waitMs: number): Promise<TeamTotals | undefined>;
  close(): Promise<void>;
}

/**
 * A hash-only counter: records appended with a `spentUsd`. A record from a version before spend was
 * recorded adds to `requests` and nothing else (zeros are not written), so it looks like a $0
 * request; `requests - spentCounted` is how many of a slice's requests have an unknown spend.
 */
const SPENT_COUNTED = 'spentCounted';

const zero = (): LedgerTotals => ({ requests: 0, deflected: 0, failed: 0, inputTokens: 0, outputTokens: 0, savedTokens: 0, savedUsd: 0, spentUsd: 0, estimated: 0, unpriced: 0, spentMissing: 0 });

/** `total:requests`, `layer:l1a:savedUsd`, … → nested totals. */
export function totalsFromHash(hash: Record<string, string>): TeamTotals {
  const team: TeamTotals = { totals: zero(), byLayer: {} };
  const spentCounted = new Map<LedgerTotals, number>();
  for (const [field, raw] of Object.entries(hash)) {
    const parts = field.split(':');
    const name = parts[parts.length - 1]!;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    let slice: LedgerTotals | undefined;
    if (parts[0] === 'total' && parts.length === 2) slice = team.totals;
    else if (parts[0] === 'layer' && parts.length === 3) slice = team.byLayer[parts[1]!] ??= zero();
    if (!slice) continue;
    if (name === SPENT_COUNTED) spentCounted.set(slice, value);
    else if (FIELDS.includes(name as keyof LedgerTotals)) slice[name as keyof LedgerTotals] = value;
  }
  // Requests counted without a spend (older replicas' records) are said to be unknown, not $0.
  for (const slice of [team.totals, ...Object.values(team.byLayer)]) {
    slice.spentMissing = Math.max(slice.spentMissing, slice.requests - (spentCounted.get(slice) ?? 0));
  }
  return team;
}

/**
 * The team ledger of the namespace on `shared`.
 *
 * @example const team = openTeamLedger(shared); team.append(record); (await team.read())?.totals.savedUsd
 */
export function openTeamLedger(shared: SharedRedis, logger?: Logger): TeamLedger {
  const streamKey = `${shared.prefix}ledger`;
  const totalsKey = `${shared.prefix}ledger:totals`;
  let last: TeamTotals | undefined;
  let readAt = 0;
  let warned = false;
  const pending = new Set<Promise<unknown>>();

  const read = async (): Promise<TeamTotals | undefined> => {
    const hash = await shared.run('HGETALL ledger', (client) => client.hGetAll(totalsKey), undefined);
    if (!hash) return undefined;
    const strings: Record<string, string> = {};
    for (const [field, value] of Object.entries(hash)) strings[String(field)] = String(value);
    const team = totalsFromHash(strings);
    // Only an empty hash costs a second command: is it new, or was it lost?
    if (Object.keys(strings).length === 0) team.warning = await whyEmpty(last);
    if (team.warning && last && last.totals.requests > 0 && !warned) {
      warned = true;
      logger?.warn(`team ledger: ${team.warning}`);
    }
    last = team;
    return last;
  };

  /** Totals that vanished while the stream (or an earlier read) shows requests were evicted or deleted. */
  async function whyEmpty(before: TeamTotals | undefined): Promise<string | undefined> {
    const length = await shared.run('XLEN ledger', (client) => client.xLen(streamKey), 0);
    const namespace = shared.prefix.slice(0, -1);
    if (length > 0 || (before?.totals.requests ?? 0) > 0) {
      return `the team totals (${totalsKey}) are gone although requests were recorded: Redis evicted them (maxmemory-policy allkeys-*) or someone deleted them; use maxmemory-policy volatile-lru or a Redis database of Isartor's own`;
    }
    return `nothing recorded under namespace "${namespace}"`;
  }

  return {
    append(record) {
      const values: Partial<LedgerTotals> = {
        requests: 1,
        deflected: DEFLECTING_LAYERS.has(record.layer) ? 1 : 0,
        failed: record.layer === 'error' ? 1 : 0,
        inputTokens: record.inputTokens,
        outputTokens: record.outputTokens,
        savedTokens: record.savedTokens,
        savedUsd: record.savedUsd,
        spentUsd: record.spentUsd ?? 0,
        estimated: record.estimated ? 1 : 0,
        unpriced: record.unpriced ? 1 : 0,
        spentMissing: record.spentUsd === undefined ? 1 : 0,
      };
      const counters: Record<string, number> = { ...values, [SPENT_COUNTED]: record.spentUsd === undefined ? 0 : 1 };
      const write = shared.run(
        'ledger append',
        (client) => {
          const multi = client.multi().xAdd(streamKey, '*', { record: JSON.stringify(record) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: STREAM_LENGTH } });
          for (const [name, value] of Object.entries(counters)) {
            if (!value) continue;
            const integral = Number.isInteger(value);
            for (const field of [`total:${name}`, `layer:${record.layer}:${name}`]) {
              if (integral) multi.hIncrBy(totalsKey, field, value);
              else multi.hIncrByFloat(totalsKey, field, value);
            }
          }
          return multi.exec();
        },
        undefined,
      );
      pending.add(write);
      void write.finally(() => pending.delete(write));
    },
    cached() {
      if (Date.now() - readAt >= REFRESH_EVERY_MS) {
        readAt = Date.now();
        void read();
      }
      return last;
    },
    read,
    fresh(waitMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<TeamTotals | undefined>((resolve) => {
        timer = setTimeout(() => resolve(last), waitMs);
      });
      const now = Promise.allSettled([...pending]).then(() => {
        readAt = Date.now();
        return read();
      });
      return Promise.race([now, late]).finally(() => clearTimeout(timer));
    },
    async close() {
      await Promise.allSettled([...pending]);
    },
  };
}
