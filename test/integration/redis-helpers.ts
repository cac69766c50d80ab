/**
 * A throw-away Debian `redis-server` on a free loopback port with no persistence, and `isartor
 * serve` replicas pointed at it, for the shared-cache tests. Everything is stopped by pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
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

/** PEM files of a throw-away CA and a server certificate it signed for 127.0.0.1. */
export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  remove(): Promise<void>;
}

/** Makes a CA and a 127.0.0.1 server certificate with `openssl`, valid for one day. */
export async function makeCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'isartor-tls-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    const run = spawnSync('openssl', args, { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr}`);
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Isartor test CA', '-keyout', file('ca.key'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
  await writeFile(file('san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-days', '1', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-extfile', file('san.cnf'), '-out', file('server.pem'));
  return { dir, caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server.key'), remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface RedisOptions {
  /** Reuse a port (a restart after `kill()`). */
  port?: number;
  /** Serve TLS only (no plain port), with this certificate; clients need no certificate of their own. */
  tls?: TestCertificates;
  /** `requirepass`: clients log in as `default` with this password. */
  password?: string;
  /** More redis-server arguments, e.g. `['--enable-debug-command', 'local']` for DEBUG SLEEP. */
  args?: string[];
}

/** Starts redis-server; a number reuses a port (a restart after `kill()`). */
export async function startRedis(options: number | RedisOptions = {}): Promise<TestRedis> {
  const { port, tls, password, args = [] } = typeof options === 'number' ? { port: options } : options;
  const chosen = port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'isartor-redis-'));
  const listen = tls
    ? ['--port', '0', '--tls-port', String(chosen), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no']
    : ['--port', String(chosen)];
  const auth = password === undefined ? [] : ['--requirepass', password];
  const child = spawn('redis-server', [...listen, ...auth, ...args, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  const login = password === undefined ? '' : `default:${encodeURIComponent(password)}@`;
  return { port: chosen, url: `${tls ? 'rediss' : 'redis'}://${login}127.0.0.1:${chosen}`, child, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
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
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_STORE_URL', 'NODE_EXTRA_CA_CERTS']) delete env[name];
  return env;
}

/**
 * Spawns `isartor serve --store …` on a free port (own data dir) and waits for its ready line;
 * `env` adds variables (e.g. `NODE_EXTRA_CA_CERTS`) to the cleaned environment.
 */
export async function startReplica(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Replica> {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-replica-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

export interface ReplicaAnswer {
  layer: string | null;
  text: string;
}

/**
 * Asks `replica` one chat question through the official OpenAI client, as a team member's tool
 * would; `system` adds a system message before it. `noStore` sends `Cache-Control: no-store`: a
 * miss then stores nothing over what another replica is storing.
 */
export async function askReplica(replica: Replica, content: string, options: { apiKey?: string; system?: string; noStore?: boolean } = {}): Promise<ReplicaAnswer> {
  const client = new OpenAI({ apiKey: options.apiKey ?? 'sk-team-test-key-0001', baseURL: `${replica.url}/v1`, maxRetries: 0, timeout: 20_000 });
  const messages: OpenAI.ChatCompletionMessageParam[] = options.system ? [{ role: 'system', content: options.system }, { role: 'user', content }] : [{ role: 'user', content }];
  const headers = options.noStore ? { 'cache-control': 'no-store' } : undefined;
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }, { headers }).withResponse();
  return { layer: response.headers.get('x-isartor-layer'), text: data.choices[0]?.message.content ?? '' };
}
