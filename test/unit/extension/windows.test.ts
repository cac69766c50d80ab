// What Enable, Disable, Connect Tools and closing do when several VS Code windows (one user, one
// home folder, one globalState) each run Isartor: a tool must always point at a proxy that answers
// its route, or be back as it was. Real controllers and integrations, real files, listening fakes.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createClaudeIntegration } from '../../../src/extension/integrations/claude';
import { createCodexIntegration } from '../../../src/extension/integrations/codex';
import { continueIntegration } from '../../../src/extension/integrations/continue';
import { claudeUrl, closeWindows, codexUrl, continueUrl, makeShared, makeWindow, probe, seedTools, type Shared } from '../../fixtures/controllerHarness';

const claude = createClaudeIntegration({ env: {} });
const codex = createCodexIntegration({ env: {} });
const LIVE = 'live (200)';

let shared: Shared;
afterEach(() => closeWindows(shared));

/** Asserts `url` is a route of the proxy at `proxyUrl` and that proxy answers it. */
async function assertServedBy(url: string | undefined, proxyUrl: string | undefined, what: string): Promise<void> {
  assert.ok(url && proxyUrl && url.startsWith(`${proxyUrl}/r/`), `${what} points at ${url}, not at ${proxyUrl}`);
  assert.equal(await probe(url), LIVE, `${what}: ${url}`);
}

describe('one window', () => {
  it('re-points Codex, Claude Code and Continue when the proxy restarts on another port (F1)', async () => {
    shared = await makeShared();
    await seedTools(shared.home);
    const a = makeWindow('A', shared, [continueIntegration, claude, codex]);
    await a.controller.activate();
    assert.equal(await a.controller.enable(), true);
    const before = a.host.proxy!.url;
    await a.controller.settingsChanged([], true); // port 0: the restart lands on a new free port
    const after = a.host.proxy!.url;
    assert.notEqual(after, before);
    await assertServedBy(await codexUrl(shared.home), after, 'Codex');
    await assertServedBy(await claudeUrl(shared.home), after, 'Claude Code');
    await assertServedBy((await continueUrl(shared.home))?.replace(/\/v1\/$/, ''), after, 'Continue');
  });
});
