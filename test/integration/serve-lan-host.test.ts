/**
 * `isartor serve --host 0.0.0.0` keeps the Host check: DNS rebinding (a name of the attacker's made
 * to resolve to this machine) is refused, while requests addressed to an IP address, this
 * machine's name or a name given with `--allow-host` pass. The clients are the official SDKs, with
 * a resolver that sends every name to 127.0.0.1 as a rebinding attacker's DNS would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { Agent } from 'undici';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
const ENV_KEY = 'sk-env-key-for-the-default-route';

let fake: FakeUpstream;
let dataDir: string;
let serve: ChildProcess;
let port: number;
let stderr = '';
/** Resolves every host name to 127.0.0.1: what DNS does for a rebinding attacker's name. */
const everyNameIsHere = new Agent({
  connect: { lookup: (_name, options, callback) => (options?.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)) },
});

function openaiAt(host: string): OpenAI {
  return new OpenAI({ apiKey: 'sk-client-key', baseURL: `http://${host}:${port}/v1`, maxRetries: 0, fetchOptions: { dispatcher: everyNameIsHere } as never });
}

function anthropicAt(host: string): Anthropic {
  return new Anthropic({ apiKey: 'sk-ant-client-key', baseURL: `http://${host}:${port}`, maxRetries: 0, fetchOptions: { dispatcher: everyNameIsHere } as never });
}

function getAt(host: string, path: string): Promise<Response> {
  return fetch(`http://${host}:${port}${path}`, { dispatcher: everyNameIsHere } as RequestInit);
}

before(async () => {
  fake = await startFakeUpstream();
  dataDir = await mkdtemp(join(tmpdir(), 'isartor-lan-'));
  const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: ENV_KEY };
  for (const name of ['ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_HOST', 'ISARTOR_ALLOW_HOSTS']) delete env[name];
  serve = spawn(process.execPath, [
    BIN, 'serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', dataDir, '--upstream', fake.openaiBase, '--anthropic-upstream', fake.anthropicBase,
    '--allow-host', 'proxy.example.test', '--allow-host', '.corp.example',
  ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  serve.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: serve.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  port = Number(/listening on http:\/\/0\.0\.0\.0:(\d+)/.exec(line)![1]);
});

after(async () => {
  if (serve && serve.exitCode === null) {
    serve.kill('SIGTERM');
    await once(serve, 'exit');
  }
  await everyNameIsHere.close();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('the start-up warning names --allow-host for other DNS names', () => {
  assert.match(stderr, /listening on 0\.0\.0\.0, not loopback: .*--allow-host NAME/);
});

test('a rebinding name gets 403 in each API\'s shape, and neither stats nor metrics', async () => {
  fake.reset();
  const openaiRefusal = await openaiAt('attacker.example').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Spend the key?' }] }).then(
    () => assert.fail('answered a rebinding name'),
    (error: unknown) => error,
  );
  assert.ok(openaiRefusal instanceof OpenAI.APIError);
  assert.equal(openaiRefusal.status, 403);
  assert.equal(openaiRefusal.code, 'forbidden_origin');
  assert.match(openaiRefusal.message, /IP address, localhost or this machine's name \(this one was for "attacker\.example"\).*--allow-host/);
  const anthropicRefusal = await anthropicAt('attacker.example').messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Spend the key?' }] }).then(
    () => assert.fail('answered a rebinding name'),
    (error: unknown) => error,
  );
  assert.ok(anthropicRefusal instanceof Anthropic.APIError);
  assert.equal(anthropicRefusal.status, 403);
  assert.equal((anthropicRefusal.error as { type?: string }).type, 'error', 'the Anthropic error shape');
  for (const path of ['/isartor/stats', '/metrics', '/isartor/']) {
    const response = await getAt('attacker.example', path);
    assert.equal(response.status, 403, path);
    assert.match(await response.text(), /--allow-host/, path);
  }
  for (const host of ['corp.example.attacker.example', 'evilcorp.example', `${hostname()}.attacker.example`]) {
    assert.equal((await getAt(host, '/isartor/stats')).status, 403, host);
  }
  assert.equal(fake.requests.length, 0, 'nothing reached the upstream');
});

test('an IP address, this machine\'s name and names given with --allow-host pass', async () => {
  fake.reset();
  for (const host of ['127.0.0.1', hostname(), 'proxy.example.test', 'lb.corp.example', 'corp.example']) {
    const answer = await openaiAt(host).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Addressed to ${host}?` }] });
    assert.match(answer.choices[0]!.message.content ?? '', new RegExp(`to: Addressed to ${host.replace(/[[\].]/g, '\\$&')}`), host);
    assert.equal((await getAt(host, '/isartor/stats')).status, 200, host);
  }
  const message = await anthropicAt('proxy.example.test').messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Allowed?' }] });
  assert.equal(message.type, 'message');
  assert.equal(fake.requests.length, 6);
});
