/**
 * The paced feed in front of a stream's collector (core/stream/paced-feed.ts): an ordinary stream's
 * chunks are consumed as they come; a burst is consumed in order, at most one budget per turn of the
 * event loop across all feeds; a collector that throws stops its feed instead of the process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pacedFeed } from '../../src/core/stream/paced-feed';
import { turnCounter } from '../fixtures/turnCounter';

const KIB = 1024;
/** The feed's budget per turn (paced-feed.ts). */
const BUDGET = 256 * KIB;


const chunkOf = (index: number, size: number): Uint8Array => new Uint8Array(size).fill(index % 251);

test('the chunks of an ordinary stream are consumed as they are pushed', async () => {
  await new Promise((resolve) => setTimeout(resolve, 25)); // a fresh budget
  const seen: number[] = [];
  const feed = pacedFeed((chunk) => seen.push(chunk[0]!));
  for (let i = 0; i < 20; i++) {
    feed.push(chunkOf(i, 200));
    assert.equal(seen.length, i + 1);
    await nextTurn();
  }
  await feed.drained();
  assert.equal(feed.failed(), false);
});

test('a burst is consumed in order, one budget per turn, across all feeds', async () => {
  await new Promise((resolve) => setTimeout(resolve, 25));
  const turns = turnCounter();
  const perTurn = new Map<number, number>();
  const order: Array<Array<number>> = [[], []];
  const feeds = [0, 1].map((which) =>
    pacedFeed((chunk) => {
      order[which]!.push(chunk[0]!);
      perTurn.set(turns.now(), (perTurn.get(turns.now()) ?? 0) + chunk.length);
    }),
  );
  // 4 MiB in 4 KiB chunks, alternating between two feeds, all in one turn.
  const chunks = 1024;
  for (let i = 0; i < chunks; i++) feeds[i % 2]!.push(chunkOf(i >> 1, 4 * KIB));
  assert.ok((perTurn.get(0) ?? 0) <= BUDGET, `consumed ${perTurn.get(0)} bytes in the pushing turn`);
  await Promise.all(feeds.map((feed) => feed.drained()));
  turns.stop();
  for (const [turn, bytes] of perTurn) assert.ok(bytes <= BUDGET, `turn ${turn} consumed ${bytes} bytes`);
  assert.ok(perTurn.size >= (chunks * 4 * KIB) / BUDGET, `spread over ${perTurn.size} turns`);
  for (const seen of order) assert.deepEqual(seen, Array.from({ length: chunks / 2 }, (_, i) => i % 251), 'every chunk, in order');
});

test('one chunk larger than the budget is still consumed, alone', async () => {
  await new Promise((resolve) => setTimeout(resolve, 25));
  const sizes: number[] = [];
  const feed = pacedFeed((chunk) => sizes.push(chunk.length));
  feed.push(new Uint8Array(2 * BUDGET));
  feed.push(new Uint8Array(10));
  assert.deepEqual(sizes, [2 * BUDGET]);
  await feed.drained();
  assert.deepEqual(sizes, [2 * BUDGET, 10]);
});

test('a collector that throws stops its feed; the process and the other feeds go on', async () => {
  await new Promise((resolve) => setTimeout(resolve, 25));
  let calls = 0;
  const failing = pacedFeed(() => {
    calls++;
    throw new Error('collector bug');
  });
  const healthy: number[] = [];
  const other = pacedFeed((chunk) => healthy.push(chunk.length));
  for (let i = 0; i < 200; i++) {
    failing.push(new Uint8Array(4 * KIB));
    other.push(new Uint8Array(4 * KIB));
  }
  await Promise.all([failing.drained(), other.drained()]);
  assert.equal(failing.failed(), true);
  assert.equal(calls, 1, 'nothing is consumed after the throw');
  assert.equal(healthy.length, 200);
  assert.equal(other.failed(), false);
});

test('a stopped feed drops its queue and consumes nothing more', async () => {
  await new Promise((resolve) => setTimeout(resolve, 25));
  let consumed = 0;
  const feed = pacedFeed((chunk) => (consumed += chunk.length));
  for (let i = 0; i < 512; i++) feed.push(new Uint8Array(4 * KIB));
  const before = consumed;
  assert.ok(before < 512 * 4 * KIB, 'part of the burst is queued');
  feed.stop();
  await feed.drained();
  feed.push(new Uint8Array(10));
  await new Promise((resolve) => setTimeout(resolve, 25));
  assert.equal(consumed, before);
});
