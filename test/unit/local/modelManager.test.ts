// The local model's lifecycle: source resolution, one shared lazy load, idle unloading on an injected timer.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../../src/core/config';
import type { LocalEngine } from '../../../src/core/local/engine';
import { downloadedModelPath } from '../../../src/core/local/modelDownload';
import { ModelManager, NoLocalModelError, resolveEngineSource } from '../../../src/core/local/modelManager';
import type { EngineSource } from '../../../src/core/local/modelManager';
import { silentLogger } from '../../../src/core/logger';
import { tempDirUntilExit } from '../../fixtures/tempDir';
import { ManualTimers, ScriptedEngine } from './helpers';

const dataDir = (): string => tempDirUntilExit('isartor-models-');

void test('sources: server URL first, then a .gguf path (or the first .gguf in a folder), then the downloaded default', () => {
  const dir = dataDir();
  const local = defaultConfig(dir).local;
  assert.deepEqual(resolveEngineSource(local, dir), { kind: 'none', reason: 'no model configured' });
  assert.deepEqual(resolveEngineSource({ ...local, backendUrl: 'http://127.0.0.1:11434/v1' }, dir), { kind: 'none', reason: 'local.backendUrl is set but local.backendModel is not' });
  assert.deepEqual(resolveEngineSource({ ...local, backendUrl: 'http://127.0.0.1:11434/v1', backendModel: 'qwen', modelPath: '/x.gguf' }, dir), { kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', model: 'qwen' });
  assert.deepEqual(resolveEngineSource({ ...local, modelPath: join(dir, 'missing.gguf') }, dir), { kind: 'none', reason: `no .gguf model at ${join(dir, 'missing.gguf')}` });
  const folder = join(dir, 'folder');
  mkdirSync(folder);
  writeFileSync(join(folder, 'b.gguf'), 'x');
  writeFileSync(join(folder, 'a.gguf'), 'x');
  writeFileSync(join(folder, 'notes.txt'), 'x');
  assert.deepEqual(resolveEngineSource({ ...local, modelPath: folder }, dir), { kind: 'llama', modelPath: join(folder, 'a.gguf') });
  mkdirSync(join(dir, 'models'));
  writeFileSync(downloadedModelPath(dir), 'x');
  assert.deepEqual(resolveEngineSource(local, dir), { kind: 'llama', modelPath: downloadedModelPath(dir) });
});

function manager(options: { source?: EngineSource; idleUnloadMs?: number; load?: () => Promise<LocalEngine> } = {}) {
  const timers = new ManualTimers();
  const loaded: ScriptedEngine[] = [];
  const models = new ModelManager({
    resolveSource: () => options.source ?? { kind: 'llama', modelPath: '/models/tiny.gguf' },
    loadEngine:
      options.load ??
      (async () => {
        const engine = new ScriptedEngine({});
        loaded.push(engine);
        return engine;
      }),
    idleUnloadMs: options.idleUnloadMs ?? 5000,
    timers,
    logger: silentLogger,
  });
  return { models, timers, loaded };
}

void test('nothing loads until the first acquire; concurrent acquires share one load', async () => {
  const { models, loaded } = manager();
  assert.deepEqual(models.status(), { state: 'unloaded', source: 'tiny.gguf' });
  const [a, b] = await Promise.all([models.acquire(), models.acquire()]);
  assert.equal(loaded.length, 1);
  assert.equal(a.engine, b.engine);
  assert.deepEqual(models.status(), { state: 'loaded', source: 'tiny.gguf', modelName: 'scripted-model' });
  a.release();
  b.release();
});

void test('the model unloads after the idle period and loads again on the next request', async () => {
  const { models, timers, loaded } = manager();
  const lease = await models.acquire();
  assert.equal(timers.has(5000), false, 'no idle timer while the model is in use');
  lease.release();
  assert.equal(timers.has(5000), true);
  // A request in between restarts the idle period.
  const again = await models.acquire();
  assert.equal(timers.has(5000), false);
  again.release();
  assert.equal(timers.fire(5000), 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(loaded[0]!.disposed, true);
  assert.deepEqual(models.status(), { state: 'unloaded', source: 'tiny.gguf' });
  const reloaded = await models.acquire();
  assert.equal(loaded.length, 2);
  assert.notEqual(reloaded.engine, loaded[0]);
  reloaded.release();
  await models.close();
  assert.equal(loaded[1]!.disposed, true);
});

void test('idleUnloadSeconds 0 keeps the model loaded', async () => {
  const { models, timers } = manager({ idleUnloadMs: 0 });
  (await models.acquire()).release();
  assert.equal(timers.pending.size, 0);
});

void test('a caller that gives up while the model loads is not charged a lease, and the load completes', async () => {
  let finishLoad!: (engine: LocalEngine) => void;
  const { models, timers } = manager({ load: () => new Promise((resolve) => (finishLoad = resolve)) });
  const budget = new AbortController();
  const waiting = models.acquire(budget.signal);
  assert.equal(models.status().state, 'loading');
  budget.abort(new Error('over budget'));
  await assert.rejects(waiting, /over budget/);
  finishLoad(new ScriptedEngine({}));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(models.status().state, 'loaded');
  assert.equal(timers.has(5000), true, 'with nobody using it, the idle period starts at once');
});

void test('no source and failed loads are reported, and a failed source is not retried', async () => {
  const none = manager({ source: { kind: 'none', reason: 'no model configured' } });
  await assert.rejects(none.models.acquire(), NoLocalModelError);
  assert.deepEqual(none.models.status(), { state: 'none', reason: 'no model configured' });
  let attempts = 0;
  const broken = manager({ load: async () => (attempts++, Promise.reject(new Error('bad magic'))) });
  await assert.rejects(broken.models.acquire(), /bad magic/);
  await assert.rejects(broken.models.acquire(), /failed to load: bad magic/);
  assert.equal(attempts, 1);
  assert.deepEqual(broken.models.status(), { state: 'failed', source: 'tiny.gguf', error: 'bad magic' });
});
