// Percentiles, summaries and tables the benchmark reports are built from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable, percentile, round, summarize } from '../../../src/bench/stats';

describe('percentile (nearest rank)', () => {
  it('picks the value at rank ceil(p/100 × n), sorted or not', () => {
    const values = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    assert.equal(percentile(values, 50), 5);
    assert.equal(percentile(values, 90), 9);
    assert.equal(percentile(values, 99), 10);
    assert.equal(percentile(values, 100), 10);
    assert.equal(percentile(values, 0), 1);
    assert.deepEqual(values, [9, 1, 8, 2, 7, 3, 6, 4, 5, 10], 'the input is not reordered');
  });

  it('p99 of 1000 values is the 990th smallest, so the 10 slowest do not set it alone', () => {
    const values = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    assert.equal(percentile(values, 99), 990);
  });

  it('is 0 for no values and refuses a percentile outside 0..100', () => {
    assert.equal(percentile([], 50), 0);
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], Number.NaN), RangeError);
  });
});

describe('summarize and round', () => {
  it('counts, and rounds p50 and p99 to microseconds', () => {
    const summary = summarize([0.1234567, 0.2, 5.55555]);
    assert.deepEqual(summary, { count: 3, p50Ms: 0.2, p99Ms: 5.556 });
  });

  it('keeps the order p50 ≤ p99', () => {
    const values = Array.from({ length: 257 }, (_, i) => Math.sin(i) * 10 + 11);
    const summary = summarize(values);
    assert.ok(summary.p50Ms <= summary.p99Ms);
  });

  it('rounds to the digits asked for', () => {
    assert.equal(round(1.23456, 1), 1.2);
    assert.equal(round(-0.0004), -0);
  });
});

describe('formatTable', () => {
  it('aligns columns, right-aligns numeric columns (header too), and underlines the header', () => {
    const text = formatTable(['name', 'ms'], [['proxy', 1.5], ['direct', 12.25]]);
    assert.equal(text, ['name       ms', '------  -----', 'proxy     1.5', 'direct  12.25'].join('\n'));
  });

  it('treats a column with any text as text', () => {
    const lines = formatTable(['a', 'b'], [['x', 1], ['y', 'n/a']]).split('\n');
    assert.equal(lines[2], 'x  1');
  });
});
