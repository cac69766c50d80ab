// bin/codeCache.js: the CLI bundle runs from a V8 code cache only when that cache was made for
// the very same bundle file and sits where no one else could have planted it. V8 itself accepts a
// cache made for any source of the same length and then runs the old code, so every check here is
// the only thing between a stale or planted cache and what runs.
import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFile = promisify(execFileCallback);
const codeCache = require('../../bin/codeCache.js') as { cacheDir(env: NodeJS.ProcessEnv): string; cacheFile(dir: string, bundle: string): string; cacheKey(bundle: string): Buffer; HEADER_BYTES: number };
const LOADER = join(__dirname, '..', '..', 'bin', 'codeCache.js');

type Route = (text: string) => string;
let route: Route;

/**
 * A bundle whose answer is one letter (two versions of it have the same length), built as the CLI's
 * is: its import() goes through the loader's hook, which is what works from cached code.
 */
const bundleSource = (letter: string): string =>
  route(
    `"use strict";\nfunction answer() { return '${letter}'; }\n` +
      `import('node:os').then((os) => console.log(answer(), typeof os.cpus, __filename.endsWith('bundle.js'), module.exports === exports, typeof require('node:fs').statSync));\n`,
  );

let root: string;
let counter = 0;

before(async () => {
  route = ((await import(pathToFileURL(join(__dirname, '..', '..', 'scripts', 'cli-imports.mjs')).href)) as { routeDynamicImports: Route }).routeDynamicImports;
  root = await mkdtemp(join(tmpdir(), 'isartor-code-cache-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A folder with a bundle, a runner that loads it through the code cache, and a cache folder. */
async function setup(letter = 'A'): Promise<{ bundle: string; dir: string; file: string; run(extra?: NodeJS.ProcessEnv): Promise<string> }> {
  const base = join(root, `c${++counter}`);
  const dir = join(base, 'cache', 'isartor');
  const bundle = join(base, 'bundle.js');
  const runner = join(base, 'runner.js');
  await mkdir(base, { recursive: true });
  await writeFile(bundle, bundleSource(letter));
  await writeFile(runner, `require(${JSON.stringify(LOADER)}).runWithCodeCache(${JSON.stringify(bundle)}, module, { dir: ${JSON.stringify(dir)} });\n`);
  const run = async (extra: NodeJS.ProcessEnv = {}): Promise<string> => {
    const env = { ...process.env, ...extra };
    delete env.ISARTOR_CODE_CACHE;
    const { stdout, stderr } = await execFile(process.execPath, [runner], { env });
    assert.equal(stderr, '', 'no warning either');
    return stdout;
  };
  return { bundle, dir, file: codeCache.cacheFile(dir, bundle), run };
}

const answerOf = (letter: string): string => `${letter} function true true function\n`;
const inode = async (file: string): Promise<bigint> => (await stat(file, { bigint: true })).ino;

/** A cache for `bundle` as it is now whose code is the V8 data of `from`'s cache: what a planted file would be. */
async function forge(from: string, bundle: string, to: string): Promise<void> {
  const made = await readFile(from);
  const data = made.subarray(codeCache.HEADER_BYTES);
  const header = Buffer.concat([made.subarray(0, 8), codeCache.cacheKey(bundle), createHash('sha256').update(data).digest()]);
  await writeFile(to, Buffer.concat([header, data]), { mode: 0o600 });
}

describe('the CLI bundle with a V8 code cache (bin/codeCache.js)', () => {
  it('makes a private cache on the first run and runs from it after, unchanged', async () => {
    const { run, file, dir } = await setup();
    assert.equal(await run(), answerOf('A'));
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const made = await inode(file);
    assert.equal(await run(), answerOf('A'));
    // Not written again: it was accepted.
    assert.equal(await inode(file), made);
  });

  it('replaces the cache when a run compiled clearly more of the bundle, not when it compiled less', async () => {
    const { run, file, bundle } = await setup();
    // Many functions that run only when asked: a run that calls them has far more compiled.
    const many = Array.from({ length: 300 }, (_, i) => `function f${i}(x) { return x.map((y) => y * ${i} + ${i}).filter((y) => y % 3 !== ${i % 3}).length; }`).join('\n');
    const calls = Array.from({ length: 300 }, (_, i) => `f${i}([1, 2, 3]);`).join(' ');
    await writeFile(bundle, `${bundleSource('A')}${many}\nif (process.env.RUN_ALL) { ${calls} }\n`);
    assert.equal(await run(), answerOf('A'));
    const small = await stat(file, { bigint: true });
    assert.equal(await run({ RUN_ALL: '1' }), answerOf('A'));
    const large = await stat(file, { bigint: true });
    assert.notEqual(large.ino, small.ino);
    assert.ok(large.size > small.size);
    assert.equal(await run(), answerOf('A'));
    assert.equal((await stat(file, { bigint: true })).ino, large.ino, 'a run that compiled less keeps the cache');
  });

  it('does not run a cache made for an earlier bundle of the same length', async () => {
    const { run, file, bundle } = await setup('A');
    await run();
    const made = await inode(file);
    await writeFile(bundle, bundleSource('B'));
    assert.equal(await run(), answerOf('B'));
    assert.notEqual(await inode(file), made, 'a new cache for the new bundle');
    assert.equal(await run(), answerOf('B'));
  });

  it('compiles as usual past a damaged or cut cache, and replaces it', async () => {
    const { run, file } = await setup();
    await run();
    const bytes = await readFile(file);
    bytes[bytes.length - 20]! ^= 0xff;
    await writeFile(file, bytes);
    assert.equal(await run(), answerOf('A'));
    assert.deepEqual((await readFile(file)).subarray(0, 8), bytes.subarray(0, 8));
    assert.notDeepEqual(await readFile(file), bytes);
    await truncate(file, codeCache.HEADER_BYTES + 10);
    assert.equal(await run(), answerOf('A'));
    assert.ok((await stat(file)).size > codeCache.HEADER_BYTES + 10);
  });

  it('never reads a cache another user could have written: folder or file writable by others', async () => {
    const other = await setup('A');
    await other.run();
    const { run, file, dir, bundle } = await setup('B');
    await run();
    // What a planted cache does when it is accepted: V8 runs the code it holds, not the bundle's.
    await forge(other.file, bundle, file);
    assert.equal(await run(), answerOf('A'), 'the forged cache is a working one');
    await forge(other.file, bundle, file);
    await chmod(file, 0o666);
    assert.equal(await run(), answerOf('B'));
    await forge(other.file, bundle, file);
    await chmod(dir, 0o777);
    assert.equal(await run(), answerOf('B'));
    assert.equal((await stat(dir)).mode & 0o777, 0o777, 'nothing written into a folder others can write to');
  });

  it('a bundle so built still imports when required plainly, without the loader', async () => {
    const { bundle } = await setup();
    const { stdout } = await execFile(process.execPath, ['-e', `require(${JSON.stringify(bundle)})`]);
    assert.equal(stdout, answerOf('A'));
  });

  it('keeps its cache under $XDG_CACHE_HOME when that is absolute, else under ~/.cache', () => {
    assert.equal(codeCache.cacheDir({ XDG_CACHE_HOME: '/x/cache' }), join('/x/cache', 'isartor'));
    assert.equal(codeCache.cacheDir({ XDG_CACHE_HOME: 'relative/cache' }), join(homedir(), '.cache', 'isartor'));
    assert.equal(codeCache.cacheDir({}), join(homedir(), '.cache', 'isartor'));
  });

  it('runs the bundle plainly with ISARTOR_CODE_CACHE=0, writing nothing', async () => {
    const { bundle, dir } = await setup();
    const runner = join(root, `plain${counter}.js`);
    await writeFile(runner, `require(${JSON.stringify(LOADER)}).runWithCodeCache(${JSON.stringify(bundle)}, module, { dir: ${JSON.stringify(dir)} });\n`);
    const { stdout } = await execFile(process.execPath, [runner], { env: { ...process.env, ISARTOR_CODE_CACHE: '0' } });
    assert.equal(stdout, answerOf('A'));
    await assert.rejects(stat(dir), { code: 'ENOENT' });
  });
});
