// Continue: connect rewrites only apiBase values (config.yaml and config.json), disconnect gives
// the original bytes back, user edits made while connected survive, and a new port re-points.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parse as parseJsonc } from 'jsonc-parser';
import { continueIntegration } from '../../../src/extension/integrations/continue';
import { loadJournal, type FileJournalEntry } from '../../../src/extension/integrations/journal';
import { journalPointerPath } from '../../../src/extension/integrations/journalPointer';
import { lineDiff, makeHome, placeFixture, routeIdOf, type TestHome } from './helpers';

type Models = { name?: string; title?: string; apiBase?: string }[];

describe('continue config.yaml', () => {
  let home: TestHome;
  let file: string;
  let original: Buffer;

  beforeEach(async () => {
    home = await makeHome();
    file = join(home.homeDir, '.continue', 'config.yaml');
    original = await placeFixture('continue-config.yaml', file);
  });
  afterEach(() => home.cleanup());

  it('connect rewrites only the apiBase of cloud models, keeping every other byte', async () => {
    await continueIntegration.connect(home.ctx(8787));
    const after = await readFile(file, 'utf8');
    const models = (parseYaml(after) as { models: Models }).models;
    const [gpt, claude, deepseek, ollama, embedder, hub] = models;
    const gptUrl = gpt!.apiBase!;
    const claudeUrl = claude!.apiBase!;
    const deepseekUrl = deepseek!.apiBase!;
    for (const url of [gptUrl, claudeUrl, deepseekUrl]) assert.match(url, /^http:\/\/127\.0\.0\.1:8787\/r\/[0-9a-f]{32}\/v1\/$/);
    assert.equal(ollama!.apiBase, undefined);
    assert.equal(embedder!.apiBase, undefined);
    assert.equal(hub!.apiBase, undefined);

    const diff = lineDiff(original.toString('utf8'), after);
    assert.deepEqual(diff.removed, [
      '      apiBase: "https://api.anthropic.com/v1/"',
      '    apiBase: https://gateway.example.com/deepseek   # corporate gateway',
    ]);
    assert.deepEqual(diff.added, [
      `    apiBase: ${gptUrl}`,
      `      apiBase: "${claudeUrl}"`,
      `    apiBase: ${deepseekUrl}   # corporate gateway`,
    ]);

    // Each route forwards to where the model sent requests before, in its API style.
    assert.deepEqual(pick(home.routes.byId(routeIdOf(gptUrl))), { baseUrl: 'https://api.openai.com/v1', kind: 'openai', tool: 'continue' });
    assert.deepEqual(pick(home.routes.byId(routeIdOf(claudeUrl))), { baseUrl: 'https://api.anthropic.com', kind: 'anthropic', tool: 'continue' });
    assert.deepEqual(pick(home.routes.byId(routeIdOf(deepseekUrl))), { baseUrl: 'https://gateway.example.com/deepseek', kind: 'openai', tool: 'continue' });

    // No API key reaches the journal folder's journal file.
    const journalText = await readFile(join(home.journalDir, 'journal.json'), 'utf8');
    assert.doesNotMatch(journalText, /sk-/);
    assert.equal((await continueIntegration.detect(home.ctx(8787))).state, 'connected');
  });

  it('leaves alone models that share a node through a YAML anchor or alias, and connects the rest', async () => {
    const shared = [
      'models:',
      '  - name: Mistral chat',
      '    provider: mistral',
      '    model: mistral-large-latest',
      '    apiBase: &mistral https://api.mistral.ai/v1/',
      '  - name: Mistral autocomplete',
      '    provider: mistral',
      '    model: codestral-latest',
      '    roles: [autocomplete]',
      '    apiBase: *mistral',
      '  - &gpt',
      '    name: GPT',
      '    provider: openai',
      '    model: gpt-4o',
      '  - *gpt',
      '  - name: Plain',
      '    provider: openai',
      '    model: gpt-4o-mini',
      '',
    ].join('\n');
    await writeFile(file, shared);
    await continueIntegration.connect(home.ctx(8787));
    const models = (parseYaml(await readFile(file, 'utf8')) as { models: Models }).models;
    // Rewriting the anchored apiBase would have re-pointed the autocomplete model through its alias.
    assert.equal(models[0]!.apiBase, 'https://api.mistral.ai/v1/');
    assert.equal(models[1]!.apiBase, 'https://api.mistral.ai/v1/');
    assert.equal(models[2]!.apiBase, undefined);
    assert.equal(models[3]!.apiBase, undefined);
    assert.match(models[4]!.apiBase!, /^http:\/\/127\.0\.0\.1:8787\/r\/[0-9a-f]{32}\/v1\/$/);
    const warnings = home.logs.filter((line) => line.startsWith('warn continue: model'));
    assert.deepEqual(warnings.map((line) => /model (\d)/.exec(line)![1]), ['0', '2', '3']);
    assert.match(warnings[0]!, /models\.0\.apiBase has a YAML anchor \(&mistral\)/);
    assert.match(warnings[2]!, /models\.3 is a YAML alias \(\*gpt\)/);
    await continueIntegration.disconnect(home.ctx(8787));
    assert.equal(await readFile(file, 'utf8'), shared);
  });

  it('disconnect restores the original bytes and leaves no journal, backup or pointer behind', async () => {
    assert.equal((await continueIntegration.detect(home.ctx())).state, 'available');
    await continueIntegration.connect(home.ctx());
    await continueIntegration.disconnect(home.ctx());
    assert.deepEqual(await readFile(file), original);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    assert.deepEqual(await readdir(join(home.journalDir, 'originals')), []);
    await assert.rejects(readFile(journalPointerPath(home.homeDir)), { code: 'ENOENT' });
    assert.equal(home.routes.routes.size, 0);
    assert.equal((await continueIntegration.detect(home.ctx())).state, 'available');
  });

  it('suspend (VS Code closing) restores the bytes but keeps the routes, so the next connect writes the same URLs', async () => {
    await continueIntegration.connect(home.ctx(8787));
    const connected = await readFile(file, 'utf8');
    assert.equal((await continueIntegration.detect(home.ctx(8787))).elsewhere, undefined);
    assert.equal((await continueIntegration.detect(home.ctx(8790))).elsewhere, true, 'connected, to another port');
    const routes = [...home.routes.routes.values()].map((route) => route.id).sort();
    await continueIntegration.suspend!(home.ctx(8787));
    assert.deepEqual(await readFile(file), original);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    await assert.rejects(readFile(journalPointerPath(home.homeDir)), { code: 'ENOENT' });
    assert.deepEqual([...home.routes.routes.values()].map((route) => route.id).sort(), routes, 'routes kept');
    assert.equal((await continueIntegration.detect(home.ctx(8787))).state, 'available');

    await continueIntegration.connect(home.ctx(8787));
    assert.equal(await readFile(file, 'utf8'), connected, 'the same route URLs as before the shutdown');
    await continueIntegration.disconnect(home.ctx(8787));
    assert.deepEqual(await readFile(file), original);
  });

  it('keeps edits the user made while connected and removes only Isartor values', async () => {
    await continueIntegration.connect(home.ctx());
    const userEdits = (text: string): string =>
      text
        .replace('name: My Assistant', 'name: Renamed Assistant')
        .replace('models:\n', 'models:\n  - name: Added first\n    provider: ollama\n    model: qwen2.5\n')
        .replace('context:\n', '  - name: Added last\n    provider: openai\n    model: o3\n\ncontext:\n');
    await writeFile(file, userEdits(await readFile(file, 'utf8')));
    await continueIntegration.disconnect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), userEdits(original.toString('utf8')));
  });

  it('a second connect on a new port re-points the same routes and the journal keeps the original values', async () => {
    await continueIntegration.connect(home.ctx(8787));
    const first = (parseYaml(await readFile(file, 'utf8')) as { models: Models }).models;
    await continueIntegration.connect(home.ctx(9999));
    const second = (parseYaml(await readFile(file, 'utf8')) as { models: Models }).models;
    for (const index of [0, 1, 2]) {
      assert.match(second[index]!.apiBase!, /^http:\/\/127\.0\.0\.1:9999\/r\//);
      assert.equal(routeIdOf(second[index]!.apiBase), routeIdOf(first[index]!.apiBase));
    }
    const entries = (await loadJournal(home.journalDir)) as FileJournalEntry[];
    const latest = entries.filter((entry) => entry.writeId === entries.at(-1)!.writeId);
    assert.deepEqual(latest.map((entry) => entry.oldValue), [undefined, 'https://api.anthropic.com/v1/', 'https://gateway.example.com/deepseek']);
    await continueIntegration.connect(home.ctx(9999));
    assert.equal((await loadJournal(home.journalDir)).length, entries.length, 'an unchanged connect writes nothing');
    await continueIntegration.disconnect(home.ctx(9999));
    assert.deepEqual(await readFile(file), original);
  });

  it('a user edit between two connects is kept by disconnect (keys restored, not old bytes)', async () => {
    await continueIntegration.connect(home.ctx(8787));
    const edited = (await readFile(file, 'utf8')).replace('model: gpt-4o', 'model: gpt-4.1');
    await writeFile(file, edited);
    await continueIntegration.connect(home.ctx(9000));
    await continueIntegration.disconnect(home.ctx(9000));
    assert.equal(await readFile(file, 'utf8'), original.toString('utf8').replace('model: gpt-4o', 'model: gpt-4.1'));
  });

  it('finds each model again by identity after the user reorders them (same route, different originals)', async () => {
    // Both models reach https://api.openai.com/v1, so they share one route URL, but only the
    // second one had an apiBase of its own: each must get exactly its own value back.
    const config = [
      'models:',
      '  - name: Implicit',
      '    provider: openai',
      '    model: gpt-4o',
      '  - name: Explicit',
      '    provider: openai',
      '    model: gpt-4o-mini',
      "    apiBase: 'https://api.openai.com/v1/'",
      '',
    ].join('\n');
    await writeFile(file, config);
    await continueIntegration.connect(home.ctx());
    const connected = await readFile(file, 'utf8');
    const [implicit, explicit] = (parseYaml(connected) as { models: Models }).models;
    assert.equal(implicit!.apiBase, explicit!.apiBase);
    // The user swaps the two blocks and adds a comment.
    const lines = connected.split('\n');
    const swapped = ['# reordered', lines[0], ...lines.slice(5, 9), ...lines.slice(1, 5), ''].join('\n');
    await writeFile(file, swapped);
    await continueIntegration.disconnect(home.ctx());
    const expected = ['# reordered', 'models:', ...config.split('\n').slice(4, 8), ...config.split('\n').slice(1, 4), ''].join('\n');
    assert.equal(await readFile(file, 'utf8'), expected);
  });

  it('a disconnect that cannot restore fails loudly, keeps the journal and routes, and works once the file is fixed', async () => {
    await continueIntegration.connect(home.ctx());
    const connected = await readFile(file, 'utf8');
    await writeFile(file, `${connected}broken: [\n`); // the user is mid-edit
    await assert.rejects(continueIntegration.disconnect(home.ctx()), (error: Error) => error.name === 'RestoreError' && error.message.includes('config.yaml'));
    assert.equal(await readFile(file, 'utf8'), `${connected}broken: [\n`);
    assert.equal((await loadJournal(home.journalDir)).length, 3);
    assert.equal(home.routes.routes.size, 3, 'the file still points at its routes');
    await writeFile(file, `${connected}fixed: []\n`);
    await continueIntegration.disconnect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), `${original.toString('utf8')}fixed: []\n`);
  });

  it('leaves a file that does not parse alone and says why', async () => {
    await writeFile(file, 'models:\n  - name: [unclosed\n');
    const detection = await continueIntegration.detect(home.ctx());
    assert.equal(detection.state, 'available');
    assert.match(detection.detail, /does not parse/);
    await assert.rejects(continueIntegration.connect(home.ctx()), /does not parse/);
    assert.equal(await readFile(file, 'utf8'), 'models:\n  - name: [unclosed\n');
  });
});

describe('continue config.json', () => {
  let home: TestHome;
  let file: string;
  let original: Buffer;

  beforeEach(async () => {
    home = await makeHome();
    file = join(home.homeDir, '.continue', 'config.json');
    original = await placeFixture('continue-config.json', file);
  });
  afterEach(() => home.cleanup());

  it('connect edits only apiBase members (plus the comma JSON needs), disconnect restores the bytes', async () => {
    await continueIntegration.connect(home.ctx());
    const after = await readFile(file, 'utf8');
    const models = (parseJsonc(after) as { models: Models }).models;
    const [gptUrl, claudeUrl, mistralUrl] = models.slice(0, 3).map((model) => model.apiBase!);
    assert.equal(models[3]!.apiBase, undefined, 'LM Studio is local');
    assert.equal((parseJsonc(after) as { tabAutocompleteModel: { apiBase?: string } }).tabAutocompleteModel.apiBase, undefined);

    const diff = lineDiff(original.toString('utf8'), after);
    assert.deepEqual(diff.removed, [
      '\t\t\t"apiKey": "sk-proj-EXAMPLEKEY1111111111111111" // fake',
      '\t\t{ "title": "Claude", "provider": "anthropic", "model": "claude-3-5-sonnet-latest", "apiBase": "https://api.anthropic.com/v1" },',
      '\t\t\t"apiBase": "https://api.mistral.ai/v1/",',
    ]);
    assert.deepEqual(diff.added, [
      '\t\t\t"apiKey": "sk-proj-EXAMPLEKEY1111111111111111", // fake',
      `\t\t\t"apiBase": "${gptUrl}"`,
      `\t\t{ "title": "Claude", "provider": "anthropic", "model": "claude-3-5-sonnet-latest", "apiBase": "${claudeUrl}" },`,
      `\t\t\t"apiBase": "${mistralUrl}",`,
    ]);
    assert.equal(home.routes.byId(routeIdOf(mistralUrl))!.baseUrl, 'https://api.mistral.ai/v1');

    await continueIntegration.disconnect(home.ctx());
    assert.deepEqual(await readFile(file), original);
  });

  it('user adds a model and changes another key while connected: both kept, Isartor values gone', async () => {
    await continueIntegration.connect(home.ctx());
    const userEdits = (text: string): string =>
      text
        .replace('"allowAnonymousTelemetry": false', '"allowAnonymousTelemetry": true')
        .replace('\t"models": [\n', '\t"models": [\n\t\t{ "title": "New", "provider": "anthropic", "model": "claude-opus-4" },\n');
    await writeFile(file, userEdits(await readFile(file, 'utf8')));
    await continueIntegration.disconnect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), userEdits(original.toString('utf8')));
  });

  it('prefers config.yaml when both exist', async () => {
    const yamlFile = join(home.homeDir, '.continue', 'config.yaml');
    await placeFixture('continue-config.yaml', yamlFile);
    await continueIntegration.connect(home.ctx());
    assert.deepEqual(await readFile(file), original);
    assert.match(await readFile(yamlFile, 'utf8'), /\/r\/[0-9a-f]{32}\/v1\//);
  });
});

describe('continue detect', () => {
  it('reports not-installed without a config', async () => {
    const home = await makeHome();
    try {
      assert.equal((await continueIntegration.detect(home.ctx())).state, 'not-installed');
      await continueIntegration.connect(home.ctx());
      await assert.rejects(readdir(join(home.homeDir, '.continue')), { code: 'ENOENT' });
    } finally {
      await home.cleanup();
    }
  });
});

function pick(route: { baseUrl: string; kind: string; tool: string } | undefined): { baseUrl: string; kind: string; tool: string } | undefined {
  return route && { baseUrl: route.baseUrl, kind: route.kind, tool: route.tool };
}
