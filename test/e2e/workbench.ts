/**
 * Playwright helpers that act on the VS Code workbench the way a user does: the command palette,
 * the status bar, notifications, webview panels and screenshots. Every wait is on a DOM condition.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { ARTIFACTS_DIR } from './paths';

/** Long enough for a cold extension host on a busy 2-core machine, short enough to fail a hung run. */
export const UI_TIMEOUT_MS = 60_000;

/** Resolves once the workbench has rendered its status bar (the last part it lays out). */
export async function waitForWorkbench(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  await page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runs a command from the palette by its title, e.g. "Isartor: Enable": opens the palette with F1,
 * types the title and clicks the row whose label is exactly that title (a trailing "…" or "..."
 * may follow, as in "Isartor: Set Provider API Key…").
 */
export async function runCommand(page: Page, title: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const label = new RegExp(`^${escapeRegExp(title)}(…|\\.\\.\\.)?$`);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: label }) }).first();
  const deadline = Date.now() + timeoutMs;
  const step = (ms: number): number => Math.min(ms, Math.max(1, deadline - Date.now()));
  // Each attempt opens the palette, types the title and waits for the row. An attempt fails when
  // the palette has not picked up the command yet (it does not see commands registered after it
  // opened, as right after start-up), or when a part that takes keyboard focus as it renders (a
  // walkthrough moving to its next step, a webview) swallows F1 or closes the palette before the
  // row is clicked. Then the palette is closed, focus is handed back to the workbench, and it starts over.
  for (;;) {
    try {
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: step(5_000) });
      await input.fill(`>${title}`, { timeout: step(5_000) });
      await row.waitFor({ state: 'visible', timeout: step(3_000) });
      await row.click({ timeout: step(5_000) });
      break;
    } catch (error) {
      if (Date.now() >= deadline) throw new Error(`command "${title}" could not be picked from the palette within ${timeoutMs} ms`, { cause: error });
      if (await input.isVisible()) {
        await page.keyboard.press('Escape');
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
      }
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    }
  }
  // The palette is done once it closes, or once the command reuses the widget for its own quick
  // pick or input box (the typed command text is gone then).
  await page.waitForFunction(
    (typed) => {
      const widget = document.querySelector<HTMLElement>('.quick-input-widget');
      const input = widget?.querySelector<HTMLInputElement>('.quick-input-box input');
      return !widget || widget.style.display === 'none' || widget.offsetParent === null || input?.value !== typed;
    },
    `>${title}`,
    { timeout: UI_TIMEOUT_MS, polling: 100 },
  );
}

/** What the status bar shows for one item. */
export interface StatusBarReading {
  /** The visible label, codicons left out, whitespace collapsed. */
  text: string;
  /** The codicon names shown in the label, e.g. ["shield"]. */
  icons: string[];
  ariaLabel: string;
}

/** An item of the status bar whose element id ends with `itemId` (VS Code prefixes it with the extension id). */
export function statusBarItem(page: Page, itemId: string): Locator {
  return page.locator(`.part.statusbar .statusbar-item[id$="${itemId}"]`).first();
}

/** Reads an item of the status bar; throws when it is not there. */
export async function readStatusBar(page: Page, itemId: string): Promise<StatusBarReading> {
  const item = statusBarItem(page, itemId);
  await item.waitFor({ state: 'attached', timeout: UI_TIMEOUT_MS });
  return item.evaluate((element) => {
    const icons = [...element.querySelectorAll('.codicon')].flatMap((icon) =>
      [...icon.classList].filter((name) => name.startsWith('codicon-') && name !== 'codicon-modifier-spin').map((name) => name.slice('codicon-'.length)),
    );
    return { text: (element.textContent ?? '').replace(/\s+/g, ' ').trim(), icons, ariaLabel: element.getAttribute('aria-label') ?? '' };
  });
}

/** What `waitForStatusBar` waits for: a label matching a pattern and/or different from an earlier one. */
export interface StatusBarCondition {
  matches?: RegExp;
  differsFrom?: string;
  icon?: string;
}

/** Waits until the item's label meets the condition (VS Code re-renders it on every update) and returns it. */
export async function waitForStatusBar(page: Page, itemId: string, condition: StatusBarCondition, timeoutMs = UI_TIMEOUT_MS): Promise<StatusBarReading> {
  await page.waitForFunction(
    ({ itemId, source, flags, differsFrom, icon }) => {
      const element = [...document.querySelectorAll('.part.statusbar .statusbar-item')].find((candidate) => candidate.id.endsWith(itemId));
      if (!element) return false;
      const text = (element.textContent ?? '').replace(/\s+/g, ' ').trim();
      if (source !== undefined && !new RegExp(source, flags).test(text)) return false;
      if (differsFrom !== undefined && text === differsFrom) return false;
      if (icon !== undefined && !element.querySelector(`.codicon-${icon}`)) return false;
      return true;
    },
    { itemId, source: condition.matches?.source, flags: condition.matches?.flags, differsFrom: condition.differsFrom, icon: condition.icon },
    { timeout: timeoutMs, polling: 100 },
  );
  return readStatusBar(page, itemId);
}

/**
 * Waits for a notification toast containing `text` and returns its message. With `failOn`, an
 * error toast matching it ends the wait at once with that message (no minute-long timeout when
 * the command under test reported a failure).
 */
export async function waitForNotification(page: Page, text: string | RegExp, timeoutMs = UI_TIMEOUT_MS, failOn?: RegExp): Promise<string> {
  const toasts = page.locator('.notifications-toasts .notification-toast');
  const wanted = toasts.filter({ hasText: text }).first();
  const failure = failOn ? toasts.filter({ has: page.locator('.codicon-error') }).filter({ hasText: failOn }).first() : undefined;
  await (failure ? wanted.or(failure) : wanted).first().waitFor({ state: 'visible', timeout: timeoutMs });
  if (failure && (await failure.isVisible())) {
    const message = (await failure.locator('.notification-list-item-message').first().textContent()) ?? '';
    throw new Error(`an error notification appeared instead of "${String(text)}": ${message.trim()}`);
  }
  return ((await wanted.locator('.notification-list-item-message').first().textContent()) ?? '').trim();
}

/**
 * The content frame of a webview panel whose editor tab has `title`. VS Code nests each webview in
 * two iframes (a host page, then `#active-frame` with the extension's HTML).
 */
export async function webviewFrame(page: Page, title: string): Promise<FrameLocator> {
  const tab = page.locator('.tabs-container .tab').filter({ hasText: title }).first();
  await tab.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  // Only the visible webview is laid over the editor area; hidden ones stay in the DOM.
  const host = page.locator('iframe.webview.ready:visible').first();
  await host.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  return page.frameLocator('iframe.webview.ready:visible').first().frameLocator('#active-frame');
}

/** Saves a PNG under test/e2e/artifacts/ (the whole window, or just `target`) and returns its path. */
export async function saveScreenshot(page: Page, name: string, target?: Locator): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  if (target) await target.screenshot({ path });
  else await page.screenshot({ path });
  return path;
}

/** Picks the row of an open quick pick whose label is exactly `label` (codicons left out). */
export async function pickQuickPickItem(page: Page, label: string): Promise<void> {
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  await row.click();
}

/** Types into the input box titled `title` (e.g. an API key prompt) and presses Enter. */
export async function submitInputBox(page: Page, title: string | RegExp, text: string): Promise<void> {
  const widget = page.locator('.quick-input-widget').filter({ has: page.locator('.quick-input-title', { hasText: title }) });
  await widget.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  const input = widget.locator('.quick-input-box input');
  await input.fill(text);
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
}
