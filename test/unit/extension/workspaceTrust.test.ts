// A cloned repository's .vscode/settings.json must not change Isartor's behaviour until the user
// trusts the workspace: every setting a workspace can set is restricted (package.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

interface Setting { scope?: string }
const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  capabilities: { untrustedWorkspaces: { supported: boolean | string; restrictedConfigurations?: string[] } };
  contributes: { configuration: { properties: Record<string, Setting> } | { properties: Record<string, Setting> }[] };
};

test('every setting a workspace can set is restricted in untrusted workspaces', () => {
  const sections = Array.isArray(manifest.contributes.configuration) ? manifest.contributes.configuration : [manifest.contributes.configuration];
  const settings = Object.assign({}, ...sections.map((section) => section.properties)) as Record<string, Setting>;
  // application and machine settings never come from a workspace; the rest can (machine-overridable too).
  const workspaceSettable = Object.entries(settings).filter(([, setting]) => setting.scope !== 'application' && setting.scope !== 'machine').map(([name]) => name).sort();
  const trust = manifest.capabilities.untrustedWorkspaces;
  assert.equal(trust.supported, 'limited');
  assert.deepEqual([...(trust.restrictedConfigurations ?? [])].sort(), workspaceSettable);
});
