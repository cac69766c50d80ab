import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveChatModels } from '../../../src/extension/chatModels';
import type { ProviderSetting } from '../../../src/extension/config';

const openai: ProviderSetting = { name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' };
const anthropic: ProviderSetting = { name: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com' };
const azure: ProviderSetting = { name: 'eu', kind: 'azure', baseUrl: 'https://eu.openai.azure.com', apiVersion: '2024-10-21', deployment: 'gpt-4o-eu' };

describe('resolveChatModels', () => {
  it('offers the built-in models of each provider that has a key', () => {
    const models = resolveChatModels([openai, anthropic, azure], [], (p) => p.name !== 'openai');
    assert.deepEqual(
      models.map((m) => [m.id, m.name, m.maxInputTokens]),
      [
        ['anthropic/claude-sonnet-4-20250514', 'Claude Sonnet 4 via Isartor', 200_000],
        ['anthropic/claude-3-5-haiku-20241022', 'Claude Haiku 3.5 via Isartor', 200_000],
        ['eu/gpt-4o-eu', 'gpt-4o-eu via Isartor', 128_000],
      ],
    );
  });

  it('offers nothing without keys', () => {
    assert.deepEqual(resolveChatModels([openai, anthropic], [], () => false), []);
  });

  it('uses isartor.models when set, guessing the provider from the id', () => {
    const models = resolveChatModels(
      [openai, anthropic],
      [{ id: 'gpt-4o' }, { id: 'claude-opus-4-20250514' }, { id: 'my-finetune', name: 'Tuned', maxOutputTokens: 999, toolCalling: false }, { id: 'gpt-4o' }],
      () => true,
    );
    assert.deepEqual(
      models.map((m) => [m.id, m.provider.name, m.name, m.maxOutputTokens, m.toolCalling]),
      [
        ['openai/gpt-4o', 'openai', 'GPT-4o via Isartor', 16_384, true],
        ['anthropic/claude-opus-4-20250514', 'anthropic', 'Claude Opus 4 via Isartor', 32_000, true],
        ['openai/my-finetune', 'openai', 'Tuned via Isartor', 999, false],
      ],
    );
  });

  it('skips configured models whose provider has no key', () => {
    const models = resolveChatModels([openai, anthropic], [{ id: 'gpt-4o' }, { id: 'claude-sonnet-4-20250514', provider: 'anthropic' }], (p) => p.kind === 'anthropic');
    assert.deepEqual(models.map((m) => m.id), ['anthropic/claude-sonnet-4-20250514']);
  });
});
