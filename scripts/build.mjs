// Bundles the CLI, the extension and the webview with esbuild.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

// Native or ESM-only packages stay outside the bundle and are loaded from node_modules at run time.
const external = ['vscode', 'node-llama-cpp', '@huggingface/transformers', 'onnxruntime-node', 'usearch', 'sharp'];
const production = process.argv.includes('--production');
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: !production, minify: production, external, logLevel: 'warning' };

const entries = [
  { entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js' },
  { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
];
for (const entry of entries) if (existsSync(entry.entryPoints[0])) await build({ ...common, ...entry });
if (existsSync('webview/main.ts')) {
  await build({ entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', bundle: true, platform: 'browser', format: 'iife', target: 'es2022', minify: production, sourcemap: false, logLevel: 'warning' });
}
