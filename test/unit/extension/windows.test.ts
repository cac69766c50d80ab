// What Enable, Disable, Connect Tools and closing do when several VS Code windows (one user, one
// home folder, one globalState) each run Isartor: a tool must always point at a proxy that answers
// its route, or be back as it was. Real controllers and integrations, real files, listening fakes.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createRooIntegration, type RooApi } from '../../../src/extension/integrations/roo';
import { ConnectedTools, toolStateFile } from '../../../src/extension/lifecycle/connectedTools';
import { LAST_URL_KEY } from '../../../src/extension/lifecycle/controller';
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

  it('the tool check re-points a tool left on another Isartor port while this window owns the tools (F3, older state)', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true, codex: true, continue: true });
    const a = makeWindow('A', shared, [continueIntegration, claude, codex]);
    await a.controller.activate();
    await a.controller.enable();
    // What an older version could leave: the journal knows the URLs, but they name a port that is gone.
    const gone = a.controller.context();
    const elsewhere = { ...gone, proxyUrl: 'http://127.0.0.1:9' };
    for (const tool of [continueIntegration, claude, codex]) await tool.connect(elsewhere);
    assert.ok((await claudeUrl(shared.home))?.startsWith('http://127.0.0.1:9/'));
    await a.controller.adoptSuspendedTools();
    await assertServedBy(await claudeUrl(shared.home), a.host.proxy!.url, 'Claude Code');
    await assertServedBy(await codexUrl(shared.home), a.host.proxy!.url, 'Codex');
    await assertServedBy((await continueUrl(shared.home))?.replace(/\/v1\/$/, ''), a.host.proxy!.url, 'Continue');
  });

  it('Disable clicked while Enable is still connecting leaves no tool pointing at Isartor (F4)', async () => {
    shared = await makeShared();
    await seedTools(shared.home);
    const a = makeWindow('A', shared, [continueIntegration, claude, codex]);
    await a.controller.activate();
    const enabling = a.controller.enable();
    while (!a.host.proxy) await new Promise((resolve) => setTimeout(resolve, 1));
    const disabling = a.controller.disable();
    await Promise.all([enabling, disabling]);
    assert.equal(a.controller.enabled, false);
    assert.equal(a.host.proxy, undefined);
    assert.equal(await claudeUrl(shared.home), undefined);
    assert.equal(await codexUrl(shared.home), undefined);
    assert.equal(await continueUrl(shared.home), undefined);
  });

  it('Enable twice at once (a double click) connects once, without warnings (F5)', async () => {
    shared = await makeShared();
    await seedTools(shared.home);
    const a = makeWindow('A', shared, [continueIntegration, claude, codex]);
    await a.controller.activate();
    assert.deepEqual(await Promise.all([a.controller.enable(), a.controller.enable()]), [true, true]);
    assert.deepEqual(a.warnings, []);
    await assertServedBy(await claudeUrl(shared.home), a.host.proxy?.url, 'Claude Code');
  });

  it('two restarts at once (two setting writes) leave the tools on the proxy that runs (F11)', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true });
    const a = makeWindow('A', shared, [claude], {}, 20);
    await a.controller.activate();
    await a.controller.enable();
    await Promise.all([a.controller.settingsChanged([], true), a.controller.settingsChanged([], true)]);
    await assertServedBy(await claudeUrl(shared.home), a.host.proxy?.url, 'Claude Code');
    assert.equal(shared.state.get(LAST_URL_KEY), a.host.proxy?.url);
  });

  for (const when of ['while the proxy is starting', 'once the proxy is up']) {
    it(`VS Code closing ${when} during Enable leaves the tools restored and no proxy running (F8)`, async () => {
      shared = await makeShared();
      await seedTools(shared.home, { claude: true, continue: true });
      const a = makeWindow('A', shared, [continueIntegration, claude], {}, 30);
      await a.controller.activate();
      const enabling = a.controller.enable();
      if (when === 'once the proxy is up') while (!a.host.proxy) await new Promise((resolve) => setTimeout(resolve, 1));
      await a.controller.deactivate();
      const proxyAfterDeactivate = a.host.proxy;
      await enabling.catch(() => undefined);
      assert.equal(proxyAfterDeactivate, undefined, 'deactivate resolved with the proxy still running');
      assert.equal(a.host.proxy, undefined, 'a proxy was started after deactivate');
      assert.equal(await claudeUrl(shared.home), undefined);
      assert.equal(await continueUrl(shared.home), undefined);
    });
  }

  it('the 5-second tool check landing during deactivate does not connect a tool again (F10)', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true, codex: true });
    const a = makeWindow('A', shared, [claude, codex]);
    await a.controller.activate();
    await a.controller.enable();
    const tools = new ConnectedTools(toolStateFile(shared.journalDir));
    const closing = a.controller.deactivate();
    while (tools.suspended().length === 0) await new Promise((resolve) => setImmediate(resolve));
    await a.controller.adoptSuspendedTools();
    await closing;
    assert.equal(await claudeUrl(shared.home), undefined);
    assert.equal(await codexUrl(shared.home), undefined);
    assert.deepEqual(tools.suspended().sort(), ['claude', 'codex'], 'both stay marked for the next start');
  });
  it('Roo Code is back on the user\'s profile when the last window closes, and goes through Isartor again at the next start (R1)', async () => {
    shared = await makeShared();
    const roo = memoryRoo();
    const integration = createRooIntegration(async () => roo);
    const a = makeWindow('A', shared, [integration]);
    await a.controller.activate();
    await a.controller.enable();
    await assertServedBy(String(roo.getConfiguration().anthropicBaseUrl), a.host.proxy!.url, 'Roo Code while A runs');
    const closedUrl = a.host.proxy!.url;
    await a.controller.deactivate();
    assert.equal(roo.getActiveProfile(), 'default', `Roo Code's active profile still points at ${String(roo.getConfiguration().anthropicBaseUrl)} (${closedUrl} is closed)`);
    assert.equal(roo.getConfiguration().anthropicBaseUrl, undefined);
    const c = makeWindow('C', shared, [integration]);
    await c.controller.activate();
    await assertServedBy(String(roo.getConfiguration().anthropicBaseUrl), c.host.proxy!.url, 'Roo Code after the next start');
    assert.deepEqual(roo.getProfiles(), ['default', 'Isartor'], 'the same Isartor profile is used again, not a second one');
  });
});

describe('two windows', () => {
  it('Enable in a second window takes the tools over; when it closes, the first window gets them back (F2)', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true, continue: true });
    const a = makeWindow('A', shared, [continueIntegration, claude]);
    await a.controller.activate();
    await a.controller.enable();
    const b = makeWindow('B', shared, [continueIntegration, claude]);
    await b.controller.activate();
    await assertServedBy(await claudeUrl(shared.home), a.host.proxy!.url, 'Claude Code after B starts (stays with A)');
    await b.controller.enable();
    await assertServedBy(await claudeUrl(shared.home), b.host.proxy!.url, 'Claude Code after Enable in B');
    await assertServedBy((await continueUrl(shared.home))?.replace(/\/v1\/$/, ''), b.host.proxy!.url, 'Continue after Enable in B');
    assert.equal(shared.state.get(LAST_URL_KEY), b.host.proxy!.url, 'B owns the tools now');
    await b.controller.deactivate();
    assert.equal(await claudeUrl(shared.home), undefined, 'B put Claude Code back when it closed');
    await a.controller.adoptSuspendedTools();
    await assertServedBy(await claudeUrl(shared.home), a.host.proxy!.url, 'Claude Code after A\'s tool check');
    await assertServedBy((await continueUrl(shared.home))?.replace(/\/v1\/$/, ''), a.host.proxy!.url, 'Continue after A\'s tool check');
  });

  it('Connect Tools… in a second window takes the tools over; when it closes, the first window gets them back (F2b)', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true });
    const a = makeWindow('A', shared, [claude, codex]);
    await a.controller.activate();
    await a.controller.enable(); // Codex CLI is not installed yet
    const b = makeWindow('B', shared, [claude, codex]);
    await b.controller.activate();
    await seedTools(shared.home, { codex: true }); // the user installs Codex CLI
    assert.equal(await b.controller.toggle(codex), 'connected');
    await assertServedBy(await codexUrl(shared.home), b.host.proxy!.url, 'Codex after Connect in B');
    await assertServedBy(await claudeUrl(shared.home), b.host.proxy!.url, 'Claude Code follows to B');
    await b.controller.deactivate();
    assert.equal(await codexUrl(shared.home), undefined, 'B put Codex back when it closed');
    await a.controller.adoptSuspendedTools();
    await assertServedBy(await codexUrl(shared.home), a.host.proxy!.url, 'Codex after A\'s tool check');
    await assertServedBy(await claudeUrl(shared.home), a.host.proxy!.url, 'Claude Code after A\'s tool check');
  });

  it('Disable in one window, Enable in the other: that window owns the tools, restores them on close, and the next start connects them (F3)', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true });
    const a = makeWindow('A', shared, [claude]);
    await a.controller.activate();
    await a.controller.enable();
    const b = makeWindow('B', shared, [claude]);
    await b.controller.activate();
    await a.controller.disable();
    assert.equal(await claudeUrl(shared.home), undefined);
    await b.controller.enable();
    assert.equal(shared.state.get(LAST_URL_KEY), b.host.proxy!.url);
    await assertServedBy(await claudeUrl(shared.home), b.host.proxy!.url, 'Claude Code after Enable in B');
    await b.controller.deactivate();
    assert.equal(await claudeUrl(shared.home), undefined, 'B put Claude Code back when it closed');
    const c = makeWindow('C', shared, [claude]);
    await c.controller.activate();
    await assertServedBy(await claudeUrl(shared.home), c.host.proxy!.url, 'Claude Code after the next start');
  });

  it('a tool left on a dead Isartor port is repaired by the next start on a fixed port (F3b)', async () => {
    const port = 18787 + Math.floor(Math.random() * 1000);
    shared = await makeShared();
    await seedTools(shared.home, { claude: true });
    const a = makeWindow('A', shared, [claude], { port });
    await a.controller.activate();
    await a.controller.enable();
    const b = makeWindow('B', shared, [claude], { port }); // the port is taken: B moves to a free one
    await b.controller.activate();
    await a.controller.disable();
    await b.controller.enable();
    await b.host.proxy!.close(); // B's extension host dies: no deactivate
    b.host.proxy!.close = async () => {};
    const c = makeWindow('C', shared, [claude], { port });
    await c.controller.activate();
    await c.controller.adoptSuspendedTools();
    await assertServedBy(await claudeUrl(shared.home), c.host.proxy!.url, 'Claude Code after the next start');
    assert.deepEqual(await c.controller.disconnectedTools(), []);
  });

  it('a tool taken over after the other window closed gets a route this proxy serves, not 404 (F6)', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true });
    const a = makeWindow('A', shared, [claude]);
    await a.controller.activate();
    await a.controller.enable();
    await a.controller.toggle(claude); // disconnect: the route is released
    const b = makeWindow('B', shared, [claude]);
    await b.controller.activate(); // B's proxy installs the routes stored now (none for Claude Code)
    await a.controller.toggle(claude); // A connects Claude Code: a new route in the shared state
    await a.controller.deactivate();
    await b.controller.adoptSuspendedTools();
    await assertServedBy(await claudeUrl(shared.home), b.host.proxy!.url, 'Claude Code adopted by B');
  });

  it('the window that owns the tools crashing (no deactivate): the other window takes them over (F7)', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true });
    const a = makeWindow('A', shared, [claude]);
    await a.controller.activate();
    await a.controller.enable();
    const b = makeWindow('B', shared, [claude]);
    await b.controller.activate();
    await a.host.proxy!.close(); // crash: the port closes, nothing restores
    a.host.proxy!.close = async () => {};
    await b.controller.adoptSuspendedTools(); // B's 5-second check
    await assertServedBy(await claudeUrl(shared.home), b.host.proxy!.url, 'Claude Code after B\'s tool check');
    assert.equal(shared.state.get(LAST_URL_KEY), b.host.proxy!.url);
  });

  it('Roo Code follows to the window that takes the tools over when the other one closes (F9)', async () => {
    shared = await makeShared();
    const roo = memoryRoo();
    const integration = createRooIntegration(async () => roo);
    const a = makeWindow('A', shared, [integration]);
    await a.controller.activate();
    await a.controller.enable();
    const b = makeWindow('B', shared, [integration]);
    await b.controller.activate();
    await a.controller.deactivate();
    await b.controller.adoptSuspendedTools();
    await assertServedBy(String(roo.getConfiguration().anthropicBaseUrl), b.host.proxy!.url, 'Roo Code');
  });
});

describe('two windows with global storage', () => {
  it('the second window uses its workspace storage when the global store is open in the first (S1)', async () => {
    shared = await makeShared();
    const a = makeWindow('A', shared, [], { storage: 'global' });
    await a.controller.activate();
    assert.equal(await a.controller.enable(), true);
    const b = makeWindow('B', shared, [], { storage: 'global' });
    await b.controller.activate();
    assert.ok(b.host.proxy, `B did not start: ${b.warnings.join('; ')}`);
    assert.notEqual(b.host.proxy.dataDir, a.host.proxy!.dataDir);
    assert.deepEqual(b.warnings, []);
  });

  it('a window with no folder open says what to do when the global store is open elsewhere (S1)', async () => {
    shared = await makeShared();
    const a = makeWindow('A', shared, [], { storage: 'global' });
    await a.controller.activate();
    await a.controller.enable();
    const b = makeWindow('B', shared, [], { storage: 'global', folderOpen: false });
    await b.controller.activate();
    assert.equal(b.host.proxy, undefined);
    assert.equal(b.warnings.length, 1);
    assert.match(b.warnings[0]!, /already open in process .*close it, open a folder in this window, or set "isartor\.storage" to "workspace"/);
  });

  it('Retry on the start-failure notification starts again through the queue once the other window closed', async () => {
    shared = await makeShared();
    await seedTools(shared.home, { claude: true });
    const a = makeWindow('A', shared, [claude], { storage: 'global' });
    await a.controller.activate();
    await a.controller.enable();
    const b = makeWindow('B', shared, [claude], { storage: 'global', folderOpen: false });
    await b.controller.activate();
    assert.equal(b.warnings.length, 1);
    await a.controller.deactivate();
    b.answerStartFailed('retry');
    await new Promise((resolve) => setImmediate(resolve)); // the click reaches the controller
    await b.controller.adoptSuspendedTools(); // queued behind the retry: resolves once it has run
    await assertServedBy(await claudeUrl(shared.home), b.host.proxy?.url, 'Claude Code after Retry in B');
  });
});

/** Roo Code's profile API over one in-memory store (Roo keeps profiles for every window). */
function memoryRoo(): RooApi {
  const profiles = new Map<string, Record<string, unknown>>([['default', { apiProvider: 'anthropic' }]]);
  let active = 'default';
  return {
    getConfiguration: () => ({ ...profiles.get(active)! }),
    getProfiles: () => [...profiles.keys()],
    getActiveProfile: () => active,
    setActiveProfile: async (name) => (active = name),
    createProfile: async (name, profile = {}, activate = false) => {
      profiles.set(name, profile);
      if (activate) active = name;
      return name;
    },
    updateProfile: async (name, profile, activate = false) => {
      profiles.set(name, profile);
      if (activate) active = name;
      return name;
    },
    deleteProfile: async (name) => void profiles.delete(name),
  };
}
