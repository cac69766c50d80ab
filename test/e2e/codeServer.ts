/** Runs code-server (VS Code 1.117 on Node 22) as a child process group: extension installs, start, stop. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { CODE_SERVER_ENTRY, NODE22_BIN } from './paths';

/** The folders one code-server instance owns; all of them live in the test's temporary folder. */
export interface CodeServerDirs {
  /** Becomes HOME, so ~/.continue and ~/.claude are the test's sample files. */
  home: string;
  userDataDir: string;
  extensionsDir: string;
  /** code-server's own config file; without it code-server writes one into ~/.config. */
  configFile: string;
  /** Every line code-server prints goes here, for diagnosing a failed run. */
  logFile: string;
  /** Extra environment for the editor (and so the extension host), e.g. HF_ENDPOINT of a fake hub. */
  env?: Record<string, string>;
}

export interface RunningCodeServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  process: ChildProcess;
  /** Ends the whole process group (server, extension host, pty host) and waits for the server to exit. */
  stop(): Promise<void>;
  /** Kills the whole process group at once (kill -9): no extension gets to deactivate. */
  kill(): Promise<void>;
}

/** The environment code-server sees: HOME moved, and nothing inherited that could steer it elsewhere. */
function codeServerEnv(dirs: CodeServerDirs): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // A VS Code terminal running the tests leaks its IPC hooks; the user's real API keys and base
    // URLs must neither reach a test upstream nor change where the tools under test point.
    if (/^(VSCODE_|ELECTRON_|OPENAI_|ANTHROPIC_|AZURE_OPENAI_|npm_)/.test(key) || /_API_KEY$/.test(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: `${dirs.home}/.config`,
    XDG_DATA_HOME: `${dirs.home}/.local/share`,
    XDG_CACHE_HOME: `${dirs.home}/.cache`,
    ...dirs.env,
  };
}

function commonArgs(dirs: CodeServerDirs): string[] {
  return ['--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir, '--config', dirs.configFile];
}

/** Installs each .vsix with code-server's own CLI, as a user would; throws with its output on failure. */
export function installExtensions(dirs: CodeServerDirs, vsixFiles: string[]): void {
  const args = [CODE_SERVER_ENTRY, ...commonArgs(dirs), ...vsixFiles.flatMap((file) => ['--install-extension', file]), '--force'];
  const result = spawnSync(NODE22_BIN, args, { env: codeServerEnv(dirs), encoding: 'utf8', timeout: 120_000 });
  appendFileSync(dirs.logFile, `$ code-server --install-extension ...\n${result.stdout}${result.stderr}\n`);
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0 || /Failed Installing|error/i.test(output)) {
    throw new Error(`code-server --install-extension failed (exit ${result.status ?? result.signal}):\n${output}`);
  }
}

/**
 * Starts code-server on a free loopback port and resolves once it is listening. Runs in its own
 * process group so `stop()` ends the extension host too, and a crashed test leaves nothing behind.
 */
export async function startCodeServer(dirs: CodeServerDirs, workspace: string, port = 0): Promise<RunningCodeServer> {
  const args = [
    CODE_SERVER_ENTRY,
    ...commonArgs(dirs),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    workspace,
  ];
  const child = spawn(NODE22_BIN, args, { env: codeServerEnv(dirs), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  // A test process that dies mid-run must not leave an editor running.
  process.once('exit', killGroup);

  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      appendFileSync(dirs.logFile, text);
      seen += text;
      const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`code-server exited before listening (${code ?? signal}); see ${dirs.logFile}\n${seen.slice(-2000)}`)));
  });

  return {
    url,
    process: child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      killGroup();
      await exited;
      process.removeListener('exit', killGroup);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(killGroup, 10_000);
      await exited;
      clearTimeout(timer);
      // Children that ignored SIGTERM (a stuck extension host) go with the group.
      killGroup();
      process.removeListener('exit', killGroup);
    },
  };
}
