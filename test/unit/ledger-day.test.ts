import assert from 'node:assert/strict';
import { test } from 'node:test';
import { utcDay } from '../../src/core/ledgerSummary';

/** The formatting utcDay remembers between calls, done afresh each time. */
function reference(time: number): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? 'unknown' : date.toISOString().slice(0, 10);
}

test('utcDay gives the same day as formatting each time, across day boundaries and odd values', () => {
  const day = 86_400_000;
  const midnight = Date.UTC(2026, 11, 4);
  const times = [
    midnight - 1, midnight - 0.5, midnight, midnight + 0.5, midnight + day - 1, midnight + day - 0.25, midnight + day,
    0, -0, -0.5, -1, -day, -day - 1, 0.999, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 2, 1),
    8.64e15, 8.64e15 + 1, -8.64e15, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
  ];
  // In order, reversed and interleaved, so the remembered day is both reused and replaced.
  for (const time of [...times, ...times.reverse(), ...times.flatMap((t) => [t, midnight + 1])]) {
    assert.equal(utcDay(time), reference(time), `time ${time}`);
  }
});
