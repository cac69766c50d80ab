/**
 * `isartor stats` next to a running writer: it opens the ledger read-only, so it neither cuts a
 * line the writer is half-way through, nor rolls, creates or deletes any file in the data dir.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLedger } from '../../src/core/ledger';
import type { LedgerRecord } from '../../src/core/ledger-types';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-stats-ro-'));
});
after(() => rm(root, { recursive: true, force: true }));

function record(layer: LedgerRecord['layer']): LedgerRecord {
  return { time: Date.UTC(2025, 0, 2), tool: 'continue', routeId: 'default', api: 'openai.chat', model: 'gpt-4o', layer, status: 200, inputTokens: 100, outputTokens: 20, cachedInputTokens: 0, latencyMs: 5, savedTokens: layer === 'l1a' ? 120 : 0, savedUsd: 0, estimated: false };
}

async function stats(dataDir: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.ISARTOR_DATA_DIR;
  const child = spawn(process.execPath, [BIN, 'stats', '--data-dir', dataDir, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}

/** Every file in a folder with its bytes and modification time. */
async function snapshot(dir: string): Promise<Map<string, { bytes: Buffer; mtimeMs: number }>> {
  const files = new Map<string, { bytes: Buffer; mtimeMs: number }>();
  for (const name of (await readdir(dir)).sort()) files.set(name, { bytes: await readFile(join(dir, name)), mtimeMs: (await stat(join(dir, name))).mtimeMs });
  return files;
}

test('stats reads what a running writer flushed and changes no file, not even its half-written line', async () => {
  const dataDir = join(root, 'data');
  const writer = await openLedger(dataDir, { maxRecords: 2 });
  try {
    // Three records with maxRecords 2: the writer has rolled once, so a snapshot file exists too.
    for (const layer of ['l3', 'l1a', 'l1a'] as const) writer.record(record(layer));
    await writer.flush();
    await appendFile(join(dataDir, 'ledger.jsonl'), '{"time":1,"tool":"cont'); // the writer mid-append
    const before = await snapshot(dataDir);

    const run = await stats(dataDir);
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { totals: { requests: number }; byLayer: Record<string, { requests: number }> };
    assert.equal(summary.totals.requests, 3);
    assert.equal(summary.byLayer.l1a?.requests, 2);
    assert.deepEqual(await snapshot(dataDir), before, 'every file byte- and mtime-identical, none added or removed');
  } finally {
    await writer.close();
  }
});

test('stats on a data dir that does not exist prints zeros and creates nothing', async () => {
  const missing = join(root, 'nothing-here');
  const run = await stats(missing);
  assert.equal(run.status, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as { totals: { requests: number } }).totals.requests, 0);
  assert.equal(existsSync(missing), false);
});
