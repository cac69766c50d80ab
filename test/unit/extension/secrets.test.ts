import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProviderSetting } from '../../../src/extension/config';
import { envVariableFor, ProviderKeys, secretKeyFor } from '../../../src/extension/secrets';
import type { SecretStore } from '../../../src/extension/secrets';

class MapSecrets implements SecretStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

const openai: ProviderSetting = { name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' };
const compatible: ProviderSetting = { name: 'my-llm', kind: 'openai', baseUrl: 'https://llm.example.com/v1' };

describe('ProviderKeys', () => {
  it('prefers the secret store, then ISARTOR_API_KEY_<NAME>, then the vendor variable', async () => {
    const secrets = new MapSecrets();
    const env = { OPENAI_API_KEY: 'sk-env', ISARTOR_API_KEY_OPENAI: 'sk-explicit' };
    const keys = new ProviderKeys(secrets, env);
    assert.equal(await keys.get(openai), 'sk-explicit');
    assert.equal(await new ProviderKeys(secrets, { OPENAI_API_KEY: 'sk-env' }).get(openai), 'sk-env');
    await keys.set('openai', '  sk-stored\n');
    assert.equal(secrets.values.get(secretKeyFor('openai')), 'sk-stored');
    assert.equal(await keys.get(openai), 'sk-stored');
  });

  it('never sends a vendor key from the environment to another host', async () => {
    const keys = new ProviderKeys(new MapSecrets(), { OPENAI_API_KEY: 'sk-env' });
    assert.equal(await keys.get(compatible), undefined);
    assert.equal(envVariableFor('my-llm'), 'ISARTOR_API_KEY_MY_LLM');
    assert.equal(await new ProviderKeys(new MapSecrets(), { ISARTOR_API_KEY_MY_LLM: 'k' }).get(compatible), 'k');
  });

  it('deletes a key when set to empty, and lists keys by provider', async () => {
    const secrets = new MapSecrets();
    const keys = new ProviderKeys(secrets, {});
    await keys.set('my-llm', 'k1');
    assert.deepEqual([...(await keys.all([openai, compatible])).entries()], [['my-llm', 'k1']]);
    await keys.set('my-llm', '   ');
    assert.equal(secrets.values.size, 0);
  });
});
