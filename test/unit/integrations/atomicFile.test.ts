// Atomic writes keep the file's mode, write through symlinks instead of replacing them, and
// leave no temp file behind.
import assert from 'node:assert/strict';
import { chmod, lstat, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  assertUserWritable,
  readFileIfExists,
  removeStaleTempFiles,
  UnwritableFileError,
  writeFileAtomic,
} from '../../../src/extension/integrations/atomicFile';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'isartor-atomic-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('replaces the content and keeps the permission bits', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'old');
    await chmod(file, 0o640);
    await writeFileAtomic(file, 'new');
    assert.equal(await readFile(file, 'utf8'), 'new');
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    assert.deepEqual(await readdir(dir), ['config.yaml']);
  });

  it('creates a new file with the requested mode', async () => {
    const file = join(dir, 'new.json');
    await writeFileAtomic(file, '{}', { modeForNewFile: 0o600 });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  it('writes through a symlink and keeps the link', async () => {
    const real = join(dir, 'dotfiles-config.yaml');
    const link = join(dir, 'config.yaml');
    await writeFile(real, 'old');
    await symlink(real, link);
    await writeFileAtomic(link, 'new');
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readlink(link), real);
    assert.equal(await readFile(real, 'utf8'), 'new');
  });

  it('refuses a symlink to a missing file and keeps the link', async () => {
    const link = join(dir, 'settings.json');
    await symlink(join(dir, 'dotfiles', 'settings.json'), link);
    await assert.rejects(writeFileAtomic(link, '{}'), UnwritableFileError);
    await assert.rejects(assertUserWritable(link), /symbolic link to a missing file/);
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.deepEqual(await readdir(dir), ['settings.json']);
  });

  it('tells a read-only file apart from a writable or missing one (also as root)', async () => {
    const file = join(dir, 'settings.json');
    await assertUserWritable(file);
    await writeFile(file, '{}');
    await assertUserWritable(file);
    await chmod(file, 0o444);
    await assert.rejects(assertUserWritable(file), /read-only/);
    const link = join(dir, 'linked.json');
    await symlink(file, link);
    await assert.rejects(assertUserWritable(link), UnwritableFileError, 'the target decides, not the link');
  });

  it('reads a missing file as undefined and removes stale temp files', async () => {
    const file = join(dir, 'settings.json');
    assert.equal(await readFileIfExists(file), undefined);
    await writeFile(file, '{}');
    await writeFile(join(dir, '.settings.json.isartor-tmp-abcdef'), 'partial');
    await writeFile(join(dir, '.other.isartor-tmp-abcdef'), 'not ours to judge');
    await removeStaleTempFiles(file);
    assert.deepEqual((await readdir(dir)).sort(), ['.other.isartor-tmp-abcdef', 'settings.json']);
  });
});
