/**
 * Tools stay pointed at "another window's Isartor" only if it is this user's: any local user may
 * bind a free loopback port and answer /isartor/stats like Isartor, and the tools left pointing
 * there (Claude Code, Codex, …) would send that user their API keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/core/config';
import { silentLogger } from '../../src/core/logger';
import { isIsartorAt } from '../../src/extension/lifecycle/proxyHost';
import { startProxy } from '../../src/proxy/server';
import { tempDirUntilExit } from '../fixtures/tempDir';

test("an Isartor listened to by another user is not taken for this user's", async () => {
  const config = { ...defaultConfig(tempDirUntilExit('isartor-it-squat-')), port: 0 };
  config.semantic.enabled = false;
  config.local.enabled = false;
  const proxy = await startProxy(config, { logger: silentLogger });
  try {
    assert.equal(await isIsartorAt(proxy.url), true, 'this user\'s own proxy');
    // The same real listener, seen by a process of another uid: on Linux /proc/net/tcp names the
    // listener's owner; elsewhere the system cannot tell and the answer alone decides.
    const anotherUser = (process.getuid?.() ?? 0) + 1;
    assert.equal(await isIsartorAt(proxy.url, { ownUid: anotherUser }), process.platform !== 'linux');
  } finally {
    await proxy.close();
  }
});
