'use strict';
/**
 * Runs a CommonJS bundle with a V8 code cache, so a start skips most of compiling it: Node 20 has
 * no `module.enableCompileCache()`. At 100k entries the 3.9 MB CLI bundle's compile was ~70 ms of
 * the ~300 ms before the first answer; with the cache ~35 ms, and the functions that ran before
 * the cache was made come compiled too.
 *
 * The cache is one file per bundle path in a per-user folder ($XDG_CACHE_HOME/isartor or
 * ~/.cache/isartor, made 700), used only when that folder and the file are ours and nobody else
 * may write to them (else another local user could plant code for us to run), the file is regular,
 * was made for this very bundle file (path, inode, size, mtime, ctime: V8's own check compares
 * only the source's length) by this Node, and its bytes match their sha256 (V8 does not check a
 * cache's checksum in release builds). Anything else: a plain compile, as `require` does. A cache
 * is made when the process exits (after all of its requests, so no request waits for the ~60 ms
 * it takes) and written, through a temporary file renamed into place, when none was accepted or
 * this run's is more than a tenth larger (more functions ran).
 */
const { isAscii } = require('node:buffer');
const { createHash } = require('node:crypto');
const { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { homedir } = require('node:os');
const { dirname, isAbsolute, join } = require('node:path');
const vm = require('node:vm');

/** First bytes of a cache file; the version is part of it. */
const MAGIC = Buffer.from('ISARCC01', 'latin1');
/** magic, sha256 of what the cache was made for, sha256 of the V8 data that follows. */
const HEADER_BYTES = MAGIC.length + 32 + 32;
/** A cache is rewritten when a run's own is this much larger: more of the bundle ran than in the start that made it. */
const GROWN = 1.1;
/** Larger than any cache of our bundles (~1.2 MB for the CLI): a bigger file is not ours. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;

/** `$XDG_CACHE_HOME/isartor`, else `~/.cache/isartor` (a relative XDG_CACHE_HOME is ignored, as the XDG spec says). */
function cacheDir(env = process.env) {
  return env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? join(env.XDG_CACHE_HOME, 'isartor') : join(homedir(), '.cache', 'isartor');
}

const sha256 = (data) => createHash('sha256').update(data).digest();

/** One cache per bundle path: two installs do not take turns overwriting one file. */
const cacheFile = (dir, bundle) => join(dir, `code-${sha256(bundle).toString('hex').slice(0, 16)}.cache`);

/** What a cache must have been made for: this bundle file as it is now, this Node on this machine. */
function cacheKey(bundle) {
  const stat = statSync(bundle, { bigint: true });
  return sha256(JSON.stringify([bundle, `${stat.dev}`, `${stat.ino}`, `${stat.size}`, `${stat.mtimeNs}`, `${stat.ctimeNs}`, process.version, process.arch, process.platform]));
}

const ownUid = typeof process.getuid === 'function' ? process.getuid() : undefined;
const isOurs = (stat) => ownUid === undefined || stat.uid === ownUid;
/** True for a folder or file that is ours and that no other user may write to. */
const noneElseWrites = (stat) => isOurs(stat) && (stat.mode & 0o022) === 0;

/** The V8 data in `file` when it is a cache we made for `key`; undefined otherwise. */
function readCache(file, key) {
  let fd;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const stat = fstatSync(fd);
    if (!stat.isFile() || !noneElseWrites(stat) || stat.size < HEADER_BYTES || stat.size > MAX_CACHE_BYTES) return undefined;
    const bytes = Buffer.allocUnsafe(stat.size);
    if (readSync(fd, bytes, 0, bytes.length, 0) !== bytes.length) return undefined;
    const data = bytes.subarray(HEADER_BYTES);
    const ours = bytes.subarray(0, MAGIC.length).equals(MAGIC) && bytes.subarray(MAGIC.length, MAGIC.length + 32).equals(key);
    return ours && bytes.subarray(MAGIC.length + 32, HEADER_BYTES).equals(sha256(data)) ? data : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` as the cache for `key`: a private folder, a temporary file, a rename. Failures are ignored: the next start compiles. */
function writeCache(file, key, data) {
  const draft = `${file}.${process.pid}.tmp`;
  try {
    const dir = dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || !isOurs(stat)) return;
    if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    writeFileSync(draft, Buffer.concat([MAGIC, key, sha256(data), data]), { mode: 0o600, flag: 'wx' });
    renameSync(draft, file);
  } catch {
    try {
      unlinkSync(draft);
    } catch {
      // never written
    }
  }
}

/**
 * Runs the CommonJS file `bundle` as `require(bundle)` from `parent` would, compiled with its code
 * cache when there is a good one; with `makeCache`, writes one at exit when there was none. The
 * bundle must call import() through `module.isartorImport` (scripts/cli-imports.mjs).
 */
function runWithCodeCache(bundle, parent, { makeCache = true, dir = cacheDir() } = {}) {
  if (process.env.ISARTOR_CODE_CACHE === '0') return require(bundle);
  let key;
  let dirStat;
  try {
    key = cacheKey(bundle);
    dirStat = lstatSync(dir, { throwIfNoEntry: false });
  } catch {
    return require(bundle);
  }
  // A folder someone else could write to is not used at all: they could plant a cache there.
  if (dirStat && (!dirStat.isDirectory() || !noneElseWrites(dirStat))) return require(bundle);
  const file = cacheFile(dir, bundle);
  const cachedData = dirStat ? readCache(file, key) : undefined;
  // The bundles are ASCII (scripts/ascii-bundle.mjs): latin1 decodes them as UTF-8 would, cheaper.
  const bytes = readFileSync(bundle);
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  if (makeCache) {
    process.once('exit', () => {
      try {
        const data = script.createCachedData();
        // Replaced when this run compiled clearly more (a short `serve --help` must not stay the cache).
        if (!cachedData || script.cachedDataRejected || data.length > cachedData.length * GROWN) writeCache(file, key, data);
      } catch {
        // no cache this time
      }
    });
  }
  const module = new Module(bundle, parent);
  // Code from a cache cannot import() by itself in Node 20: the bundle calls this instead (scripts/cli-imports.mjs).
  module.isartorImport = (specifier) => import(specifier);
  module.filename = bundle;
  module.paths = Module._nodeModulePaths(dirname(bundle));
  require.cache[bundle] = module;
  try {
    script.runInThisContext().call(module.exports, module.exports, Module.createRequire(bundle), module, bundle, dirname(bundle));
  } catch (error) {
    // As require does: a module that threw is not kept.
    delete require.cache[bundle];
    throw error;
  }
  module.loaded = true;
  return module.exports;
}

module.exports = { runWithCodeCache, cacheDir, cacheFile, cacheKey, HEADER_BYTES };
