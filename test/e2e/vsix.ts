/** Finds (and rebuilds when stale) the packaged Isartor .vsix, and packs the test-only helper extension. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createVSIX } from '@vscode/vsce';
import { REPO_ROOT } from './paths';

/** What goes into the .vsix; a change to any of these makes an existing package stale. */
const PACKAGE_SOURCES = ['src', 'webview', 'media', 'package.json', '.vscodeignore', 'README.md', 'scripts/build.mjs'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** The newest `isartor-*.vsix` in the repo root, or undefined. */
export function findIsartorVsix(): string | undefined {
  const candidates = readdirSync(REPO_ROOT)
    .filter((name) => /^isartor-.*\.vsix$/.test(name))
    .map((name) => join(REPO_ROOT, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0];
}

/**
 * The path of an up-to-date Isartor .vsix: runs `npm run package` when none exists or when any
 * source is newer than it, so the e2e tier always tests what the sources say. The environment
 * variable ISARTOR_E2E_VSIX names a .vsix to test instead.
 */
export function ensureIsartorVsix(): string {
  // Lets a release candidate (or a .vsix built elsewhere) be tested as it is.
  const given = process.env.ISARTOR_E2E_VSIX;
  if (given) {
    if (!existsSync(given)) throw new Error(`ISARTOR_E2E_VSIX points at ${given}, which does not exist`);
    return given;
  }
  const existing = findIsartorVsix();
  const sourcesMtime = Math.max(...PACKAGE_SOURCES.map((path) => newestMtime(join(REPO_ROOT, path))));
  if (existing && statSync(existing).mtimeMs >= sourcesMtime) return existing;

  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  if (!scripts.package) throw new Error('package.json has no "package" script yet, so the .vsix cannot be built');
  const result = spawnSync('npm', ['run', 'package'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10 * 60_000 });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-40).join('\n');
    throw new Error(`npm run package failed (exit ${result.status ?? result.signal}):\n${output}`);
  }
  const built = findIsartorVsix();
  if (!built || statSync(built).mtimeMs < sourcesMtime) throw new Error('npm run package succeeded but wrote no new isartor-*.vsix in the repo root');
  return built;
}

/** Packs a plain-JS extension folder (no dependencies) into `outFile` with vsce's API. */
export async function packExtensionFolder(folder: string, outFile: string): Promise<string> {
  await createVSIX({ cwd: folder, packagePath: outFile, dependencies: false, allowMissingRepository: true, skipLicense: true });
  return outFile;
}
