// Bundles the CLI, the extension and the webview with esbuild.
import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { asciiBundle } from './ascii-bundle.mjs';
import { routeDynamicImports } from './cli-imports.mjs';

// Native or ESM-only packages stay outside the bundle and are loaded from node_modules at run time.
const external = ['vscode', 'node-llama-cpp', '@huggingface/transformers', 'onnxruntime-node', 'usearch', 'sharp'];
const production = process.argv.includes('--production');
// jsonc-parser's default (UMD) build loads its parts with dynamic requires esbuild cannot follow,
// so the bundle would throw "Cannot find module './impl/format'"; its ESM build bundles cleanly.
const alias = { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' };
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: !production, minify: production, external, alias, logLevel: 'warning' };

const entries = [
  // The CLI runs next to its node_modules, so gpt-tokenizer (loaded on first use, see
  // src/core/tokens.ts) stays out of its bundle: bundled, its 4 MB of ranks cost every
  // `isartor serve` start ~40 ms to read and parse. The extension keeps it bundled (.vscodeignore).
  // Likewise the Redis client (~1.7 MB of @redis/*, ~60 ms to run at load): only a shared store
  // (src/core/store/redisConnection.ts) or a store bench loads it, through a dynamic import.
  // bin/isartor.js runs it from a V8 code cache, where import() needs the loader's hook (scripts/cli-imports.mjs).
  { entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', external: [...external, 'gpt-tokenizer', 'redis'], routeImports: true },
  { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  // The L1b cache's worker thread; the CLI and the extension start it from beside their own bundle.
  { entryPoints: ['src/core/semantic/worker.ts'], outfile: 'dist/semanticWorker.js' },
  // Parses and digests large request bodies off the thread that serves requests (src/proxy/bodyParser.ts).
  { entryPoints: ['src/proxy/bodyWorker.ts'], outfile: 'dist/bodyWorker.js' },
  // Counts with o200k what the optimiser's opt-in edits removed, for the ledger (src/proxy/countWorker.ts);
  // it bundles the tokenizer, which the body worker does not load.
  { entryPoints: ['src/proxy/countWorker.ts'], outfile: 'dist/countWorker.js' },
  // The `vscode:uninstall` hook: plain Node after VS Code removed the extension (restores tool settings).
  { entryPoints: ['src/extension/uninstall.ts'], outfile: 'dist/uninstall.js' },
];
/** Rewrites a bundle's comments in ASCII (and fails on non-ASCII code): see scripts/ascii-bundle.mjs. */
function keepAscii(file) {
  const text = readFileSync(file, 'utf8');
  const ascii = asciiBundle(text, file);
  if (ascii !== text) writeFileSync(file, ascii);
}
for (const { routeImports, ...entry } of entries) {
  if (!existsSync(entry.entryPoints[0])) continue;
  await build({ ...common, ...entry });
  keepAscii(entry.outfile);
  if (routeImports) writeFileSync(entry.outfile, routeDynamicImports(readFileSync(entry.outfile, 'utf8')));
}
if (existsSync('webview/main.ts')) {
  await build({ entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', bundle: true, platform: 'browser', format: 'iife', target: 'es2022', minify: production, sourcemap: false, logLevel: 'warning' });
  keepAscii('dist/webview.js');
}
// The panel's stylesheet, loaded through a <link> so the webview's CSP needs no inline styles.
if (existsSync('webview/styles.css')) {
  await build({ entryPoints: ['webview/styles.css'], outfile: 'dist/webview.css', bundle: true, minify: production, logLevel: 'warning' });
}
