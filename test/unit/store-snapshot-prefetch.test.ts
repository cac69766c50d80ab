/**
 * A snapshot read started early (src/core/store/snapshotPrefetch.ts) is handed over once, and
 * taking it stops the timer that would drop it: that timer used to keep the read's bytes (8.6 MB
 * for a 100k-entry store) resident for 30 s after the store had opened (issue 15).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { prefetchSnapshot, snapshotPathOf, takePrefetched } from '../../src/core/store/snapshotPrefetch';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isartor-prefetch-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Takes the prefetched read of `name`, checks its bytes and returns a weak reference to them. */
async function takeAndDrop(name: string, content: string): Promise<WeakRef<ArrayBufferLike>> {
  const read = takePrefetched(snapshotPathOf(dir, name));
  assert.ok(read, 'the read was not handed over');
  const bytes = await read;
  assert.equal(bytes.toString(), content);
  return new WeakRef(bytes.buffer);
}

test('the read is handed over once, and once the taker drops it nothing else holds its bytes', async () => {
  // 64 KiB: a buffer of its own (a few bytes would come from Buffer's shared pool, which lives on).
  const content = 'snapshot bytes '.repeat(4096);
  await writeFile(snapshotPathOf(dir, 'taken'), content);
  prefetchSnapshot(dir, 'taken');
  prefetchSnapshot(dir, 'taken'); // started once
  const weak = await takeAndDrop('taken', content);
  assert.equal(takePrefetched(snapshotPathOf(dir, 'taken')), undefined);

  // A WeakRef's target lives at least to the end of the current job: collect in a later one.
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  assert.equal(weak.deref(), undefined, 'the bytes are still reachable (the unclaimed-read timer holds them)');
});

test('a path never prefetched, or a failed read, gives the open nothing to trip on', async () => {
  assert.equal(takePrefetched(snapshotPathOf(dir, 'never')), undefined);
  prefetchSnapshot(dir, 'missing');
  const read = takePrefetched(snapshotPathOf(dir, 'missing'));
  await assert.rejects(read!, { code: 'ENOENT' });
});
