// Cline is never edited: detect hands out copy-ready base URLs of the running proxy.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { createClineIntegration } from '../../../src/extension/integrations/cline';
import { makeHome } from './helpers';

describe('cline', () => {
  it('is manual when installed, with the OpenAI and Anthropic base URLs of the proxy', async () => {
    const home = await makeHome();
    try {
      const cline = createClineIntegration(async () => true);
      const detection = await cline.detect(home.ctx(43210));
      assert.equal(detection.state, 'manual');
      assert.match(detection.detail, /VS Code LM API/);
      assert.deepEqual(detection.copyValues, [
        { label: 'OpenAI-compatible base URL', value: 'http://127.0.0.1:43210/v1' },
        { label: 'Anthropic base URL', value: 'http://127.0.0.1:43210' },
      ]);
      await cline.connect(home.ctx(43210));
      await cline.disconnect(home.ctx(43210));
      assert.deepEqual(await readdir(home.homeDir), [], 'nothing was written');
      assert.ok(home.logs.some((line) => /does not edit Cline/.test(line)));
    } finally {
      await home.cleanup();
    }
  });

  it('is not-installed without the extension', async () => {
    const home = await makeHome();
    try {
      assert.equal((await createClineIntegration(async () => false).detect(home.ctx())).state, 'not-installed');
    } finally {
      await home.cleanup();
    }
  });
});
