// Claude Code: env.ANTHROPIC_BASE_URL is the only key touched; a file Isartor created is deleted
// again; user edits survive; the route goes to the user's own base URL when there is one.
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parse as parseJsonc } from 'jsonc-parser';
import { claudeSettingsPath, createClaudeIntegration } from '../../../src/extension/integrations/claude';
import { loadJournal } from '../../../src/extension/integrations/journal';
import { lineDiff, makeHome, placeFixture, routeIdOf, type TestHome } from './helpers';

const claude = createClaudeIntegration({ env: {} });

function baseUrlIn(text: string): unknown {
  return (parseJsonc(text) as { env?: { ANTHROPIC_BASE_URL?: unknown } }).env?.ANTHROPIC_BASE_URL;
}

describe('claude settings.json', () => {
  let home: TestHome;
  let file: string;

  beforeEach(async () => {
    home = await makeHome();
    file = claudeSettingsPath(home.homeDir);
  });
  afterEach(() => home.cleanup());

  it('adds only env.ANTHROPIC_BASE_URL to an existing env block and restores the bytes', async () => {
    const original = await placeFixture('claude-settings.json', file);
    await claude.connect(home.ctx());
    const after = await readFile(file, 'utf8');
    const url = baseUrlIn(after) as string;
    assert.match(url, /^http:\/\/127\.0\.0\.1:8787\/r\/[0-9a-f]{32}$/);
    assert.deepEqual(lineDiff(original.toString('utf8'), after), {
      removed: ['      "BASH_DEFAULT_TIMEOUT_MS": "120000"'],
      added: ['      "BASH_DEFAULT_TIMEOUT_MS": "120000",', `      "ANTHROPIC_BASE_URL": "${url}"`],
    });
    const route = home.routes.byId(routeIdOf(url))!;
    assert.equal(route.baseUrl, 'https://api.anthropic.com');
    assert.equal(route.kind, 'anthropic');
    assert.equal((await claude.detect(home.ctx())).state, 'connected');

    await claude.disconnect(home.ctx());
    assert.deepEqual(await readFile(file), original);
    assert.equal((await claude.detect(home.ctx())).state, 'available');
  });

  it('suspend restores the bytes and keeps the route; a user edit made while VS Code was closed survives the next connect', async () => {
    const original = await placeFixture('claude-settings.json', file);
    await claude.connect(home.ctx());
    const url = baseUrlIn(await readFile(file, 'utf8'));
    await claude.suspend!(home.ctx());
    assert.deepEqual(await readFile(file), original);
    assert.deepEqual(await loadJournal(home.journalDir), []);
    assert.ok(home.routes.byId(routeIdOf(url)), 'the route stays for the next start');

    const edited = original.toString('utf8').replace('"model":   "opus"', '"model":   "sonnet"');
    assert.notEqual(edited, original.toString('utf8'));
    await writeFile(file, edited);
    await claude.connect(home.ctx());
    const reconnected = await readFile(file, 'utf8');
    assert.equal(baseUrlIn(reconnected), url, 'same route URL');
    assert.match(reconnected, /"model": {3}"sonnet"/);
    await claude.disconnect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), edited);
  });

  it('adds an env block when there is none, and takes it away again', async () => {
    const original = await placeFixture('claude-settings-no-env.json', file);
    await claude.connect(home.ctx());
    const after = await readFile(file, 'utf8');
    assert.deepEqual(lineDiff(original.toString('utf8'), after), {
      removed: ['    "cleanupPeriodDays": 30'],
      added: ['    "cleanupPeriodDays": 30,', '    "env": {', `        "ANTHROPIC_BASE_URL": "${baseUrlIn(after) as string}"`, '    }'],
    });
    // The user adds a key after Isartor's: the restore removes the env block Isartor created only.
    await writeFile(file, after.replace('"includeCoAuthoredBy": false', '"includeCoAuthoredBy": true'));
    await claude.disconnect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), original.toString('utf8').replace('"includeCoAuthoredBy": false', '"includeCoAuthoredBy": true'));
  });

  it('creates the file and folder when absent and deletes both on disconnect', async () => {
    assert.equal((await claude.detect(home.ctx())).state, 'not-installed');
    await claude.connect(home.ctx());
    const created = await readFile(file, 'utf8');
    assert.match(String(baseUrlIn(created)), /\/r\/[0-9a-f]{32}$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await claude.disconnect(home.ctx());
    await assert.rejects(stat(join(home.homeDir, '.claude')), { code: 'ENOENT' });
    assert.deepEqual(await loadJournal(home.journalDir), []);
  });

  it('a created file the user added to keeps their key and loses only Isartor\'s', async () => {
    await claude.connect(home.ctx());
    const created = await readFile(file, 'utf8');
    await writeFile(file, created.replace('{\n', '{\n  "model": "opus",\n'));
    await claude.disconnect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), '{\n  "model": "opus"\n}\n');
  });

  it('routes to the user\'s own ANTHROPIC_BASE_URL and puts it back', async () => {
    const original = '{\n  "env": {\n    "ANTHROPIC_BASE_URL": "https://llm-gateway.example.com/anthropic/"\n  }\n}\n';
    await mkdir(join(home.homeDir, '.claude'), { recursive: true });
    await writeFile(file, original);
    await claude.connect(home.ctx());
    const url = baseUrlIn(await readFile(file, 'utf8'));
    assert.equal(home.routes.byId(routeIdOf(url))!.baseUrl, 'https://llm-gateway.example.com/anthropic');
    await claude.connect(home.ctx(8800));
    assert.equal(home.routes.byId(routeIdOf(baseUrlIn(await readFile(file, 'utf8'))))!.baseUrl, 'https://llm-gateway.example.com/anthropic');
    await claude.disconnect(home.ctx(8800));
    assert.equal(await readFile(file, 'utf8'), original);
  });

  it('uses ANTHROPIC_BASE_URL from the environment when the settings have none', async () => {
    const withEnv = createClaudeIntegration({ env: { ANTHROPIC_BASE_URL: 'https://proxy.corp.example.com' } });
    await withEnv.connect(home.ctx());
    const url = baseUrlIn(await readFile(file, 'utf8'));
    assert.equal(home.routes.byId(routeIdOf(url))!.baseUrl, 'https://proxy.corp.example.com');
  });

  it('keeps a base URL the user set by hand while connected', async () => {
    const original = await placeFixture('claude-settings.json', file);
    await claude.connect(home.ctx());
    const connected = await readFile(file, 'utf8');
    const mine = connected.replace(String(baseUrlIn(connected)), 'https://my-own-gateway.example.com');
    await writeFile(file, mine);
    await claude.disconnect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), mine);
    assert.notDeepEqual(await readFile(file), original);
  });

  it('re-points on a new port and restores the bytes after', async () => {
    const original = await placeFixture('claude-settings.json', file);
    await claude.connect(home.ctx(8787));
    const first = baseUrlIn(await readFile(file, 'utf8'));
    assert.equal((await claude.detect(home.ctx(8787))).elsewhere, undefined);
    assert.equal((await claude.detect(home.ctx(8788))).elsewhere, true, 'connected, to another port');
    await claude.connect(home.ctx(8788));
    assert.equal((await claude.detect(home.ctx(8788))).elsewhere, undefined);
    const second = baseUrlIn(await readFile(file, 'utf8'));
    assert.match(String(second), /^http:\/\/127\.0\.0\.1:8788\/r\//);
    assert.equal(routeIdOf(second), routeIdOf(first));
    await claude.disconnect(home.ctx(8788));
    assert.deepEqual(await readFile(file), original);
  });

  it('leaves a local ANTHROPIC_BASE_URL alone', async () => {
    const original = '{ "env": { "ANTHROPIC_BASE_URL": "http://localhost:4000" } }\n';
    await mkdir(join(home.homeDir, '.claude'), { recursive: true });
    await writeFile(file, original);
    await claude.connect(home.ctx());
    assert.equal(await readFile(file, 'utf8'), original);
    assert.deepEqual(await loadJournal(home.journalDir), []);
  });
});
