/**
 * One end-to-end session: a temporary HOME with the sample tool configs, code-server with the given
 * .vsix files installed, and headless Chromium on the workbench. `close()` always tears it all down.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { installExtensions, startCodeServer, type CodeServerDirs, type RunningCodeServer } from './codeServer';
import { ARTIFACTS_DIR, CHROMIUM_BIN, FIXTURES_DIR, assertEditorInstalled } from './paths';
import {
  pickQuickPickItem,
  readStatusBar,
  runCommand,
  saveScreenshot,
  submitInputBox,
  waitForNotification,
  waitForStatusBar,
  waitForWorkbench,
  webviewFrame,
  type StatusBarCondition,
  type StatusBarReading,
} from './workbench';

/** Chromium flags proven on this offline machine (DESIGN.md): no sandbox as root, no network chatter. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** User settings every session starts from: no welcome page, no update or telemetry traffic. */
const BASE_USER_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
};

export interface SessionOptions {
  /** Names the artifacts (logs) of this session, e.g. "smoke". */
  name: string;
  /** .vsix files installed with `code-server --install-extension` before the editor starts. */
  vsixFiles: string[];
  /** Merged over the base user settings into <user-data-dir>/User/settings.json. */
  userSettings?: Record<string, unknown>;
  /** Copies test/e2e/fixtures/home into the temporary HOME (default true). */
  sampleHome?: boolean;
  viewport?: { width: number; height: number };
  /** Files written into the temporary HOME before the editor starts (relative path → text). */
  homeFiles?: Record<string, string>;
  /** Extra environment for code-server and its extension host. */
  env?: Record<string, string>;
}

export interface E2eSession {
  url: string;
  /** The temporary HOME: ~/.continue/config.yaml and ~/.claude/settings.json of the test live here. */
  home: string;
  workspace: string;
  userDataDir: string;
  page: Page;
  runCommand(title: string): Promise<void>;
  pickQuickPickItem(label: string): Promise<void>;
  submitInputBox(title: string | RegExp, text: string): Promise<void>;
  readStatusBar(itemId: string): Promise<StatusBarReading>;
  waitForStatusBar(itemId: string, condition: StatusBarCondition, timeoutMs?: number): Promise<StatusBarReading>;
  waitForNotification(text: string | RegExp, options?: { timeoutMs?: number; failOn?: RegExp }): Promise<string>;
  webviewFrame(title: string): Promise<FrameLocator>;
  screenshot(name: string, target?: Locator): Promise<string>;
  /** Reloads the window ("Developer: Reload Window") and waits for the workbench. */
  reloadWindow(): Promise<void>;
  /**
   * Ends code-server (gracefully with SIGTERM, or with SIGKILL: a crash) and starts it again on
   * the same folders, then reopens the workbench. `url` changes.
   */
  restartEditor(how: 'graceful' | 'kill'): Promise<void>;
  /** Closes the browser, stops code-server, keeps its logs under artifacts/ and deletes the temp folder. */
  close(): Promise<void>;
}

/** Prepares the temporary folders: HOME with the sample configs, a workspace, user settings. */
function prepareFolders(root: string, options: SessionOptions): CodeServerDirs & { workspace: string } {
  const home = join(root, 'home');
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  const workspace = join(root, 'workspace');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(home, { recursive: true });
  if (options.sampleHome !== false) cpSync(join(FIXTURES_DIR, 'home'), home, { recursive: true });
  for (const [relative, text] of Object.entries(options.homeFiles ?? {})) {
    mkdirSync(dirname(join(home, relative)), { recursive: true });
    writeFileSync(join(home, relative), text);
  }
  cpSync(join(FIXTURES_DIR, 'workspace'), workspace, { recursive: true });
  const settings = { ...BASE_USER_SETTINGS, ...options.userSettings };
  writeFileSync(join(userDataDir, 'User', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  const configFile = join(root, 'code-server.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  mkdirSync(join(ARTIFACTS_DIR, 'logs'), { recursive: true });
  const logFile = join(ARTIFACTS_DIR, 'logs', `${options.name}-code-server.log`);
  writeFileSync(logFile, '');
  return { home, userDataDir, extensionsDir, configFile, logFile, workspace, env: options.env };
}

/**
 * Starts a session. On any failure during start-up everything already started is torn down
 * before the error is rethrown, so a broken run leaves no processes behind.
 */
export async function startSession(options: SessionOptions): Promise<E2eSession> {
  assertEditorInstalled();
  const root = mkdtempSync(join(tmpdir(), `isartor-e2e-${options.name}-`));
  const dirs = prepareFolders(root, options);
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;

  const close = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    const logs = join(dirs.userDataDir, 'logs');
    if (existsSync(logs)) cpSync(logs, join(ARTIFACTS_DIR, 'logs', `${options.name}-vscode`), { recursive: true });
    rmSync(root, { recursive: true, force: true });
  };

  try {
    installExtensions(dirs, options.vsixFiles);
    server = await startCodeServer(dirs, dirs.workspace);
    browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/?folder=${encodeURIComponent(dirs.workspace)}`);
    await waitForWorkbench(page);
    const session: E2eSession = {
      url: server.url,
      home: dirs.home,
      workspace: dirs.workspace,
      userDataDir: dirs.userDataDir,
      page,
      runCommand: (title) => runCommand(page, title),
      pickQuickPickItem: (label) => pickQuickPickItem(page, label),
      submitInputBox: (title, text) => submitInputBox(page, title, text),
      readStatusBar: (itemId) => readStatusBar(page, itemId),
      waitForStatusBar: (itemId, condition, timeoutMs) => waitForStatusBar(page, itemId, condition, timeoutMs),
      waitForNotification: (text, options) => waitForNotification(page, text, options?.timeoutMs, options?.failOn),
      webviewFrame: (title) => webviewFrame(page, title),
      screenshot: (name, target) => saveScreenshot(page, name, target),
      reloadWindow: async () => {
        // The palette command, as a user reloads; the page navigates, so runCommand's own wait does not apply.
        const loaded = page.waitForEvent('load', { timeout: 120_000 });
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget .quick-input-box input');
        await input.fill('>Developer: Reload Window');
        await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Developer: Reload Window' }).first().waitFor({ state: 'visible' });
        await input.press('Enter');
        await loaded;
        await waitForWorkbench(page);
      },
      restartEditor: async (how) => {
        // The same port: the browser keeps VS Code's global state per origin, as a user's restarted server would.
        const port = Number(new URL(session.url).port);
        if (how === 'kill') await server?.kill();
        else await server?.stop();
        server = await startCodeServer(dirs, dirs.workspace, port);
        session.url = server.url;
        await page.goto(`${server.url}/?folder=${encodeURIComponent(dirs.workspace)}`);
        await waitForWorkbench(page);
      },
      close,
    };
    return session;
  } catch (error) {
    await close();
    throw error;
  }
}
