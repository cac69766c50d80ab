import assert from 'node:assert/strict';
import { test } from 'node:test';
import { limitHeapGrowth, userSetHeapGrowth } from '../../src/cli/heapGrowth';

test("a growth factor the user gave node is found, in either spelling", () => {
  assert.equal(userSetHeapGrowth(['--heap-growing-percent=50']), true);
  assert.equal(userSetHeapGrowth(['--max-old-space-size=512', '--heap_growing_percent=10']), true);
  assert.equal(userSetHeapGrowth(['--heap-growing-percent']), true);
});

test('other flags are not a growth factor', () => {
  assert.equal(userSetHeapGrowth([]), false);
  assert.equal(userSetHeapGrowth(['--max-old-space-size=512', '--expose-gc', '--max-semi-space-size=8']), false);
  assert.equal(userSetHeapGrowth(['--heap-growing-percentage=5']), false);
});

test("serve leaves the user's own growth factor alone", () => {
  assert.equal(limitHeapGrowth(['--heap-growing-percent=50']), false);
});
