/**
 * `isartor` as people install it: `npm pack`, then `npm install -g` of the tarball into a fresh
 * prefix (no source checkout, no dev dependencies), then the installed command answers --version,
 * serves the official OpenAI SDK through a fake upstream on loopback, serves the savings page and
 * reads its ledger back with `stats`; `model status` and `bench pairs` run too, and a `--store`
 * proxy loads the Redis client from the installed dependencies (the CLI bundle leaves it out). Needs `node scripts/build.mjs` first (the integration tier
 * runs it); packing skips the prepack rebuild so other tests never see dist/ half rewritten.
 *
 * The install resolves versions from the npm registry and takes tarballs from the cache `npm ci`
 * warmed (--prefer-offline). It takes a while: node-llama-cpp's prebuilt binaries for this platform
 * are large.
 */
import assert from 'node:assert/strict';
import { execFile as execFileCallback, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const execFile = promisify(execFileCallback);
const ROOT = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };

/** Where the installed command keeps its V8 code cache (bin/codeCache.js) in this test: not the user's ~/.cache. */
let codeCacheHome = '';

/** The inode of the one code cache the installed command made: a cache written again is a new file. */
async function installedCodeCacheInode(): Promise<bigint> {
  const dir = join(codeCacheHome, 'isartor');
  const cached = (await readdir(dir)).filter((name) => /^code-[0-9a-f]{16}\.cache$/.test(name));
  assert.equal(cached.length, 1, cached.join(', '));
  return (await stat(join(dir, cached[0]!), { bigint: true })).ino;
}

/**
 * A fresh machine's environment: none of the npm_* settings of an `npm test` run around this test
 * (the project's .npmrc would otherwise reach the install), no provider keys, no Isartor settings.
 */
function freshEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = codeCacheHome ? { XDG_CACHE_HOME: codeCacheHome } : {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) || /_API_KEY$/.test(name) || name.startsWith('ISARTOR_') || name === 'AZURE_OPENAI_ENDPOINT' || (codeCacheHome && name === 'XDG_CACHE_HOME')) continue;
    env[name] = value;
  }
  return env;
}

/**
 * Runs the installed `isartor serve ARGS`, hands its URL to `use`, then stops it with SIGTERM and
 * checks it exits 0. Returns what it wrote to stderr.
 */
async function serveInstalled(bin: string, args: string[], use: (url: string) => Promise<void>): Promise<string> {
  const child = spawn(bin, ['serve', '--port', '0', ...args], { env: freshEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const lines = createInterface({ input: child.stdout! });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`isartor exited with ${code}: ${stderr}`);
    });
    const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
    const url = /^isartor listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(line)?.[1];
    assert.ok(url, `unexpected ready line: ${line}`);
    await use(url);
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
  return stderr;
}

describe('the npm package, installed globally into a fresh prefix', { timeout: 10 * 60_000 }, () => {
  let work: string;
  let prefix: string;
  let bin: string;
  let fake: FakeUpstream;

  before(async () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'build first: node scripts/build.mjs');
    work = await mkdtemp(join(tmpdir(), 'isartor-npm-'));
    prefix = join(work, 'prefix');
    codeCacheHome = join(work, 'xdg-cache');
    fake = await startFakeUpstream();
    const packed = await execFile('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env: freshEnv() });
    const [tarball] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    assert.deepEqual(tarball!.files.map((file) => file.path).sort(), ['README.md', 'bin/codeCache.js', 'bin/isartor.js', 'dist/bodyWorker.js', 'dist/cli.js', 'dist/countWorker.js', 'dist/semanticWorker.js', 'dist/webview.css', 'dist/webview.js', 'package.json']);
    // Run from the temp folder, so nothing of the checkout (its .npmrc, its node_modules) takes part.
    await execFile('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', `./${tarball!.filename}`], { cwd: work, env: freshEnv(), maxBuffer: 16 * 1024 * 1024 });
    bin = join(prefix, 'bin', process.platform === 'win32' ? 'isartor.cmd' : 'isartor');
  });

  after(async () => {
    await fake?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs the command without any dev dependency', async () => {
    const installed = new Set(await readdir(join(prefix, 'lib', 'node_modules', 'isartor', 'node_modules')));
    const scoped = async (scope: string): Promise<string[]> => (installed.has(scope) ? (await readdir(join(prefix, 'lib', 'node_modules', 'isartor', 'node_modules', scope))).map((name) => `${scope}/${name}`) : []);
    for (const name of [...installed].filter((entry) => entry.startsWith('@'))) for (const full of await scoped(name)) installed.add(full);
    const devOnly = Object.keys(manifest.devDependencies).filter((name) => installed.has(name));
    assert.deepEqual(devOnly, [], 'dev dependencies installed with the package');
    const { stdout } = await execFile(bin, ['--version'], { env: freshEnv() });
    assert.equal(stdout, `${manifest.version}\n`);
    const help = await execFile(bin, ['serve', '--help'], { env: freshEnv() });
    assert.match(help.stdout, /usage: isartor serve/);
  });

  it('serves the OpenAI SDK and the savings page, and stats reads the ledger back', async () => {
    const dataDir = join(work, 'data');
    let largeTextLength = 0;
    const stderr = await serveInstalled(bin, ['--data-dir', dataDir, '--upstream', fake.openaiBase], async (url) => {
      const client = new OpenAI({ apiKey: 'sk-npm-package-test-0001', baseURL: `${url}/v1`, maxRetries: 0 });
      const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hello from the installed package' }] };
      const first = await client.chat.completions.create(request).withResponse();
      const second = await client.chat.completions.create(request).withResponse();
      assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
      assert.equal(second.response.headers.get('x-isartor-layer'), 'l1a');
      assert.deepEqual(second.data, first.data);
      assert.equal(fake.requests.length, 1);
      // A rewording is an L1b hit from the installed semantic worker, which stored the first answer
      // without embedding it (no entry shared its gate key) and embeds it for this lookup.
      for (let polls = 0; polls < 200; polls++) {
        const report = (await (await fetch(`${url}/isartor/stats`)).json()) as { caches: Record<string, { entries: number }> };
        if ((report.caches.semantic?.entries ?? 0) >= 1) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const reworded = await client.chat.completions.create({ ...request, messages: [{ role: 'user', content: 'hello from  the installed package' }] }).withResponse();
      assert.equal(reworded.response.headers.get('x-isartor-layer'), 'l1b');
      assert.deepEqual(reworded.data.choices, first.data.choices);
      assert.equal(fake.requests.length, 1);
      // An answer over 1 MiB is passed on uncached; the installed body worker reads its usage.
      const largeText = 'a large answer '.repeat(80_000);
      largeTextLength = largeText.length;
      fake.respondWith(() => ({ text: largeText }));
      const large = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'a large answer, please' }] };
      for (let attempt = 0; attempt < 2; attempt++) {
        const { data, response } = await client.chat.completions.create(large).withResponse();
        assert.equal(data.choices[0]?.message.content, largeText);
        assert.equal(response.headers.get('x-isartor-layer'), 'l3');
      }
      fake.respondWith(() => ({}));
      assert.equal(fake.requests.length, 3);
      for (const path of ['/isartor/', '/isartor/webview.js', '/isartor/webview.css']) {
        const response: globalThis.Response = await fetch(`${url}${path}`);
        assert.equal(response.status, 200, `${path}: ${await response.text()}`);
      }
    });
    // The worker threads' bundles shipped: nothing runs on the proxy's thread for want of them.
    assert.doesNotMatch(stderr, /is missing from this install/);
    // serve left a V8 code cache of the installed bundle for the next start (the Redis test below starts from it).
    await installedCodeCacheInode();
    const stats = await execFile(bin, ['stats', '--data-dir', dataDir, '--json'], { env: freshEnv() });
    const { totals } = JSON.parse(stats.stdout) as { totals: { requests: number; outputTokens: number } };
    assert.equal(totals.requests, 5);
    // The fake reports a quarter of the text's length as output tokens: the large answers' usage was read.
    assert.ok(totals.outputTokens >= 2 * Math.ceil(largeTextLength / 4), `${totals.outputTokens} output tokens in the ledger`);
    const status = await execFile(bin, ['model', 'status', '--data-dir', dataDir], { env: freshEnv() });
    assert.match(status.stdout, /L1b embedder/);
    const pairs = join(work, 'pairs.jsonl');
    await writeFile(pairs, `${JSON.stringify({ text_a: 'how do I sort a list in python', text_b: 'How do I sort a list in Python?', label: 1 })}\n`);
    const bench = await execFile(bin, ['bench', 'pairs', '--file', pairs, '--json'], { env: freshEnv() });
    assert.equal((JSON.parse(bench.stdout) as { pairs: number }).pairs, 1);
  });

  it('loads the Redis client from the installed package when a shared store is set', async () => {
    // Nothing listens on port 1: the client loads, is refused, and the proxy serves from the upstream.
    // Run after the test above, this start compiles from its code cache: import('redis') works from cached code.
    const dataDir = join(work, 'data-store');
    const serveOnSharedStore = (): Promise<string> =>
      serveInstalled(bin, ['--data-dir', dataDir, '--upstream', fake.openaiBase, '--store', 'redis://127.0.0.1:1'], async (url) => {
        const client = new OpenAI({ apiKey: 'sk-npm-package-test-0002', baseURL: `${url}/v1`, maxRetries: 0 });
        const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'shared store down' }] }).withResponse();
        assert.equal(answer.response.headers.get('x-isartor-layer'), 'l3');
      });
    const stderr = await serveOnSharedStore();
    assert.doesNotMatch(stderr, /Cannot find (module|package)/);
    assert.match(stderr, /shared cache unavailable \(redis:\/\/127\.0\.0\.1:1\): connection to .* refused/);
    // The same run again runs nothing the cache lacks: it keeps the cache unless it rejected it, which
    // it would if serve had not put back the V8 flags it changes before the cache was made (src/cli/serveFlags.ts).
    const made = await installedCodeCacheInode();
    await serveOnSharedStore();
    assert.equal(await installedCodeCacheInode(), made, 'the installed serve rejected the code cache its previous run made');
  });
});
