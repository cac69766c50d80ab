// Crash reconciliation and the journal's own guarantees: a write the crash interrupted is
// forgotten, a write that happened survives a restart and is restored later, concurrent journal
// updates never lose each other, and a file changed under Isartor's feet is not overwritten.
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { claudeSettingsPath, createClaudeIntegration } from '../../../src/extension/integrations/claude';
import { continueIntegration } from '../../../src/extension/integrations/continue';
import {
  ConcurrentEditError,
  journaledWrite,
  loadJournal,
  recordSetting,
  updateJournal,
} from '../../../src/extension/integrations/journal';
import { journalPointerPath, listJournalDirs } from '../../../src/extension/integrations/journalPointer';
import { reconcileJournal, restoreFiles } from '../../../src/extension/integrations/restore';
import { makeHome, placeFixture, type TestHome } from './helpers';

const claude = createClaudeIntegration({ env: {} });

describe('crash reconciliation', () => {
  let home: TestHome;
  let file: string;
  let original: Buffer;

  beforeEach(async () => {
    home = await makeHome();
    file = join(home.homeDir, '.continue', 'config.yaml');
    original = await placeFixture('continue-config.yaml', file);
  });
  afterEach(() => home.cleanup());

  it('drops entries whose write never happened (journal saved, file untouched)', async () => {
    await continueIntegration.connect(home.ctx());
    // The on-disk state of a crash between saving the journal and renaming the file into place:
    // the journal has the entries, the file still has its old bytes, a temp file may be left.
    await writeFile(file, original);
    const strayTemp = join(home.homeDir, '.continue', '.config.yaml.isartor-tmp-0123456789ab');
    await writeFile(strayTemp, 'half');
    assert.equal((await loadJournal(home.journalDir)).length, 3);

    const { dropped } = await reconcileJournal(home.ctx());
    assert.equal(dropped, 3);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    assert.deepEqual(await readdir(join(home.journalDir, 'originals')), [], 'the backup of an unwritten change goes too');
    assert.deepEqual(await readdir(join(home.homeDir, '.continue')), ['config.yaml']);
    assert.deepEqual(await readFile(file), original);
    assert.deepEqual(await listJournalDirs(home.homeDir), []);
    assert.equal((await continueIntegration.detect(home.ctx())).state, 'available');
  });

  it('keeps entries whose write happened; after a restart disconnect restores the bytes', async () => {
    await continueIntegration.connect(home.ctx(8787));
    // Restart: a new context (new proxy port), reconcile first, as activation does.
    const { dropped } = await reconcileJournal(home.ctx(8790));
    assert.equal(dropped, 0);
    assert.equal((await continueIntegration.detect(home.ctx(8790))).state, 'connected');
    await continueIntegration.disconnect(home.ctx(8790));
    assert.deepEqual(await readFile(file), original);
  });

  it('only the interrupted write of a re-connect is dropped; the earlier one still restores', async () => {
    await continueIntegration.connect(home.ctx(8787));
    const firstWrite = await readFile(file);
    await continueIntegration.connect(home.ctx(8800));
    await writeFile(file, firstWrite); // crash before the second write landed
    const { dropped } = await reconcileJournal(home.ctx(8800));
    assert.equal(dropped, 3);
    assert.equal((await loadJournal(home.journalDir)).length, 3);
    await continueIntegration.disconnect(home.ctx(8800));
    assert.deepEqual(await readFile(file), original);
  });

  it('a file Isartor was about to create: entries dropped and the empty folder removed', async () => {
    await claude.connect(home.ctx());
    const settings = claudeSettingsPath(home.homeDir);
    const { rm } = await import('node:fs/promises');
    await rm(settings); // crash before the new file was renamed into place (the folder was made)
    const { dropped } = await reconcileJournal(home.ctx());
    assert.equal(dropped, 1);
    await assert.rejects(stat(join(home.homeDir, '.claude')), { code: 'ENOENT' });
  });

  it('keeps setting entries (another extension\'s state) untouched', async () => {
    await recordSetting(home.journalDir, home.homeDir, { tool: 'roo', keyPath: ['activeProfile'], oldValue: 'default', newValue: 'Isartor' });
    const { dropped } = await reconcileJournal(home.ctx());
    assert.equal(dropped, 0);
    assert.equal((await loadJournal(home.journalDir)).length, 1);
    assert.deepEqual(await listJournalDirs(home.homeDir), [home.journalDir]);
  });
});

describe('journal writes', () => {
  let home: TestHome;
  beforeEach(async () => {
    home = await makeHome();
  });
  afterEach(() => home.cleanup());

  /** A test tool's journaled write that adds "b": 2 to `file`. */
  const writeB = (file: string, before: Buffer | undefined, after: string, createDirs?: string[]): Promise<void> =>
    journaledWrite({ journalDir: home.journalDir, homeDir: home.homeDir, tool: 'test', file, format: 'jsonc', before, after, edits: [{ keyPath: ['b'], newValue: 2 }], createDirs });

  it('refuses to write when the file changed after it was read, and journals nothing', async () => {
    const file = join(home.homeDir, 'a.json');
    await writeFile(file, '{ "a": 1 }');
    const before = await readFile(file);
    await writeFile(file, '{ "a": 2 }'); // the user saved in between
    await assert.rejects(writeB(file, before, '{ "a": 1, "b": 2 }'), ConcurrentEditError);
    assert.equal(await readFile(file, 'utf8'), '{ "a": 2 }');
    assert.deepEqual(await loadJournal(home.journalDir), []);
  });

  it('a write that fails takes its entries and its backup back out', async () => {
    const file = join(home.homeDir, 'a.json');
    const original = '{ "a": 1 }';
    await writeFile(file, original);
    // A folder that cannot be made (a file stands where its parent should be) fails the write
    // after the journal was saved, also for root.
    await writeFile(join(home.root, 'blocker'), '');
    const write = (createDirs: string[] | undefined): Promise<void> => writeB(file, Buffer.from(original), '{ "a": 1, "b": 2 }', createDirs);
    await assert.rejects(write([join(home.root, 'blocker', 'sub')]), /ENOTDIR/);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    assert.deepEqual(await readdir(join(home.journalDir, 'originals')), [], 'the backup of the failed write is gone');
    assert.equal(await readFile(file, 'utf8'), original);
    // The next write starts the chain again, so a restore gives back the exact original bytes.
    await write(undefined);
    assert.equal(await readFile(file, 'utf8'), '{ "a": 1, "b": 2 }');
    assert.deepEqual(await restoreFiles(home.ctx(), 'test'), [{ file, outcome: 'original-bytes' }]);
    assert.equal(await readFile(file, 'utf8'), original);
  });

  it('a new file whose write fails leaves neither entries nor the folders it made', async () => {
    const made = join(home.homeDir, '.tool');
    const file = join(made, 'missing', 'settings.json');
    await assert.rejects(writeB(file, undefined, '{ "b": 2 }\n', [made]), /ENOENT/);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    assert.deepEqual(await readdir(home.homeDir), [], 'the folder made for the write is removed again');
  });

  it('a read-only settings file or a link to a missing one is refused before anything is journaled', async () => {
    const file = claudeSettingsPath(home.homeDir);
    await mkdir(join(home.homeDir, '.claude'));
    await writeFile(file, '{}\n');
    await chmod(file, 0o444);
    await assert.rejects(claude.connect(home.ctx()), /read-only; Isartor leaves it alone/);
    assert.equal(await readFile(file, 'utf8'), '{}\n');
    assert.deepEqual(await loadJournal(home.journalDir), []);

    await unlink(file);
    await symlink(join(home.root, 'dotfiles', 'settings.json'), file);
    await assert.rejects(claude.connect(home.ctx()), /symbolic link to a missing file/);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    assert.deepEqual(await readdir(join(home.homeDir, '.claude')), ['settings.json']);
  });

  it('concurrent updates never lose each other', async () => {
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        updateJournal(home.journalDir, async (entries) => ({
          entries: [...entries, { kind: 'setting' as const, id: String(i), tool: 't', keyPath: ['k'], newValue: i, time: '' }],
          result: undefined,
        })),
      ),
    );
    const ids = (await loadJournal(home.journalDir)).map((entry) => entry.id).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(ids, Array.from({ length: 25 }, (_, i) => String(i)));
  });

  it('the journal and backups are private to the user', async () => {
    const file = join(home.homeDir, '.continue', 'config.yaml');
    await placeFixture('continue-config.yaml', file);
    await continueIntegration.connect(home.ctx());
    assert.equal((await stat(join(home.journalDir, 'journal.json'))).mode & 0o777, 0o600);
    const [backup] = await readdir(join(home.journalDir, 'originals'));
    assert.equal((await stat(join(home.journalDir, 'originals', backup!))).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(journalPointerPath(home.homeDir), 'utf8')), { journalDirs: [home.journalDir] });
  });

  it('an unreadable journal is never overwritten', async () => {
    await mkdir(home.journalDir, { recursive: true });
    await writeFile(join(home.journalDir, 'journal.json'), '{ not json');
    const file = join(home.homeDir, '.continue', 'config.yaml');
    const original = await placeFixture('continue-config.yaml', file);
    await assert.rejects(continueIntegration.connect(home.ctx()), /not valid JSON/);
    assert.equal(await readFile(join(home.journalDir, 'journal.json'), 'utf8'), '{ not json');
    assert.deepEqual(await readFile(file), original);
  });

  it('a journal of a newer format (after a downgrade) is neither misread nor overwritten', async () => {
    await mkdir(home.journalDir, { recursive: true });
    const newer = `${JSON.stringify({ version: 2, entries: [{ kind: 'file', shape: 'unknown to this version' }] })}\n`;
    await writeFile(join(home.journalDir, 'journal.json'), newer);
    const file = join(home.homeDir, '.continue', 'config.yaml');
    const original = await placeFixture('continue-config.yaml', file);
    await assert.rejects(continueIntegration.connect(home.ctx()), /is of format 2, which this version of Isartor does not know/);
    assert.equal(await readFile(join(home.journalDir, 'journal.json'), 'utf8'), newer);
    assert.deepEqual(await readFile(file), original);
  });
});
