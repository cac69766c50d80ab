/**
 * A throw-away Debian `redis-server` on a free loopback port with no persistence, and `isartor
 * serve` replicas pointed at it, for the shared-cache tests. Everything is stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../e2e/freePort';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts redis-server; `port` reuses a port (a restart after `kill()`). */
export async function startRedis(port?: number): Promise<TestRedis> {
  const chosen = port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'isartor-redis-'));
  const child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('error', (error) => reject(new Error(`redis-server did not start (apt-get install redis-server): ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  await ready;
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  return { port: chosen, url: `redis://127.0.0.1:${chosen}`, child, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

export interface Replica {
  /** e.g. "http://127.0.0.1:41234". */
  readonly url: string;
  readonly child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** The environment without real keys or a developer's own Isartor settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_STORE_URL']) delete env[name];
  return env;
}

/** Spawns `isartor serve --store …` on a free port (own data dir) and waits for its ready line. */
export async function startReplica(args: string[]): Promise<Replica> {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-replica-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`isartor exited with ${code} before it was ready: ${stderr}`);
  });
  const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
  lines.close();
  const match = /^isartor listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(line);
  if (!match) throw new Error(`unexpected ready line: ${line}`);
  return {
    url: match[1]!,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const done = once(child, 'exit');
        child.kill('SIGTERM');
        await done;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
