/**
 * Runs parts of a benchmark in their own Node processes through the `isartor` command itself, so
 * the proxy, the baseline and the fake upstream each get their own event loop (as they would on a
 * user's machine) and a memory figure belongs to one process alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { percentile } from './stats';

/**
 * The repository (or installed package) root: the first folder above this module that holds
 * bin/isartor.js and a built dist/cli.js (this module sits in src/bench from source, in dist when bundled).
 */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'isartor.js')) && existsSync(join(dir, 'dist', 'cli.js'))) return dir;
    if (dirname(dir) === dir) throw new Error('cannot find bin/isartor.js with a built dist/cli.js above this module; run `npm run build`');
  }
}

/** The path of bin/isartor.js; children run the built CLI, so `npm run build` must have run. */
export function cliEntry(): string {
  return join(packageRoot(), 'bin', 'isartor.js');
}

/** `isartor serve`'s ready line; its first group is the URL it listens on. */
export const SERVE_READY = /^isartor listening on (http:\S+) /;
/** The ready line of a bench helper process (`bench overhead --child fake-upstream | pass-through`). */
export const BENCH_CHILD_READY = /^bench (?:fake-upstream|pass-through) on (http:\S+)$/;

export interface CliChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The first stdout line that matched, with its capture groups. */
  readonly ready: RegExpExecArray;
  /** Further stdout lines, in order. */
  readonly lines: AsyncIterator<string>;
  /** What the child wrote to stderr so far, when spawned with `stderr: "collect"`. */
  stderrText(): string;
  /** Resolves with the exit code (null after a signal) once the child has exited by itself. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit; resolves with the exit code (null after a signal). */
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  /** Extra node flags, e.g. "--expose-gc". */
  nodeFlags?: string[];
  env?: NodeJS.ProcessEnv;
  /** Working folder of the child (default: this process's). */
  cwd?: string;
  /**
   * Where the child's stderr goes: "inherit" shows its progress bar; "collect" keeps it for
   * `stderrText()` (children running side by side would garble each other's bars).
   */
  stderr?: 'inherit' | 'collect';
}

/**
 * Spawns `node bin/isartor.js …args` and resolves once a stdout line matches `readyLine`. Rejects
 * (and kills the child) if it exits first.
 *
 * @example const serve = await spawnCli(['serve', '--port', '0'], /listening on (\S+)/); serve.ready[1] // URL
 */
export async function spawnCli(args: readonly string[], readyLine: RegExp, options: SpawnOptions = {}): Promise<CliChild> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), cliEntry(), ...args], {
    stdio: ['ignore', 'pipe', options.stderr === 'collect' ? 'pipe' : 'inherit'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  let stderrText = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderrText += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ready = await (async () => {
    for (;;) {
      const next = await Promise.race([lines.next(), exited.then(() => undefined)]);
      if (next === undefined || next.done) {
        child.kill('SIGKILL');
        const status = await exited;
        throw new Error(`isartor ${args.join(' ')} exited (status ${status}) before it was ready${stderrText ? `:\n${stderrText.slice(-2000)}` : ''}`);
      }
      const match = readyLine.exec(next.value);
      if (match) return match;
    }
  })();
  let stopping: Promise<number | null> | undefined;
  return {
    process: child,
    pid: child.pid!,
    ready,
    lines,
    exited,
    stderrText: () => stderrText,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return exited;
      })();
      return stopping;
    },
  };
}

/**
 * The environment for a child `isartor serve`: the parent's, without provider keys and ISARTOR_*
 * settings, so a benchmark never sends a real key anywhere and runs the embedded defaults.
 */
export function benchChildEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^ISARTOR_|_API_KEY$|^AZURE_OPENAI_/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ISARTOR_LOG_LEVEL: 'warn', ...extra };
}

/**
 * Median milliseconds from spawning `node -e ""` with `env` to its exit: the part of any CLI's
 * start-up that is Node's own on this machine (its binary, its snapshot, and the certificate file
 * NODE_EXTRA_CA_CERTS names, which Node parses before any script runs: ~100-150 ms here).
 *
 * @example await bareNodeStartMs(benchChildEnv()) // 48.2
 */
export async function bareNodeStartMs(env: NodeJS.ProcessEnv, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', ''], { env, stdio: 'ignore' });
    const status = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (status !== 0) throw new Error(`node -e "" exited with status ${status}`);
    times.push(performance.now() - started);
  }
  return percentile(times, 50);
}

/**
 * Resident set size of a live process in bytes, from /proc (Linux); undefined elsewhere.
 *
 * @example await residentBytes(child.pid) // 81_264_640
 */
export async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
