// Codex CLI: a model_providers.isartor table and model_provider are the only changes to
// config.toml; comments and every other byte stay; disconnect restores the bytes; a user's own
// provider is what the route forwards to; user edits made while connected survive.
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { codexConfigPath, createCodexIntegration } from '../../../src/extension/integrations/codex';
import { DocumentSyntaxError } from '../../../src/extension/integrations/documentEdit';
import { loadJournal } from '../../../src/extension/integrations/journal';
import { lineDiff, makeHome, placeFixture, routeIdOf, type TestHome } from './helpers';

const codex = createCodexIntegration({ env: {} });

type Config = { model_provider?: string; model_providers?: Record<string, Record<string, unknown>> };
const read = async (file: string): Promise<Config> => parse(await readFile(file, 'utf8')) as Config;

describe('codex config.toml', () => {
  let home: TestHome;
  let file: string;

  beforeEach(async () => {
    home = await makeHome();
    file = codexConfigPath(home.homeDir);
  });
  afterEach(() => home.cleanup());

  it('adds the isartor provider and model_provider, keeps comments and every other byte, and restores the bytes', async () => {
    const original = await placeFixture('codex-config.toml', file);
    await codex.connect(home.ctx());
    const after = await readFile(file, 'utf8');
    const config = parse(after) as Config;
    const table = config.model_providers!.isartor!;
    assert.equal(config.model_provider, 'isartor');
    assert.match(String(table.base_url), /^http:\/\/127\.0\.0\.1:8787\/r\/[0-9a-f]{32}\/v1$/);
    assert.equal(table.wire_api, 'responses');
    assert.equal(table.env_key, 'OPENAI_API_KEY');
    assert.deepEqual(lineDiff(original.toString('utf8'), after), {
      removed: [],
      added: [
        'model_provider = "isartor"',
        '[model_providers.isartor]',
        'name = "Isartor"',
        `base_url = "${String(table.base_url)}"`,
        'wire_api = "responses"',
        'env_key = "OPENAI_API_KEY"',
        '',
      ],
    });
    assert.ok(after.startsWith('# Codex CLI settings (hand-written; comments must survive)\nmodel = "gpt-5-codex"   # the default model\n'));
    const route = home.routes.byId(routeIdOf(String(table.base_url).replace(/\/v1$/, '')))!;
    assert.equal(route.baseUrl, 'https://api.openai.com/v1');
    assert.equal(route.kind, 'openai');
    assert.equal((await codex.detect(home.ctx())).state, 'connected');

    await codex.connect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), after, 'connect is idempotent');

    await codex.disconnect(home.ctx());
    assert.deepEqual(await readFile(file), original);
    assert.equal((await codex.detect(home.ctx())).state, 'available');
    assert.deepEqual(await loadJournal(home.journalDir), []);
  });

  it('stands in front of the user\'s own provider: its base_url is the route, its key, headers and query are kept', async () => {
    const original = await placeFixture('codex-config-azure.toml', file);
    await codex.connect(home.ctx());
    const config = await read(file);
    assert.equal(config.model_provider, 'isartor');
    const table = config.model_providers!.isartor!;
    assert.equal(table.env_key, 'AZURE_OPENAI_API_KEY');
    assert.deepEqual({ ...(table.query_params as object) }, { 'api-version': '2025-04-01-preview' });
    assert.equal(home.routes.byId(routeIdOf(String(table.base_url).replace(/\/v1$/, '')))!.baseUrl, 'https://my-res.openai.azure.com/openai');
    assert.deepEqual(JSON.stringify(config.model_providers!.azure), JSON.stringify((parse(original.toString('utf8')) as Config).model_providers!.azure));
    await codex.disconnect(home.ctx());
    assert.deepEqual(await readFile(file), original);
  });

  it('edits made while connected survive disconnect; only Isartor\'s table goes and model_provider gets its old value back', async () => {
    await placeFixture('codex-config-azure.toml', file);
    await codex.connect(home.ctx());
    const edited = (await readFile(file, 'utf8')).replace('model = "gpt-5"', 'model = "gpt-5.1"  # changed by the user');
    await writeFile(file, edited);
    await codex.disconnect(home.ctx());
    const text = await readFile(file, 'utf8');
    assert.match(text, /model = "gpt-5\.1" {2}# changed by the user/);
    const config = parse(text) as Config;
    assert.equal(config.model_provider, 'azure');
    assert.equal(config.model_providers!.isartor, undefined);
    assert.ok(config.model_providers!.azure);
  });

  it('keeps the provider\'s tokens and headers out of the journal, and still recognises its table on disconnect', async () => {
    const secrets = ['sk-live-bearer-0123456789', 'sk-live-header-9876543210'];
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(
      file,
      `model_provider = "gw"\n\n[model_providers.gw]\nname = "GW"\nbase_url = "https://gw.example.com/v1"\nexperimental_bearer_token = "${secrets[0]}"\nhttp_headers = { "Authorization" = "Bearer ${secrets[1]}" }\n`,
    );
    await codex.connect(home.ctx());
    const table = (await read(file)).model_providers!.isartor!;
    assert.equal(table.experimental_bearer_token, secrets[0], 'Codex still sends the token');
    const journal = await readFile(join(home.journalDir, 'journal.json'), 'utf8');
    for (const secret of secrets) assert.ok(!journal.includes(secret), 'no secret in the journal');
    assert.match(journal, /"newValueSha256": "[0-9a-f]{64}"/);
    // A user edit breaks the chain of hashes: disconnect finds Isartor's table by its digest.
    await writeFile(file, `# a comment the user added\n${await readFile(file, 'utf8')}`);
    await codex.disconnect(home.ctx());
    const config = await read(file);
    assert.equal(config.model_provider, 'gw');
    assert.equal(config.model_providers!.isartor, undefined);
    assert.equal(config.model_providers!.gw!.experimental_bearer_token, secrets[0]);
    assert.deepEqual(await loadJournal(home.journalDir), []);
  });

  it('creates the file when Codex has a folder but no config, and deletes it again on disconnect', async () => {
    await mkdir(join(home.homeDir, '.codex'), { recursive: true });
    assert.equal((await codex.detect(home.ctx())).state, 'available');
    await codex.connect(home.ctx());
    const config = await read(file);
    assert.equal(config.model_provider, 'isartor');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await codex.disconnect(home.ctx());
    await assert.rejects(stat(file), /ENOENT/);
  });

  it('suspend restores the bytes and keeps the route for the next start', async () => {
    const original = await placeFixture('codex-config.toml', file);
    await codex.connect(home.ctx());
    const url = String((await read(file)).model_providers!.isartor!.base_url);
    await codex.suspend!(home.ctx());
    assert.deepEqual(await readFile(file), original);
    assert.ok(home.routes.byId(routeIdOf(url.replace(/\/v1$/, ''))));
    await codex.connect(home.ctx());
    assert.equal(String((await read(file)).model_providers!.isartor!.base_url), url, 'the same URL again');
  });

  it('connect after the proxy moved writes the new port with the same route, and disconnect still restores the bytes', async () => {
    const original = await placeFixture('codex-config.toml', file);
    await codex.connect(home.ctx(8787));
    const first = String((await read(file)).model_providers!.isartor!.base_url);
    assert.equal((await codex.detect(home.ctx(9911))).elsewhere, true, 'connected, to another port');
    await codex.connect(home.ctx(9911));
    assert.equal((await codex.detect(home.ctx(9911))).elsewhere, undefined);
    const config = await read(file);
    assert.equal(config.model_providers!.isartor!.base_url, first.replace(':8787/', ':9911/'));
    assert.equal(config.model_providers!.isartor!.env_key, 'OPENAI_API_KEY', 'the rest of the table stays');
    assert.equal(config.model_provider, 'isartor');
    assert.equal((await codex.detect(home.ctx(9911))).state, 'connected');
    await codex.disconnect(home.ctx(9911));
    assert.deepEqual(await readFile(file), original);
    assert.deepEqual(await loadJournal(home.journalDir), []);
  });

  it('leaves alone a file that does not parse, a local provider and an isartor entry it did not write', async () => {
    await mkdir(join(home.homeDir, '.codex'), { recursive: true });
    await writeFile(file, 'model = "gpt-5"\n[broken\n');
    await assert.rejects(codex.connect(home.ctx()), DocumentSyntaxError);
    assert.equal(await readFile(file, 'utf8'), 'model = "gpt-5"\n[broken\n');

    await writeFile(file, 'model_provider = "ollama"\n');
    await codex.connect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), 'model_provider = "ollama"\n');

    const theirs = '[model_providers.isartor]\nname = "mine"\nbase_url = "https://example.com/v1"\n';
    await writeFile(file, theirs);
    await codex.connect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), theirs);
  });

  it('follows CODEX_HOME', () => {
    assert.equal(codexConfigPath('/home/me', { CODEX_HOME: '/srv/codex' }), '/srv/codex/config.toml');
  });
});
