// A record hidden in a value must never be read as a real one. Only a store whose values hold no
// 0x01/0x02 byte (JSON text: the exact cache) resyncs past damage; any other store cuts its log there.
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { rememberBodyText, storedAnswerJson, type StoredAnswer } from '../../src/core/outcome';
import { openEmbeddedStore } from '../../src/core/store/embedded';
import { encodeRecord, LOG_MAGIC, RecordOp } from '../../src/core/store/recordLog';
import { snapshotPathOf } from '../../src/core/store/snapshotPrefetch';

test('a store of binary values cuts its log at damage: a whole record inside a value is not taken for one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'isartor-hidden-'));
  try {
    const hidden = encodeRecord(RecordOp.Set, 'victim', Date.now(), Buffer.from('an answer never stored for victim'));
    const store = await openEmbeddedStore(dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'semantic' });
    await store.set('carrier', Buffer.concat([Buffer.from('text before '), hidden, Buffer.from(' text after')]));
    await store.set('later', Buffer.from('a later entry'));
    await store.close();
    // The open must scan the log (no snapshot), and the damage takes the carrier's frame header.
    await rm(snapshotPathOf(dir, 'semantic'), { force: true });
    const log = await open(join(dir, 'semantic.log'), 'r+');
    await log.write(Buffer.alloc(8), 0, 8, LOG_MAGIC.length);
    await log.close();

    const reopened = await openEmbeddedStore(dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'semantic' });
    try {
      assert.equal(await reopened.get('victim'), undefined, 'the record hidden in a value is no entry');
      assert.equal(await reopened.get('carrier'), undefined);
    } finally {
      await reopened.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the exact cache's values are JSON text without the bytes 0x01 and 0x02, whatever the answer holds", () => {
  const text = 'control \u0001 and \u0002 characters';
  const answer = (): StoredAnswer => ({ api: 'openai.chat', body: { choices: [{ message: { role: 'assistant', content: text } }] }, usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0 }, createdAt: 0 });
  const serialised = answer();
  const spliced = answer();
  // An upstream's own JSON text, spliced in as it came (outcome.ts): JSON.parse accepted it, so it escapes them too.
  rememberBodyText(spliced, JSON.stringify(spliced.body));
  for (const stored of [serialised, spliced]) {
    const bytes = Buffer.from(storedAnswerJson(stored), 'utf8');
    assert.equal(bytes.indexOf(1), -1);
    assert.equal(bytes.indexOf(2), -1);
    assert.equal((JSON.parse(bytes.toString('utf8')) as StoredAnswer).body.choices instanceof Array, true);
  }
  assert.throws(() => JSON.parse(`{"raw":"${'\u0001'}"}`), 'a raw control character is no JSON text, so no upstream body can carry one');
});
