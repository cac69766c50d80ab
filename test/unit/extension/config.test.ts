import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_PORT, DEFAULT_PROVIDERS, readSettings, toEngineConfig } from '../../../src/extension/config';
import type { SettingsSource } from '../../../src/extension/config';
import { defaultConfig } from '../../../src/core/config';

/** Settings as VS Code's `getConfiguration('isartor')` returns them: flat dotted keys. */
function source(values: Record<string, unknown>): SettingsSource {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

describe('readSettings', () => {
  it('falls back to the defaults when nothing is set', () => {
    const settings = readSettings(source({}));
    assert.equal(settings.port, DEFAULT_PORT);
    assert.equal(settings.storage, 'workspace');
    assert.deepEqual(settings.layers, { exact: true, semantic: true, local: true, optimiser: true });
    assert.deepEqual(settings.providers, DEFAULT_PROVIDERS);
    assert.equal(settings.providersCustomised, false);
    assert.deepEqual(settings.models, []);
    assert.deepEqual(settings.problems, []);
    // The settings UI shows package.json's defaults; they must be the engine's.
    const contributed = (JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
    }).contributes.configuration.properties;
    assert.equal(contributed['isartor.local.triageBudgetMs']?.default, settings.local.triageBudgetMs);
    assert.equal(contributed['isartor.local.maxAnswerTokens']?.default, settings.local.maxAnswerTokens);
    assert.equal(contributed['isartor.local.firstTokenTimeoutMs']?.default, settings.local.firstTokenTimeoutMs);
    assert.equal(contributed['isartor.local.idleTimeoutMs']?.default, settings.local.idleTimeoutMs);
    assert.equal(settings.local.firstTokenTimeoutMs, defaultConfig('').local.firstTokenTimeoutMs);
    assert.equal(settings.local.idleTimeoutMs, defaultConfig('').local.idleTimeoutMs);
    assert.equal(settings.local.triageBudgetMs, defaultConfig('').local.triageBudgetMs);
  });

  it('replaces out-of-range and mistyped values with defaults and says why', () => {
    const settings = readSettings(source({ port: 70000, storage: 'cloud', 'layers.exact': 'yes', 'exact.maxEntries': 10.5, 'semantic.threshold': 2 }));
    assert.equal(settings.port, DEFAULT_PORT);
    assert.equal(settings.storage, 'workspace');
    assert.equal(settings.layers.exact, true);
    assert.equal(settings.exact.maxEntries, 11);
    assert.equal(settings.semantic.threshold, undefined);
    assert.equal(settings.problems.length, 5);
    assert.match(settings.problems.join('\n'), /isartor\.port/);
    assert.match(settings.problems.join('\n'), /isartor\.storage/);
  });

  it('keeps valid values', () => {
    const settings = readSettings(
      source({ port: 0, storage: 'global', 'layers.semantic': false, 'exact.ttlHours': 0, 'semantic.threshold': 0.9, 'local.modelPath': ' /m/q.gguf ', 'local.backendUrl': 'http://127.0.0.1:11434/v1/' }),
    );
    assert.equal(settings.port, 0);
    assert.equal(settings.storage, 'global');
    assert.equal(settings.layers.semantic, false);
    assert.equal(settings.exact.ttlHours, 0);
    assert.equal(settings.semantic.threshold, 0.9);
    assert.equal(settings.local.modelPath, '/m/q.gguf');
    assert.equal(settings.local.backendUrl, 'http://127.0.0.1:11434/v1');
  });

  it('sanitises providers: drops secrets, bad kinds, bad URLs and duplicate names', () => {
    const settings = readSettings(
      source({
        providers: [
          { name: 'work', kind: 'openai', baseUrl: 'https://llm.example.com/v1/', apiKey: 'sk-should-never-be-used-123456' },
          { name: 'eu', kind: 'azure', baseUrl: 'https://eu.openai.azure.com', deployment: 'gpt4o' },
          { name: 'work', kind: 'anthropic', baseUrl: 'https://api.anthropic.com' },
          { name: 'odd', kind: 'gemini', baseUrl: 'https://x.example' },
          { name: 'file', kind: 'openai', baseUrl: 'file:///etc/passwd' },
          'not an object',
        ],
      }),
    );
    assert.deepEqual(settings.providers, [
      { name: 'work', kind: 'openai', baseUrl: 'https://llm.example.com/v1' },
      { name: 'eu', kind: 'azure', baseUrl: 'https://eu.openai.azure.com', apiVersion: '2024-10-21', deployment: 'gpt4o' },
    ]);
    assert.equal(settings.providersCustomised, true);
    const problems = settings.problems.join('\n');
    assert.match(problems, /providers\[0\]\.apiKey: ignored, keys belong in the secret store/);
    assert.doesNotMatch(problems, /sk-should-never/);
    assert.match(problems, /providers\[2\]: a second provider named "work"/);
    assert.match(problems, /providers\[3\]: kind must be one of/);
    assert.match(problems, /providers\[4\]: baseUrl must be an http\(s\) URL/);
    assert.match(problems, /providers\[5\]: expected an object/);
  });

  it('reads models as ids or objects and checks their provider names', () => {
    const settings = readSettings(
      source({
        providers: [{ name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' }],
        models: ['gpt-4o', { id: 'gpt-4.1', provider: 'openai', name: 'Big', maxOutputTokens: 1000 }, { id: 'x', provider: 'nobody' }, { name: 'no id' }],
      }),
    );
    assert.deepEqual(settings.models, [{ id: 'gpt-4o' }, { id: 'gpt-4.1', provider: 'openai', name: 'Big', maxOutputTokens: 1000 }, { id: 'x' }]);
    assert.equal(settings.problems.length, 2);
  });

  it('keeps well-formed price overrides only', () => {
    const settings = readSettings(source({ prices: { 'my-model': { input: 1, output: 2, cachedInput: 0.5 }, bad: { input: -1, output: 2 }, worse: 3 } }));
    assert.deepEqual(settings.prices, { 'my-model': { input: 1, output: 2, cachedInput: 0.5 } });
    assert.equal(settings.problems.length, 2);
  });
});

describe('toEngineConfig', () => {
  it('maps every setting onto the engine configuration, keys only from the key map', () => {
    const settings = readSettings(
      source({
        port: 9000,
        'layers.local': false,
        'exact.maxEntries': 50,
        'exact.ttlHours': 2,
        'semantic.threshold': 0.8,
        'local.backendUrl': 'http://127.0.0.1:11434/v1',
        'local.backendModel': 'qwen2.5:0.5b',
        'local.triageBudgetMs': 30_000,
        'local.maxAnswerTokens': 16,
        providers: [
          { name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' },
          { name: 'eu', kind: 'azure', baseUrl: 'https://eu.openai.azure.com', apiVersion: '2025-01-01' },
        ],
        models: ['gpt-4o', 'gpt-4o'],
        prices: { 'gpt-4o': { input: 2, output: 8 } },
      }),
    );
    const config = toEngineConfig(settings, '/data', new Map([['openai', 'sk-test-key']]));
    assert.equal(config.dataDir, '/data');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 9000);
    assert.equal(config.exact.enabled, true);
    assert.equal(config.exact.maxEntries, 50);
    assert.equal(config.exact.ttlSeconds, 7200);
    assert.equal(config.semantic.threshold, 0.8);
    assert.equal(config.local.enabled, false);
    assert.equal(config.local.backendUrl, 'http://127.0.0.1:11434/v1');
    assert.equal(config.local.backendModel, 'qwen2.5:0.5b', 'without it a backendUrl never turns L2 on');
    assert.equal(config.local.triageBudgetMs, 30_000);
    assert.equal(config.local.maxAnswerTokens, 16);
    assert.deepEqual(config.upstream.providers, [
      { name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-test-key' },
      { name: 'eu', kind: 'azure', baseUrl: 'https://eu.openai.azure.com', azure: { apiVersion: '2025-01-01' } },
    ]);
    assert.deepEqual(config.prices, { 'gpt-4o': { input: 2, output: 8 } });
    assert.deepEqual(config.models, ['gpt-4o']);
  });
});
