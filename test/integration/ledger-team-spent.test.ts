// Team totals on Redis that older replicas wrote (before spend was recorded, so their records added
// to `requests` and nothing to spend): `/isartor/stats` and `isartor stats --store` say the spend of
// those requests is unknown instead of counting them as $0, while a new replica's request adds its spend.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from 'redis';
import { startStack, type Stack } from './helpers';
import { startRedis, type TestRedis } from './redis-helpers';

let redis: TestRedis;
let stack: Stack;

before(async () => {
  redis = await startRedis();
  // What an older version appended for 3 requests (2 cloud answers, 1 hit): no spend fields at all.
  const direct = createClient({ url: redis.url });
  await direct.connect();
  await direct.hSet('isartor:ledger:totals', {
    'total:requests': '3', 'total:deflected': '1', 'total:inputTokens': '300', 'total:outputTokens': '30', 'total:savedTokens': '110', 'total:savedUsd': '0.001',
    'layer:l3:requests': '2', 'layer:l3:inputTokens': '200', 'layer:l3:outputTokens': '20',
    'layer:l1a:requests': '1', 'layer:l1a:deflected': '1', 'layer:l1a:inputTokens': '100', 'layer:l1a:outputTokens': '10', 'layer:l1a:savedTokens': '110', 'layer:l1a:savedUsd': '0.001',
  });
  await direct.close();
  stack = await startStack((config) => {
    config.optimiser.enabled = false;
    config.store = { url: redis.url, namespace: 'isartor', shareAcrossKeys: false, timeoutMs: 2000 };
  });
});
after(async () => {
  await stack?.close();
  await redis?.stop();
});

test("older replicas' requests read as spend unknown in the team totals, on /isartor/stats and in `isartor stats --store`", async () => {
  await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a new replica answers' }] });
  let team: { totals: { requests: number; spentUsd: number; spentMissing: number }; byLayer: Record<string, { requests: number; spentMissing: number }> } | undefined;
  for (let i = 0; i < 100; i++) {
    team = ((await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as { team?: typeof team }).team;
    if (team?.totals.requests === 4) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(team?.totals.requests, 4);
  assert.ok(team.totals.spentUsd > 0, 'the new request adds its spend');
  assert.equal(team.totals.spentMissing, 3, 'the 3 older requests are unknown, not $0');
  assert.equal(team.byLayer.l3?.spentMissing, 2);
  assert.equal(team.byLayer.l1a?.spentMissing, 1);

  const cli = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'isartor.js'), 'stats', '--store', redis.url], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /note: spent unknown for 3 requests recorded before Isartor tracked it/);
  assert.match(cli.stdout, /l3 +3 requests .* spent \(unknown for 2\)/);
  const json = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'isartor.js'), 'stats', '--store', redis.url, '--json'], { encoding: 'utf8' });
  assert.equal(JSON.parse(json.stdout).totals.spentMissing, 3);
});
