// Which model a download fetches: the recommended one, or a mirror named by the environment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RECOMMENDED_MODEL } from '../../../src/core/local/modelDownload';
import { ModelOverrideError, modelToDownload } from '../../../src/core/local/modelOverride';

const sha = 'AB'.repeat(32);

test('without overrides the recommended model is fetched', () => {
  assert.equal(modelToDownload({}), RECOMMENDED_MODEL);
});

test('a mirror keeps the recommended file name so L2 finds it, with its lower-cased checksum', () => {
  const model = modelToDownload({ ISARTOR_MODEL_URL: 'http://mirror.lan:8080/q.gguf', ISARTOR_MODEL_SHA256: sha });
  assert.deepEqual(model, { name: 'model from mirror.lan:8080', url: 'http://mirror.lan:8080/q.gguf', sha256: sha.toLowerCase(), bytes: 0, fileName: RECOMMENDED_MODEL.fileName });
});

test('incomplete or malformed overrides are refused', () => {
  for (const env of [
    { ISARTOR_MODEL_URL: 'http://mirror.lan/q.gguf' },
    { ISARTOR_MODEL_URL: 'http://mirror.lan/q.gguf', ISARTOR_MODEL_SHA256: 'abc' },
    { ISARTOR_MODEL_URL: 'file:///etc/passwd', ISARTOR_MODEL_SHA256: sha },
    { ISARTOR_MODEL_URL: 'not a url', ISARTOR_MODEL_SHA256: sha },
    { ISARTOR_MODEL_SHA256: sha },
  ]) assert.throws(() => modelToDownload(env), ModelOverrideError, JSON.stringify(env));
});
