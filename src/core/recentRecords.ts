/**
 * The newest ledger records, for the stats and the panel. `Array.unshift` on the summary's
 * newest-first list moved all 100 entries (with a GC write barrier for each) on every record, twice
 * per request: ~10 µs of the proxy's thread per miss (issue 15). Here records are appended
 * oldest-first with as much slack again, so an add moves nothing but every RECENT_RECORDS-th,
 * and the newest-first list is built only when someone reads it.
 */
import type { LedgerRecord } from './ledger-types';
import { RECENT_RECORDS } from './ledgerSummary';

export class RecentRecords {
  /** Oldest first; between RECENT_RECORDS and twice that many once full. */
  private records: LedgerRecord[];

  /** Starts from a summary's `recent` list (newest first). */
  constructor(newestFirst: readonly LedgerRecord[] = []) {
    this.records = newestFirst.slice(0, RECENT_RECORDS).reverse();
  }

  add(record: LedgerRecord): void {
    this.records.push(record);
    if (this.records.length >= 2 * RECENT_RECORDS) this.records = this.records.slice(-RECENT_RECORDS);
  }

  /** The newest RECENT_RECORDS, newest first: the shape of LedgerSummary.recent. */
  newestFirst(): LedgerRecord[] {
    return this.records.slice(-RECENT_RECORDS).reverse();
  }
}
