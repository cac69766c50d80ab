/**
 * One .vsix per platform VS Code publishes for (scripts/package.mjs --all), each inspected file by
 * file: every executable in it (found by its header, whatever its name) is of the target's format
 * and CPU, the target's node-llama-cpp, onnxruntime-node, usearch and sharp binaries are there
 * unless none is published, and the manifest names the target. Packaging five .vsix files takes
 * minutes (the files are read in place, with vsce's own zip reader); ISARTOR_VSIX_DIR names a folder of already packaged ones to inspect instead.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
// @ts-expect-error -- a plain .mjs script module without type declarations
import { TARGETS } from '../../scripts/package-targets.mjs';
import { binaryKind, type BinaryKind } from './binaryHeader';
import { zipHeads } from './zipHeads';

interface TargetSpec {
  packages: Record<string, string[]>;
  ort: string | null;
  usearch: string | null;
  format: BinaryKind['format'];
  arch: string;
}
const SPECS = TARGETS as Record<string, TargetSpec>;
const ROOT = join(__dirname, '..', '..');

describe('one .vsix per platform target', { timeout: 40 * 60_000 }, () => {
  let work: string;
  let vsixDir: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'isartor-vsix-targets-'));
    vsixDir = process.env.ISARTOR_VSIX_DIR ?? join(work, 'vsix');
    if (!process.env.ISARTOR_VSIX_DIR) execFileSync(process.execPath, ['scripts/package.mjs', '--all', '--out-dir', vsixDir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const [target, spec] of Object.entries(SPECS)) {
    it(`${target}: only ${spec.format} ${spec.arch} binaries, each layer's where one is published`, async (t) => {
      const vsix = join(vsixDir, `isartor-${target}.vsix`);
      t.diagnostic(`${target}: ${(statSync(vsix).size / 1e6).toFixed(1)} MB`);
      const heads = await zipHeads(vsix);
      assert.match(heads.get('extension.vsixmanifest')!.toString('utf8'), new RegExp(`TargetPlatform="${target}"`));
      // The extension's bundles, its worker threads' included: without one, work falls back onto the extension host's thread.
      const bundles = ['extension.js', 'semanticWorker.js', 'bodyWorker.js', 'countWorker.js', 'uninstall.js', 'webview.js', 'webview.css'];
      assert.deepEqual(bundles.filter((name) => !heads.has(`extension/dist/${name}`)), [], 'bundles missing from the .vsix');

      const natives = new Map<string, BinaryKind>();
      for (const [path, head] of heads) {
        const kind = binaryKind(head);
        if (kind) natives.set(path.replace(/^extension\//, ''), kind);
      }
      const foreign = [...natives].filter(([, kind]) => {
        if (kind.format !== spec.format || !kind.archs.includes(spec.arch as BinaryKind['archs'][number])) return true;
        // A universal Mach-O may hold both Mac CPUs; anything else holds exactly the target's.
        return kind.format === 'macho' ? kind.archs.some((arch) => arch !== 'x64' && arch !== 'arm64') : kind.archs.length !== 1;
      });
      assert.deepEqual(foreign.map(([path, kind]) => `${path}: ${kind.format} ${kind.archs.join('+')}`), [], 'binaries of another platform');

      const paths = [...natives.keys()];
      const has = (pattern: RegExp): boolean => paths.some((path) => pattern.test(path));
      for (const name of spec.packages['@node-llama-cpp']!) assert.ok(has(new RegExp(`^node_modules/@node-llama-cpp/${name}/bins/.+/llama-addon\\.node$`)), `node-llama-cpp ${name}`);
      assert.ok(has(/^node_modules\/@img\/sharp-[^/]+\/lib\/sharp-.+\.node$/), 'sharp');
      assert.equal(has(/^node_modules\/onnxruntime-node\/bin\/napi-v\d+\/.+\/onnxruntime_binding\.node$/), spec.ort !== null, 'onnxruntime-node');
      assert.equal(has(/^node_modules\/usearch\/prebuilds\/.+\/usearch\.node$/), spec.usearch !== null, 'usearch');
    });
  }
});
