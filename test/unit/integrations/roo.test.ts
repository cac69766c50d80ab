// Roo Code through its exported API, here an in-memory implementation that behaves like Roo's
// (profiles by name, one active, secrets left out of getConfiguration, errors on misuse).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadJournal } from '../../../src/extension/integrations/journal';
import { createRooIntegration, type RooApi } from '../../../src/extension/integrations/roo';
import { makeHome, routeIdOf, type TestHome } from './helpers';

/** Roo's profile store in memory. */
class InMemoryRoo implements RooApi {
  readonly profiles = new Map<string, Record<string, unknown>>();
  active: string;
  readonly global = { customInstructions: 'be brief', currentApiConfigName: '' };

  constructor(profiles: Record<string, Record<string, unknown>>, active: string) {
    for (const [name, settings] of Object.entries(profiles)) this.profiles.set(name, { ...settings });
    this.active = active;
  }

  getConfiguration(): Record<string, unknown> {
    const settings = this.profiles.get(this.active) ?? {};
    const withoutSecrets = Object.fromEntries(Object.entries(settings).filter(([key]) => !/ApiKey$/.test(key)));
    return { ...this.global, currentApiConfigName: this.active, ...withoutSecrets };
  }

  getProfiles(): string[] {
    return [...this.profiles.keys()];
  }

  getActiveProfile(): string | undefined {
    return this.active;
  }

  async setActiveProfile(name: string): Promise<string | undefined> {
    if (!this.profiles.has(name)) throw new Error(`Profile with name "${name}" does not exist`);
    this.active = name;
    return name;
  }

  async createProfile(name: string, profile: Record<string, unknown> = {}, activate = true): Promise<string> {
    if (this.profiles.has(name)) throw new Error(`Profile with name "${name}" already exists`);
    this.profiles.set(name, { ...profile });
    if (activate) this.active = name;
    return name;
  }

  async updateProfile(name: string, profile: Record<string, unknown>, activate = true): Promise<string | undefined> {
    if (!this.profiles.has(name)) throw new Error(`Profile with name "${name}" does not exist`);
    this.profiles.set(name, { ...profile });
    if (activate) this.active = name;
    return name;
  }

  async deleteProfile(name: string): Promise<void> {
    if (!this.profiles.has(name)) throw new Error(`Profile with name "${name}" does not exist`);
    if (name === this.active) throw new Error('cannot delete the active profile');
    this.profiles.delete(name);
  }
}

describe('roo code', () => {
  let home: TestHome;
  let roo: InMemoryRoo;
  const integration = () => createRooIntegration(async () => roo);

  beforeEach(async () => {
    home = await makeHome();
    roo = new InMemoryRoo(
      {
        default: { apiProvider: 'anthropic', apiModelId: 'claude-sonnet-4-5', anthropicApiKey: 'sk-ant-SECRET000000000000' },
        work: { apiProvider: 'openai', openAiBaseUrl: 'https://llm.corp.example.com/v1', openAiModelId: 'gpt-4o', openAiApiKey: 'sk-SECRET' },
      },
      'default',
    );
  });
  afterEach(() => home.cleanup());

  it('creates and activates an Isartor profile copied from the active one, then restores it', async () => {
    assert.equal((await integration().detect(home.ctx())).state, 'available');
    await integration().connect(home.ctx());
    assert.equal(roo.active, 'Isartor');
    const profile = roo.profiles.get('Isartor')!;
    assert.equal(profile.apiProvider, 'anthropic');
    assert.equal(profile.apiModelId, 'claude-sonnet-4-5');
    assert.match(String(profile.anthropicBaseUrl), /^http:\/\/127\.0\.0\.1:8787\/r\/[0-9a-f]{32}$/);
    assert.equal(profile.currentApiConfigName, undefined, 'profile-list settings are not copied');
    const route = home.routes.byId(routeIdOf(profile.anthropicBaseUrl))!;
    assert.deepEqual([route.baseUrl, route.kind, route.tool], ['https://api.anthropic.com', 'anthropic', 'roo']);
    assert.doesNotMatch(JSON.stringify(await loadJournal(home.journalDir)), /SECRET/);
    assert.equal((await integration().detect(home.ctx())).state, 'connected');

    await integration().disconnect(home.ctx());
    assert.equal(roo.active, 'default');
    assert.deepEqual(roo.getProfiles(), ['default', 'work']);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    assert.equal(home.routes.routes.size, 0);
  });

  it('routes an OpenAI-compatible profile to its own base URL with /v1 for the OpenAI client', async () => {
    roo.active = 'work';
    await integration().connect(home.ctx());
    const url = String(roo.profiles.get('Isartor')!.openAiBaseUrl);
    assert.match(url, /\/r\/[0-9a-f]{32}\/v1$/);
    assert.equal(home.routes.byId(routeIdOf(url))!.baseUrl, 'https://llm.corp.example.com/v1');
  });

  it('connecting again on a new port re-points the same profile and keeps the original previous profile', async () => {
    await integration().connect(home.ctx(8787));
    const first = String(roo.profiles.get('Isartor')!.anthropicBaseUrl);
    assert.equal((await integration().detect(home.ctx(9100))).elsewhere, true, 'connected, to another port');
    await integration().connect(home.ctx(9100));
    assert.equal((await integration().detect(home.ctx(9100))).elsewhere, undefined);
    const second = String(roo.profiles.get('Isartor')!.anthropicBaseUrl);
    assert.match(second, /^http:\/\/127\.0\.0\.1:9100\/r\//);
    assert.equal(routeIdOf(second), routeIdOf(first));
    assert.deepEqual(roo.getProfiles(), ['default', 'work', 'Isartor']);
    await integration().disconnect(home.ctx(9100));
    assert.equal(roo.active, 'default');
  });

  it('keeps the user\'s later choice of profile and still deletes the Isartor profile', async () => {
    await integration().connect(home.ctx());
    await roo.setActiveProfile('work');
    await integration().disconnect(home.ctx());
    assert.equal(roo.active, 'work');
    assert.deepEqual(roo.getProfiles(), ['default', 'work']);
  });

  it('suspend (Isartor stopping) re-activates the user\'s profile and keeps the Isartor one, its route and its journal entry for the next connect', async () => {
    await integration().connect(home.ctx(8787));
    roo.profiles.get('Isartor')!.apiModelId = 'claude-opus-4'; // the user's own change to Isartor's profile
    const routeId = routeIdOf(roo.profiles.get('Isartor')!.anthropicBaseUrl);
    await integration().suspend!(home.ctx(8787));
    assert.equal(roo.active, 'default');
    assert.equal(roo.getConfiguration().anthropicBaseUrl, undefined, 'what Roo uses now is the user\'s own upstream');
    assert.equal((await integration().detect(home.ctx(8787))).state, 'available');
    assert.equal(home.routes.routes.size, 1);
    assert.equal((await loadJournal(home.journalDir)).length, 1);

    await integration().connect(home.ctx(9100)); // the next start, on another port
    assert.equal(roo.active, 'Isartor');
    assert.deepEqual(roo.getProfiles(), ['default', 'work', 'Isartor']);
    const profile = roo.profiles.get('Isartor')!;
    assert.equal(profile.anthropicBaseUrl, `http://127.0.0.1:9100/r/${routeId}`);
    assert.equal(profile.apiModelId, 'claude-opus-4');

    await integration().suspend!(home.ctx(9100));
    await integration().disconnect(home.ctx(9100)); // Disable while suspended
    assert.equal(roo.active, 'default');
    assert.deepEqual(roo.getProfiles(), ['default', 'work']);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    assert.equal(home.routes.routes.size, 0);
  });

  it('suspend keeps the user\'s later choice of profile', async () => {
    await integration().connect(home.ctx());
    await roo.setActiveProfile('work');
    await integration().suspend!(home.ctx());
    assert.equal(roo.active, 'work');
  });

  it('uses a free name when the user already has an "Isartor" profile, and leaves theirs alone', async () => {
    await roo.createProfile('Isartor', { apiProvider: 'openai', openAiBaseUrl: 'https://mine.example.com/v1' }, false);
    await integration().connect(home.ctx());
    assert.equal(roo.active, 'Isartor (2)');
    await integration().disconnect(home.ctx());
    assert.deepEqual(roo.profiles.get('Isartor'), { apiProvider: 'openai', openAiBaseUrl: 'https://mine.example.com/v1' });
    assert.equal(roo.active, 'default');
  });

  it('a provider Isartor cannot route is reported as manual and nothing changes', async () => {
    await roo.createProfile('bedrock', { apiProvider: 'bedrock', awsRegion: 'eu-west-1' }, true);
    const detection = await integration().detect(home.ctx());
    assert.equal(detection.state, 'manual');
    assert.deepEqual(detection.copyValues?.map((value) => value.value), ['http://127.0.0.1:8787/v1', 'http://127.0.0.1:8787']);
    await assert.rejects(integration().connect(home.ctx()), /bedrock/);
    assert.deepEqual(roo.getProfiles(), ['default', 'work', 'bedrock']);
    assert.deepEqual(await loadJournal(home.journalDir), []);
  });

  it('reports not-installed when Roo Code is absent', async () => {
    const absent = createRooIntegration(async () => undefined);
    assert.equal((await absent.detect(home.ctx())).state, 'not-installed');
    await absent.connect(home.ctx());
    assert.deepEqual(await loadJournal(home.journalDir), []);
  });
});
