/**
 * Other OpenAI-compatible gateways for `isartor bench overhead --peers "<command>"`: each command
 * is started by the shell with `{port}` and `{upstream}` filled in (also as $PORT and $UPSTREAM),
 * and gets the same miss load as the proxy once its port answers. A command that is not installed
 * or never listens is skipped with one line on stderr; the run goes on without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';

/** A peer gateway that is up, with the base URL its OpenAI routes hang off. */
export interface Peer {
  /** `peer:<first word of the command>` (numbered when two commands share it). */
  readonly name: string;
  readonly command: string;
  readonly baseUrl: string;
  /** The shell's pid, which is also the id of the process group the gateway runs in. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** How long a peer may take to start listening. */
const START_TIMEOUT_MS = 30_000;

/** A free loopback port (the peer binds it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Stops the peer's whole process group (the shell and what it started). */
function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  }
  return exited;
}

/**
 * Starts `command` as a peer against the fake upstream at `upstreamUrl`; undefined (after
 * printing why) when it cannot be run or does not listen in time.
 *
 * @example const peer = await startPeer('my-gateway --port {port} --target {upstream}', fakeUrl, usedNames);
 */
export async function startPeer(command: string, upstreamUrl: string, usedNames: Set<string>): Promise<Peer | undefined> {
  const port = await freePort();
  const expanded = command.replaceAll('{port}', String(port)).replaceAll('{upstream}', upstreamUrl);
  const child = spawn(expanded, { shell: true, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PORT: String(port), UPSTREAM: upstreamUrl } });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-400)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!gone && Date.now() < deadline && !(await accepts(port))) await new Promise((resolve) => setTimeout(resolve, 100));
  if (gone || Date.now() >= deadline) {
    await stopGroup(child, exited);
    const why = gone ? `it exited (${child.exitCode === 127 ? 'not installed' : `status ${child.exitCode}`})${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}` : `nothing listened on port ${port} within ${START_TIMEOUT_MS / 1000} s`;
    process.stderr.write(`bench overhead: peer "${command}" skipped: ${why}\n`);
    return undefined;
  }
  const base = `peer:${command.trim().split(/\s+/)[0]!.split('/').pop()}`;
  let name = base;
  for (let n = 2; usedNames.has(name); n++) name = `${base}-${n}`;
  usedNames.add(name);
  return { name, command, baseUrl: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopGroup(child, exited) };
}
