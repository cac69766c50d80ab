/**
 * `isartor serve --store`: the shared store's URL from the config file, ISARTOR_STORE_URL or the flag
 * (in rising precedence), checked at the boundary; the embedded store when none is given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, loadServeConfig, parseServeArgs } from '../../src/cli/serve-config';
import { redactStoreUrl } from '../../src/core/store/redisUrl';
import { tempDirUntilExit } from '../fixtures/tempDir';

test('no store URL anywhere: the embedded store, team sharing off', async () => {
  const config = await loadServeConfig(parseServeArgs(['--data-dir', tmpdir()]), {});
  assert.equal(config.store?.url, undefined);
  assert.equal(config.store?.shareAcrossKeys, false);
});

test('config file < ISARTOR_STORE_URL < --store', async () => {
  const dir = tempDirUntilExit('isartor-store-cfg-');
  const file = join(dir, 'config.json');
  await writeFile(file, '{ "store": { "url": "redis://file-host:6379", "namespace": "team-a", "shareAcrossKeys": true } }');
  const fromFile = await loadServeConfig(parseServeArgs(['--config', file, '--data-dir', dir]), {});
  assert.deepEqual(fromFile.store, { url: 'redis://file-host:6379', namespace: 'team-a', shareAcrossKeys: true, timeoutMs: 100 });
  const fromEnv = await loadServeConfig(parseServeArgs(['--config', file, '--data-dir', dir]), { ISARTOR_STORE_URL: 'rediss://user:pw@env-host:6380/2' });
  assert.equal(fromEnv.store?.url, 'rediss://user:pw@env-host:6380/2');
  const fromFlag = await loadServeConfig(parseServeArgs(['--config', file, '--data-dir', dir, '--store', 'redis://flag-host:7000']), { ISARTOR_STORE_URL: 'redis://env-host:6379' });
  assert.equal(fromFlag.store?.url, 'redis://flag-host:7000');
});

test('a store URL that is not redis:// or rediss:// is a usage error naming its source', async () => {
  assert.throws(() => parseServeArgs(['--store', 'http://cache:6379']), /--store must start with redis:\/\/ or rediss:\/\//);
  assert.throws(() => parseServeArgs(['--store', 'redis://host:6379/zero']), /database must be a number/);
  assert.throws(() => parseServeArgs(['--store', 'nonsense']), UsageError);
  await assert.rejects(loadServeConfig(parseServeArgs(['--data-dir', tmpdir()]), { ISARTOR_STORE_URL: 'memcached://x' }), /ISARTOR_STORE_URL must start with/);
  const dir = tempDirUntilExit('isartor-store-bad-');
  const file = join(dir, 'config.json');
  await writeFile(file, '{ "store": { "namespace": "has space" } }');
  await assert.rejects(loadServeConfig(parseServeArgs(['--config', file, '--data-dir', dir]), {}), /store\.namespace/);
});

test('the password never appears in what the proxy shows', () => {
  assert.equal(redactStoreUrl('rediss://team:s3cret-pass@cache.example:6380/1'), 'rediss://team:***@cache.example:6380/1');
  assert.equal(redactStoreUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
});
