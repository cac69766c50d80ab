/**
 * `isartor serve` configuration: precedence of defaults, config file, environment and flags; keys
 * from the environment; Azure; and clear usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError, defaultDataDir, loadServeConfig, parseServeArgs, providersWithoutKey } from '../../src/cli/serve-config';
import { tempDirUntilExit } from '../fixtures/tempDir';

test('a config file saved with a byte-order mark is read', async () => {
  const dir = tempDirUntilExit('isartor-cfg-');
  const file = join(dir, 'config.json');
  await writeFile(file, '\uFEFF{ "port": 9001 }');
  assert.equal((await loadServeConfig({ configFile: file, dataDir: dir }, {})).port, 9001);
});

test('empty --host, --data-dir and --port are usage errors, and --port wins over a bad ISARTOR_PORT', async () => {
  assert.throws(() => parseServeArgs(['--host', '']), /--host must not be empty/);
  assert.throws(() => parseServeArgs(['--data-dir', '']), /--data-dir must not be empty/);
  assert.throws(() => parseServeArgs(['--port', '']), /--port must be a port number/);
  assert.equal((await loadServeConfig(parseServeArgs(['--port', '0']), { ISARTOR_PORT: 'abc' })).port, 0);
  await assert.rejects(loadServeConfig(parseServeArgs([]), { ISARTOR_PORT: 'abc' }), /ISARTOR_PORT must be a port number/);
});

test('flags parse and bad ones are usage errors', () => {
  assert.deepEqual(parseServeArgs(['--port', '0', '--upstream', 'http://127.0.0.1:9/v1']), { port: 0, upstream: 'http://127.0.0.1:9/v1' });
  assert.throws(() => parseServeArgs(['--port', '70000']), UsageError);
  assert.throws(() => parseServeArgs(['--bogus']), UsageError);
  assert.throws(() => parseServeArgs(['--anthropic-upstream', 'not a url']), UsageError);
  assert.throws(() => parseServeArgs(['positional']), UsageError);
});

test('the default data dir follows XDG_DATA_HOME', () => {
  assert.equal(defaultDataDir({ XDG_DATA_HOME: '/x/data' }, '/home/u'), '/x/data/isartor');
  assert.equal(defaultDataDir({}, '/home/u'), '/home/u/.local/share/isartor');
});

test('config file < environment < flags, and env keys land on their providers', async () => {
  const dir = tempDirUntilExit('isartor-cfg-');
  const file = join(dir, 'config.json');
  await writeFile(file, '// comments are fine\n{ "port": 9000, "exact": { "maxEntries": 5 }, "models": ["m1"], "semantic": { "threshold": 0.9 }, }');
  const env = { ISARTOR_PORT: '9100', OPENAI_API_KEY: 'sk-env', ANTHROPIC_API_KEY: 'sk-ant-env', ISARTOR_DATA_DIR: join(dir, 'data') };
  const fromEnv = await loadServeConfig(parseServeArgs(['--config', file]), env);
  assert.equal(fromEnv.port, 9100);
  assert.equal(fromEnv.exact.maxEntries, 5);
  assert.equal(fromEnv.exact.ttlSeconds, 7 * 24 * 3600, 'unset keys keep their defaults');
  assert.deepEqual(fromEnv.models, ['m1']);
  assert.equal(fromEnv.semantic.threshold, 0.9);
  assert.equal(fromEnv.dataDir, join(dir, 'data'));
  assert.deepEqual(fromEnv.upstream.providers.map((p) => [p.kind, p.apiKey]), [['openai', 'sk-env'], ['anthropic', 'sk-ant-env']]);
  const fromFlags = await loadServeConfig(parseServeArgs(['--config', file, '--port', '0', '--upstream', 'http://127.0.0.1:5/v1', '--data-dir', dir]), env);
  assert.equal(fromFlags.port, 0);
  assert.equal(fromFlags.dataDir, dir);
  assert.equal(fromFlags.upstream.providers[0]!.baseUrl, 'http://127.0.0.1:5/v1');
});

test('an environment key goes only to its vendor: the first provider of its kind and that origin', async () => {
  const dir = tempDirUntilExit('isartor-cfg-');
  const file = join(dir, 'config.json');
  await writeFile(file, JSON.stringify({
    upstream: {
      providers: [
        { name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' },
        { name: 'otherVendor', kind: 'openai', baseUrl: 'https://api.other.example/v1' },
        { name: 'openaiAgain', kind: 'openai', baseUrl: 'https://api.openai.com/v1/' },
        { name: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com' },
        { name: 'anthropicCompatible', kind: 'anthropic', baseUrl: 'https://anthropic.other.example' },
        { name: 'ownKey', kind: 'anthropic', baseUrl: 'https://third.example', apiKey: 'sk-own' },
      ],
    },
  }));
  const config = await loadServeConfig({ configFile: file, dataDir: dir }, { OPENAI_API_KEY: 'sk-openai', ANTHROPIC_API_KEY: 'sk-ant' });
  assert.deepEqual(config.upstream.providers.map((p) => [p.name, p.apiKey]), [
    ['openai', 'sk-openai'],
    ['otherVendor', undefined],
    ['openaiAgain', 'sk-openai'],
    ['anthropic', 'sk-ant'],
    ['anthropicCompatible', undefined],
    ['ownKey', 'sk-own'],
  ]);
  assert.deepEqual(providersWithoutKey(config.upstream.providers).map((p) => p.name), ['otherVendor', 'anthropicCompatible']);
});

test('Azure from the environment goes first when there is no OpenAI key, else after OpenAI', async () => {
  const azureEnv = { AZURE_OPENAI_API_KEY: 'az', AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com', AZURE_OPENAI_API_VERSION: '2025-01-01' };
  const alone = await loadServeConfig({ dataDir: '/tmp/x' }, azureEnv);
  assert.deepEqual(alone.upstream.providers.map((p) => p.kind), ['azure', 'openai', 'anthropic']);
  assert.deepEqual(alone.upstream.providers[0]!.azure, { apiVersion: '2025-01-01' });
  const both = await loadServeConfig({ dataDir: '/tmp/x' }, { ...azureEnv, OPENAI_API_KEY: 'sk' });
  assert.deepEqual(both.upstream.providers.map((p) => p.kind), ['openai', 'anthropic', 'azure']);
});

test('unknown, mistyped or unreadable config is a usage error naming the setting', async () => {
  const dir = tempDirUntilExit('isartor-cfg-');
  const check = async (text: string, message: RegExp): Promise<void> => {
    const file = join(dir, `c${Math.random()}.json`);
    await writeFile(file, text);
    await assert.rejects(loadServeConfig({ configFile: file, dataDir: dir }, {}), (error: unknown) => error instanceof UsageError && message.test(error.message));
  };
  await check('{ "exact": { "maxEntries": "many" } }', /exact\.maxEntries must be a number/);
  await check('{ "exact": { "maxEntires": 5 } }', /unknown setting "exact\.maxEntires"/);
  await check('{ "upstream": { "providers": [{ "name": "x", "kind": "gemini", "baseUrl": "http://a" }] } }', /kind must be/);
  await check('{ "prices": { "m": { "input": "cheap" } } }', /prices\.m needs numeric/);
  await check('{ "port": ', /not valid JSON/);
  // The right type but no possible value: refused at start, naming the setting, not at every request.
  await check('{ "maxBodyBytes": -1 }', /maxBodyBytes must be a positive whole number of bytes \(got -1\)/);
  await check('{ "upstream": { "retries": -1 } }', /upstream\.retries must be a whole number, 0 or more/);
  await check('{ "upstream": { "timeoutMs": -100 } }', /upstream\.timeoutMs must be a positive number/);
  await check('{ "semantic": { "threshold": 5 } }', /semantic\.threshold must be a cosine similarity above 0 and at most 1/);
  await check('{ "semantic": { "maxEntries": -1 } }', /semantic\.maxEntries must be a positive whole number/);
  await check('{ "exact": { "maxEntries": 1.5 } }', /exact\.maxEntries must be a positive whole number/);
  await check('{ "local": { "confidence": -2 } }', /local\.confidence must be a number from 0 to 1/);
  await check('{ "port": 70000 }', /port must be a port number from 0 to 65535/);
  await check('{ "semantic": { "embedder": "bogus" } }', /semantic\.embedder must be "lexical" or "transformers"/);
  await check('{ "local": { "backendUrl": "notaurl" } }', /local\.backendUrl must be an http\(s\) URL/);
  // Names every object has are not settings.
  await check('{ "exact": { "constructor": 1 } }', /unknown setting "exact\.constructor"/);
  await assert.rejects(loadServeConfig({ configFile: join(dir, 'missing.json'), dataDir: dir }, {}), /cannot read config file/);
});

test('allowed browser origins come from the config file and --allow-origin; anything else is a usage error', async () => {
  const dir = tempDirUntilExit('isartor-cfg-');
  const file = join(dir, 'config.json');
  await writeFile(file, '{ "security": { "allowedOrigins": ["http://localhost:5173"] }, "upstream": { "firstByteTimeoutMs": 20000, "idleTimeoutMs": 60000 } }');
  const config = await loadServeConfig(parseServeArgs(['--config', file, '--allow-origin', 'https://tool.example', '--allow-origin', 'http://127.0.0.1:3000/']), {});
  assert.deepEqual(config.security.allowedOrigins, ['http://localhost:5173', 'https://tool.example', 'http://127.0.0.1:3000']);
  assert.equal(config.upstream.firstByteTimeoutMs, 20_000);
  assert.equal(config.upstream.idleTimeoutMs, 60_000);
  assert.deepEqual((await loadServeConfig(parseServeArgs([]), {})).security.allowedOrigins, [], 'empty by default');
  assert.throws(() => parseServeArgs(['--allow-origin', 'http://localhost:5173/path']), /must be an origin/);
  assert.throws(() => parseServeArgs(['--allow-origin', '*']), /must be an origin/);
  await writeFile(file, '{ "security": { "allowedOrigins": "http://localhost:5173" } }');
  await assert.rejects(loadServeConfig(parseServeArgs(['--config', file]), {}), /security\.allowedOrigins must be an array/);
});

test('allowed host names come from the config file, ISARTOR_ALLOW_HOSTS and --allow-host; anything else is a usage error', async () => {
  const dir = tempDirUntilExit('isartor-cfg-');
  const file = join(dir, 'config.json');
  await writeFile(file, '{ "security": { "allowedHosts": ["LB.example.com."] } }');
  const env = { ISARTOR_ALLOW_HOSTS: ' .corp.example, ,isartor ' };
  const config = await loadServeConfig(parseServeArgs(['--config', file, '--allow-host', 'proxy.example.com', '--allow-host', 'isartor']), env);
  assert.deepEqual(config.security.allowedHosts, ['lb.example.com', '.corp.example', 'isartor', 'proxy.example.com']);
  assert.deepEqual((await loadServeConfig(parseServeArgs([]), {})).security.allowedHosts, [], 'empty by default');
  for (const bad of ['*', 'http://proxy.example.com', 'proxy.example.com:8787', 'proxy.example.com/x', '.', '', 'a..b']) {
    assert.throws(() => parseServeArgs(['--allow-host', bad]), /--allow-host must be a host name/, bad);
  }
  await assert.rejects(loadServeConfig(parseServeArgs([]), { ISARTOR_ALLOW_HOSTS: 'ok.example,https://bad.example' }), /ISARTOR_ALLOW_HOSTS must be a host name .*"https:\/\/bad\.example"/);
  await writeFile(file, '{ "security": { "allowedHosts": "lb.example.com" } }');
  await assert.rejects(loadServeConfig(parseServeArgs(['--config', file]), {}), /security\.allowedHosts must be an array/);
  await writeFile(file, '{ "security": { "allowedHosts": ["lb.example.com:80"] } }');
  await assert.rejects(loadServeConfig(parseServeArgs(['--config', file]), {}), /security\.allowedHosts must be a host name/);
});
