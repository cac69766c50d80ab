/**
 * `isartor serve` configured for Azure by its environment (AZURE_OPENAI_API_KEY + AZURE_OPENAI_ENDPOINT)
 * in front of a fake upstream, as the Azure tests of the installed CLI need it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');

/** The key serve is given in AZURE_OPENAI_API_KEY. */
export const AZURE_ENV_KEY = 'azure-env-key-0123456789';
/** The API version serve is configured with (AZURE_OPENAI_API_VERSION). */
const CONFIGURED_API_VERSION = '2024-10-21';

export interface AzureServe {
  fake: FakeUpstream;
  proxyUrl: string;
  close(): Promise<void>;
}

/** Starts a fake upstream and `isartor serve` with only the Azure variables set (none of the user's own settings leak in). */
export async function startAzureServe(): Promise<AzureServe> {
  const fake = await startFakeUpstream();
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-azure-'));
  const env: NodeJS.ProcessEnv = { ...process.env, AZURE_OPENAI_API_KEY: AZURE_ENV_KEY, AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_API_VERSION: CONFIGURED_API_VERSION };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_DEPLOYMENT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_HOST', 'ISARTOR_STORE_URL']) delete env[name];
  const serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: serve.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  const proxyUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
  return {
    fake,
    proxyUrl,
    async close() {
      if (serve.exitCode === null) {
        serve.kill('SIGTERM');
        await once(serve, 'exit');
      }
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
