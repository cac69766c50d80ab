/**
 * The harness itself works: code-server starts, a packaged .vsix installs through its CLI, the
 * workbench loads in Chromium, a palette command of that extension runs, and a screenshot is saved.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitForFile } from './files';
import { startSession, type E2eSession } from './harness';
import { LM_CLIENT_DIR } from './paths';
import { packExtensionFolder } from './vsix';

let session: E2eSession | undefined;
let packDir = '';
let resultFile = '';

before(async () => {
  packDir = mkdtempSync(join(tmpdir(), 'isartor-e2e-pack-'));
  const clientVsix = await packExtensionFolder(LM_CLIENT_DIR, join(packDir, 'isartor-lm-client.vsix'));
  resultFile = join(packDir, 'lm-result.json');
  session = await startSession({
    name: 'harness',
    vsixFiles: [clientVsix],
    sampleHome: false,
    // No provider is installed here: the client must report an empty model list, quickly.
    userSettings: { 'isartorLmClient.resultFile': resultFile, 'isartorLmClient.waitForModelsSeconds': 1 },
  });
});

after(async () => {
  await session?.close();
  rmSync(packDir, { recursive: true, force: true });
});

void test('the workbench loads with the workspace folder open, and a screenshot is saved', async () => {
  assert.ok(session);
  await session.page.locator('.explorer-folders-view, .monaco-workbench .part.sidebar').first().waitFor({ state: 'attached' });
  const path = await session.screenshot('harness-workbench');
  assert.ok(statSync(path).size > 10_000, 'a blank screenshot would be tiny');
});

void test('an installed extension command runs from the palette and reaches the vscode.lm API', async () => {
  assert.ok(session);
  await session.runCommand('Isartor E2E: Query Isartor Models');
  await waitForFile(resultFile);
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as { vendor: string; models: unknown[]; error: string | null };
  assert.equal(result.vendor, 'isartor');
  assert.equal(result.error, null);
  assert.deepEqual(result.models, [], 'no Isartor provider is installed in this session');
});
