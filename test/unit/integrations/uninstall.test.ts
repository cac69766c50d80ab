// The vscode:uninstall hook, run as VS Code runs it: a separate plain Node process with only the
// home folder to go on. It must find the journal through ~/.isartor and restore every file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { claudeSettingsPath, createClaudeIntegration } from '../../../src/extension/integrations/claude';
import { continueIntegration } from '../../../src/extension/integrations/continue';
import { loadJournal, recordSetting } from '../../../src/extension/integrations/journal';
import { journalPointerPath } from '../../../src/extension/integrations/journalPointer';
import { makeHome, placeFixture, type TestHome } from './helpers';

const run = promisify(execFile);
const HOOK = join(__dirname, '..', '..', '..', 'src', 'extension', 'uninstall.ts');

function runHook(homeDir: string): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', HOOK], { env: { ...process.env, HOME: homeDir }, cwd: join(__dirname, '..', '..', '..') });
}

describe('uninstall hook', () => {
  let home: TestHome;
  beforeEach(async () => {
    home = await makeHome();
  });
  afterEach(() => home.cleanup());

  it('restores every journaled file from a child process and leaves no trace', async () => {
    const continueFile = join(home.homeDir, '.continue', 'config.json');
    const continueOriginal = await placeFixture('continue-config.json', continueFile);
    await continueIntegration.connect(home.ctx());
    await createClaudeIntegration({ env: {} }).connect(home.ctx());
    assert.notDeepEqual(await readFile(continueFile), continueOriginal);
    await stat(claudeSettingsPath(home.homeDir));

    const { stderr } = await runHook(home.homeDir);
    assert.match(stderr, /restored 2 file/);
    assert.deepEqual(await readFile(continueFile), continueOriginal);
    await assert.rejects(stat(join(home.homeDir, '.claude')), { code: 'ENOENT' }, 'the settings file and folder Isartor created are gone');
    assert.deepEqual(await loadJournal(home.journalDir), []);
    await assert.rejects(stat(join(home.homeDir, '.isartor')), { code: 'ENOENT' });
  });

  it('restores files a user edited while connected by keys, keeping the edit', async () => {
    const file = join(home.homeDir, '.continue', 'config.yaml');
    const original = await placeFixture('continue-config.yaml', file);
    await continueIntegration.connect(home.ctx());
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, (await readFile(file, 'utf8')).replace('version: 1.0.0', 'version: 1.0.1'));
    await runHook(home.homeDir);
    assert.equal(await readFile(file, 'utf8'), original.toString('utf8').replace('version: 1.0.0', 'version: 1.0.1'));
  });

  it('reports settings it cannot reach without VS Code and keeps them journaled', async () => {
    await recordSetting(home.journalDir, home.homeDir, { tool: 'roo', keyPath: ['activeProfile'], oldValue: 'default', newValue: 'Isartor' });
    const { stderr } = await runHook(home.homeDir);
    assert.match(stderr, /roo: activeProfile .*by hand/);
    assert.equal((await loadJournal(home.journalDir)).length, 1);
    await stat(journalPointerPath(home.homeDir));
  });

  it('does nothing (and succeeds) when Isartor never changed anything', async () => {
    const { stderr } = await runHook(home.homeDir);
    assert.match(stderr, /restored 0 file/);
  });
});
