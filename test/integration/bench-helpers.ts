/**
 * Shared by the bench integration tests: runs the built `isartor` command to its end, without the
 * developer's provider keys or ISARTOR_* settings.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');

/** Runs the CLI to its end; stdout and stderr are collected. */
export async function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^ISARTOR_|_API_KEY$/.test(name)) delete env[name];
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}

