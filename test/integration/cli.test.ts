/**
 * The `isartor` command as a user runs it: `serve` prints one ready line, answers the OpenAI SDK,
 * serves a repeat from L1a and exits 0 on SIGTERM; bad arguments exit 2; `stats` reads the ledger.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
let fake: FakeUpstream;
let dataDir: string;

/** The environment without real keys, so a developer's own keys never reach the fake. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG']) delete env[name];
  return env;
}

before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'isartor-cli-'));
});
after(async () => {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function readyLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`isartor exited with ${code} before it was ready`);
  });
  const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
  lines.close();
  return line;
}

test('serve: ready line, an SDK request twice (second from l1a), SIGTERM exits 0', async () => {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--upstream', fake.openaiBase], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const line = await readyLine(child);
    const match = /^isartor listening on (http:\/\/127\.0\.0\.1:\d+) \(data: (.+)\)$/.exec(line);
    assert.ok(match, `unexpected ready line: ${line}`);
    assert.equal(match[2], dataDir);
    const client = new OpenAI({ apiKey: 'sk-cli-test-key-0001', baseURL: `${match[1]}/v1`, maxRetries: 0 });
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'from the cli test' }] };
    const first = await client.chat.completions.create(request).withResponse();
    const second = await client.chat.completions.create(request).withResponse();
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    assert.equal(second.response.headers.get('x-isartor-layer'), 'l1a');
    assert.deepEqual(second.data, first.data);
    assert.equal(fake.requests.length, 1);
    assert.ok(!stderr.includes('sk-cli-test-key-0001'), 'the key never reaches the log');
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
});

test('stats reads the ledger the server wrote, as a table and as JSON', () => {
  const table = spawnSync(process.execPath, [BIN, 'stats', '--data-dir', dataDir], { env: cleanEnv(), encoding: 'utf8' });
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /1 of 2 answered requests served without the cloud \(50%\)/);
  assert.match(table.stdout, /spent in the cloud/);
  assert.match(table.stdout, /^ {2}l1a\s+1\s+1/m);
  const json = spawnSync(process.execPath, [BIN, 'stats', '--data-dir', dataDir, '--json'], { env: cleanEnv(), encoding: 'utf8' });
  assert.equal(json.status, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).totals.requests, 2);
  // --data-dir asks for this ledger: a store URL exported for the proxy does not take over.
  const withStoreEnv = spawnSync(process.execPath, [BIN, 'stats', '--data-dir', dataDir, '--json'], { env: { ...cleanEnv(), ISARTOR_STORE_URL: 'redis://127.0.0.1:1' }, encoding: 'utf8' });
  assert.equal(withStoreEnv.status, 0, withStoreEnv.stderr);
  assert.equal(JSON.parse(withStoreEnv.stdout).totals.requests, 2);
});

test('bad arguments exit 2 with a message', () => {
  const cases = [
    ['serve', '--port', 'eighty'],
    ['serve', '--no-such-flag'],
    ['serve', '--upstream', 'ftp://example.com'],
    ['frobnicate'],
    ['bench'],
    ['bench', 'no-such-mode'],
  ];
  for (const args of cases) {
    const result = spawnSync(process.execPath, [BIN, ...args], { env: cleanEnv(), encoding: 'utf8' });
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /usage:/);
  }
});

test('a config file with an unknown or mistyped setting is a usage error', async () => {
  const { writeFile } = await import('node:fs/promises');
  const file = join(dataDir, 'bad.json');
  await writeFile(file, '{ "exact": { "maxEntries": "many" } }');
  const result = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--config', file], { env: cleanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /exact\.maxEntries must be a number/);
});

test('serve on a data dir it cannot create says so in words and exits 1', async () => {
  const { writeFile } = await import('node:fs/promises');
  // A file where the data dir should be: the one unusable data dir a root test run can make.
  const inTheWay = join(dataDir, 'not-a-folder');
  await writeFile(inTheWay, 'x');
  for (const target of [inTheWay, join(inTheWay, 'isartor')]) {
    const result = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', target], { env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 1, result.stderr);
    assert.ok(result.stderr.startsWith(`isartor: cannot use the data dir ${target}: a file is in the way of a folder (`), result.stderr);
    assert.match(result.stderr, /pick another with --data-dir DIR or ISARTOR_DATA_DIR\n$/);
  }
});

test('stats on a data dir that does not exist says so instead of printing zeros silently', () => {
  const missing = join(dataDir, 'no-such-data-dir');
  const result = spawnSync(process.execPath, [BIN, 'stats', '--data-dir', missing, '--json'], { env: cleanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).totals.requests, 0);
  assert.equal(result.stderr, `isartor: no data dir at ${missing}, so nothing was recorded there; \`isartor serve\` prints the one it uses\n`);
  assert.equal(spawnSync(process.execPath, [BIN, 'stats', '--data-dir', dataDir], { env: cleanEnv(), encoding: 'utf8' }).stderr, '', 'an existing data dir: no note');
});

test('serve on a host it cannot listen on says which and how to pick another, exit 1', () => {
  // 192.0.2.1 (TEST-NET-1) is never a local address; a .invalid name never resolves (RFC 6761).
  const cases: Array<[host: string, message: string]> = [
    ['192.0.2.1', 'isartor: 192.0.2.1 is not an address of this machine; pick another with --host H (default 127.0.0.1)\n'],
    ['isartor-test.invalid', 'isartor: the host name isartor-test.invalid does not resolve to an address; pick another with --host H (default 127.0.0.1)\n'],
  ];
  for (const [host, message] of cases) {
    const result = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--host', host, '--data-dir', join(dataDir, 'listen')], { env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 1, result.stderr);
    assert.ok(result.stderr.endsWith(message), result.stderr);
  }
});

test('serve on a port in use says so and how to pick another, exit 1', async () => {
  const { createServer } = await import('node:net');
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const result = spawnSync(process.execPath, [BIN, 'serve', '--port', String(port), '--data-dir', join(dataDir, 'port-taken')], { env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 1, result.stderr);
    assert.ok(result.stderr.endsWith(`isartor: port ${port} on 127.0.0.1 is already in use; pick another with --port N (or --port 0 for any free port)\n`), result.stderr);
  } finally {
    taken.close();
  }
});
