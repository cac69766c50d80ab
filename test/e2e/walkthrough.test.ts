/**
 * Issue 13.4: walkthrough steps done from the command palette get ticked. The "Get started with
 * Isartor" walkthrough completes its steps on the context keys the extension sets
 * (isartor.hasProviderKey, isartor.enabled, isartor.toolsConnected) and on commands (the savings
 * step on isartor.showSavings); this opens it, does each step from the palette as a user would,
 * and reads the ticks in the walkthrough's DOM. Screenshot: test/e2e/artifacts/walkthrough-ticked.png.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { freePort } from './freePort';
import { startSession, type E2eSession } from './harness';
import { ensureIsartorVsix } from './vsix';

const STATUS_ID = 'isartor.status';
const PROVIDER = 'fake-openai';
const WALKTHROUGH = 'Get started with Isartor';
const STEP_TIMEOUT_MS = 240_000;

let session: E2eSession;
let fake: FakeUpstream;

/** The walkthrough's step button; a finished step's check icon gets the `complete` class. */
function stepButton(stepId: string) {
  return session.page.locator(`.getting-started-step[data-step-id$="#${stepId}"]`).first();
}

async function isTicked(stepId: string): Promise<boolean> {
  return (await stepButton(stepId).locator('.codicon.complete, .codicon-pass-filled').count()) > 0;
}

async function waitForTick(stepId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isTicked(stepId))) {
    if (Date.now() > deadline) throw new Error(`the walkthrough step "${stepId}" was not ticked`);
    await session.page.waitForTimeout(250);
  }
}

async function openWalkthrough(): Promise<void> {
  await session.runCommand('Welcome: Open Walkthrough...');
  await session.pickQuickPickItem(WALKTHROUGH);
  await stepButton('setKey').waitFor({ state: 'attached', timeout: 60_000 });
}

/**
 * The walkthrough takes keyboard focus as it renders and whenever a tick moves it to the next
 * step, which closes a palette or input box open at that moment; so it is closed while the steps
 * are done, and opened again to read the ticks (it shows the state of the context keys on open).
 */
async function closeWalkthrough(): Promise<void> {
  await session.runCommand('View: Close All Editors');
  await stepButton('setKey').waitFor({ state: 'detached', timeout: 60_000 });
}

before(
  async () => {
    fake = await startFakeUpstream();
    session = await startSession({
      name: 'walkthrough',
      vsixFiles: [ensureIsartorVsix()],
      userSettings: {
        'isartor.port': await freePort(),
        'isartor.providers': [{ name: PROVIDER, kind: 'openai', baseUrl: fake.openaiBase }],
      },
    });
    await session.waitForStatusBar(STATUS_ID, { icon: 'shield' });
  },
  { timeout: 600_000 },
);

after(async () => {
  await session?.close();
  await fake?.close();
});

void test('steps done from the command palette are ticked in the walkthrough', { timeout: STEP_TIMEOUT_MS }, async () => {
  try {
    await openWalkthrough();
    for (const stepId of ['setKey', 'enable', 'connect', 'savings']) assert.equal(await isTicked(stepId), false, `${stepId} is not done yet`);
    await closeWalkthrough();

    await session.runCommand('Isartor: Set Provider API Key');
    await session.pickQuickPickItem(PROVIDER);
    await session.submitInputBox(`API key for ${PROVIDER}`, 'sk-e2e-provider-0123456789abcdef');
    await session.waitForNotification(`key for ${PROVIDER} stored`, { failOn: /Isartor/ });
    await openWalkthrough();
    await waitForTick('setKey');
    assert.equal(await isTicked('enable'), false, 'a stored key does not tick Enable');
    await closeWalkthrough();

    // Enable connects the tools the sample home has (Continue, Claude Code): two steps at once.
    await session.runCommand('Isartor: Enable');
    await session.waitForNotification(/Isartor is on/, { failOn: /Isartor/ });
    await openWalkthrough();
    await waitForTick('enable');
    await waitForTick('connect');
    assert.equal(await isTicked('savings'), false, 'the savings step waits for the panel');
    await closeWalkthrough();

    await session.runCommand('Isartor: Show Savings');
    await session.webviewFrame('Isartor Savings');
    await openWalkthrough();
    await waitForTick('savings');
    await session.screenshot('walkthrough-ticked');
  } catch (error) {
    await session.screenshot('walkthrough-failed').catch(() => undefined);
    throw error;
  }
});
