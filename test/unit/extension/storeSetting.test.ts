/**
 * `isartor.store.url` in VS Code: the URL from settings, the password only from the secret store,
 * joined into the engine's store URL; a password typed into the setting is dropped with a problem.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSettings, toEngineConfig, type SettingsSource } from '../../../src/extension/config';
import { ProviderKeys, STORE_PASSWORD_SECRET, type SecretStore } from '../../../src/extension/secrets';

function source(values: Record<string, unknown>): SettingsSource {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

function secretStore(entries: Record<string, string>): SecretStore {
  const map = new Map(Object.entries(entries));
  return { get: async (key) => map.get(key), store: async (key, value) => void map.set(key, value), delete: async (key) => void map.delete(key) };
}

test('no store URL: the engine keeps its embedded store', () => {
  const config = toEngineConfig(readSettings(source({})), '/data', new Map());
  assert.equal(config.store?.url, undefined);
});

test('the password comes from the secret store and joins the URL only in the engine config', async () => {
  const settings = readSettings(source({ 'store.url': 'rediss://team@cache.example:6380/1' }));
  assert.deepEqual(settings.problems, []);
  const keys = await new ProviderKeys(secretStore({ [STORE_PASSWORD_SECRET]: 's3cret' }), {}).all(settings.providers);
  assert.equal(toEngineConfig(settings, '/data', keys).store?.url, 'rediss://team:s3cret@cache.example:6380/1');
  assert.ok(!JSON.stringify(settings).includes('s3cret'));
});

test('a password written into the setting is dropped and reported; a bad scheme is refused', () => {
  const withPassword = readSettings(source({ 'store.url': 'redis://:typed-in@cache:6379' }));
  assert.equal(withPassword.store.url, 'redis://cache:6379');
  assert.match(withPassword.problems.join('\n'), /secret store/);
  const wrong = readSettings(source({ 'store.url': 'http://cache:6379' }));
  assert.equal(wrong.store.url, undefined);
  assert.match(wrong.problems.join('\n'), /redis:\/\//);
});
