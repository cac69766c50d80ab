// A journal rewrite replaces the file so that a power cut leaves the old journal or the new one:
// the temporary is fsynced before the rename and the folder after it (ext4 may otherwise commit
// the rename before the data and bring back an empty or zeroed file). The calls are the real
// ones, recorded on their way through the journal's own file seam.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { VectorJournal } from '../../../src/core/semantic/journal';
import { NODE_FILES, type ReplaceFiles } from '../../../src/core/store/durableReplace';
import { tempDir } from './helpers';

/** Node's own calls, each noted (by the path it concerns, relative to `dir`) before it runs. */
function recordingFiles(dir: string, calls: string[]): ReplaceFiles {
  const name = (path: string): string => (path === dir ? '<dir>' : path.slice(dir.length + 1).replace(/\.\d+\.tmp$/, '.tmp'));
  const noted = (handle: FileHandle, path: string): FileHandle =>
    new Proxy(handle, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (property === 'sync' || property === 'datasync' || property === 'close') calls.push(`${property} ${name(path)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    async open(path, flags, mode) {
      calls.push(`open ${name(path)}`);
      return noted(await NODE_FILES.open(path, flags, mode), path);
    },
    async rename(from, to) {
      calls.push(`rename ${name(from)} -> ${name(to)}`);
      await NODE_FILES.rename(from, to);
    },
  };
}

describe('L1b journal rewrite durability', () => {
  it('fsyncs the temporary before renaming it over the journal, then fsyncs the folder, and leaves the complete journal', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal-durable');
    const dimensions = 8;
    const entries = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, partition: 'p', label: BigInt(i + 1), vector: Float32Array.from({ length: dimensions }, (_, d) => i + d / 10) }));
    try {
      const calls: string[] = [];
      const { journal } = await VectorJournal.open(dir, 'emb', dimensions, recordingFiles(dir, calls));
      await journal.rewrite(entries, ['pending-key']);
      await journal.close();
      const rename = calls.indexOf('rename vectors.journal.tmp -> vectors.journal');
      assert.ok(rename > 0, `renamed into place: ${calls.join(', ')}`);
      const before = calls.slice(0, rename);
      assert.ok(before.includes('open vectors.journal.tmp'), calls.join(', '));
      assert.ok(before.indexOf('datasync vectors.journal.tmp') < before.indexOf('close vectors.journal.tmp'), `the temporary is fsynced before it is closed and renamed: ${calls.join(', ')}`);
      assert.ok(before.includes('datasync vectors.journal.tmp'), `the temporary is fsynced before the rename: ${calls.join(', ')}`);
      assert.deepEqual(calls.slice(rename + 1, rename + 4), ['open <dir>', 'sync <dir>', 'close <dir>'], `the folder is fsynced after the rename: ${calls.join(', ')}`);

      assert.deepEqual((await readdir(dir)).filter((file) => file.endsWith('.tmp')), [], 'no temporary left behind');
      const reopened = await VectorJournal.open(dir, 'emb', dimensions);
      try {
        assert.deepEqual([...(reopened.entries ?? [])].map((entry) => entry.key), entries.map((entry) => entry.key), 'every entry in the new file');
        assert.deepEqual([...reopened.pendingKeys], ['pending-key']);
        const last = [...(reopened.entries ?? [])].at(-1);
        assert.deepEqual(Array.from(last?.vector ?? []), Array.from(entries.at(-1)?.vector ?? []));
      } finally {
        await reopened.journal.close();
      }
    } finally {
      await cleanup();
    }
  });
});
