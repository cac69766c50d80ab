import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_PROVIDERS, LAYER_SWITCHES, readSettings } from '../../../src/extension/config';
import type { ProviderSetting } from '../../../src/extension/config';
import { layerSettingValue, providersAfterAdd } from '../../../src/extension/settingWrites';

const custom: ProviderSetting = { name: 'custom', kind: 'openai', baseUrl: 'http://127.0.0.1:8080/v1' };

describe('providersAfterAdd', () => {
  it('puts an "Other OpenAI-compatible" provider first, ahead of the built-in OpenAI and Anthropic', () => {
    const providers = providersAfterAdd('compatible', custom, DEFAULT_PROVIDERS);
    assert.deepEqual(providers.map((p) => p.name), ['custom', ...DEFAULT_PROVIDERS.map((p) => p.name)]);
    // The order the engine falls back in is the order the settings list them.
    const settings = readSettings({ get: <T>(key: string) => (key === 'providers' ? providers : undefined) as T | undefined });
    assert.equal(settings.providers[0]?.name, 'custom');
  });

  it('appends the other kinds after the providers already listed', () => {
    const azure: ProviderSetting = { name: 'azure', kind: 'azure', baseUrl: 'https://r.openai.azure.com' };
    assert.deepEqual(providersAfterAdd('azure', azure, DEFAULT_PROVIDERS).map((p) => p.name), [...DEFAULT_PROVIDERS.map((p) => p.name), 'azure']);
  });
});

describe('layerSettingValue', () => {
  const contributed = (JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
  }).contributes.configuration.properties;

  it('removes the setting when a panel switch lands on the contributed default, for every layer', () => {
    for (const layer of LAYER_SWITCHES) {
      const defaultValue = contributed[`isartor.layers.${layer}`]?.default;
      assert.equal(typeof defaultValue, 'boolean', `isartor.layers.${layer} has a boolean default`);
      assert.equal(layerSettingValue(defaultValue as boolean, defaultValue as boolean), undefined, layer);
      assert.equal(layerSettingValue(defaultValue as boolean, !defaultValue), !defaultValue, layer);
    }
  });
});
