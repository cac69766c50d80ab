// Download failures in words a user can act on, and the empty folders a failed download leaves.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { explainDownloadFailure, removeEmptyFolders } from '../../src/core/downloadFailure';

const hub = { url: 'https://huggingface.co/', mirrorHint: 'set HF_ENDPOINT to a Hugging Face mirror' };
/** What undici's fetch throws: a bare "fetch failed" with the socket error as its cause. */
const fetchFailed = (code: string): Error => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`getaddrinfo ${code} huggingface.co`), { code }) });

describe('explainDownloadFailure', () => {
  it('turns "fetch failed" into the reason, from the error or from a probe of the host', () => {
    assert.equal(
      explainDownloadFailure(fetchFailed('ENOTFOUND'), hub),
      'Could not reach huggingface.co (DNS lookup failed). Check your network connection, or set HF_ENDPOINT to a Hugging Face mirror.',
    );
    // transformers.js wraps the failure and drops the cause: the probe supplies it.
    assert.match(explainDownloadFailure(new Error('could not download the embedding model: fetch failed'), hub, fetchFailed('ECONNREFUSED')), /^Could not reach huggingface\.co \(connection refused\)/);
    assert.equal(explainDownloadFailure(new Error('fetch failed'), hub), 'Could not reach huggingface.co. Check your network connection, or set HF_ENDPOINT to a Hugging Face mirror.');
  });

  it('names HTTP answers, a full disk and a bad checksum', () => {
    assert.match(explainDownloadFailure(new Error('model download failed: https://huggingface.co/x answered 403 Forbidden'), hub), /refused the download \(HTTP 403/);
    assert.match(explainDownloadFailure(new Error('answered 503 Service Unavailable'), hub), /server error \(HTTP 503\)/);
    assert.match(explainDownloadFailure(Object.assign(new Error('no space left'), { code: 'ENOSPC' }), hub), /not enough free disk space/);
    assert.match(explainDownloadFailure(new Error('downloaded model failed its checksum (expected sha256 0, got 1)'), hub), /checksum did not match/);
  });
});

describe('removeEmptyFolders', () => {
  it('removes a folder tree holding nothing and its empty parents, up to the storage folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isartor-prune-'));
    try {
      const model = join(root, 'models', 'org', 'name');
      mkdirSync(join(model, 'onnx'), { recursive: true });
      mkdirSync(join(root, 'models', 'other'), { recursive: true });
      writeFileSync(join(root, 'models', 'other', 'model.onnx'), 'x');
      await removeEmptyFolders(model, root);
      assert.equal(existsSync(join(root, 'models', 'org')), false);
      assert.equal(existsSync(join(root, 'models', 'other', 'model.onnx')), true, 'another model stays');
      assert.equal(existsSync(root), true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('keeps a folder with a file in it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'isartor-prune-'));
    try {
      const model = join(root, 'models', 'org', 'name');
      mkdirSync(model, { recursive: true });
      writeFileSync(join(model, 'config.json'), '{}');
      await removeEmptyFolders(model, root);
      assert.equal(existsSync(join(model, 'config.json')), true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
