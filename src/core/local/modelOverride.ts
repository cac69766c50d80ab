/**
 * Which model `isartor model download` and the extension's download command fetch: the recommended
 * one, or a mirror named by ISARTOR_MODEL_URL + ISARTOR_MODEL_SHA256 (air-gapped caches, tests).
 */
import type { DownloadableModel } from './modelDownload';
import { RECOMMENDED_MODEL } from './modelDownload';

export const MODEL_URL_ENV = 'ISARTOR_MODEL_URL';
export const MODEL_SHA256_ENV = 'ISARTOR_MODEL_SHA256';

/** The override variables are incomplete or malformed; nothing was downloaded. */
export class ModelOverrideError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelOverrideError';
  }
}

/**
 * The recommended model, or the mirror the environment names. A mirror needs its sha256 (a download
 * is only kept once its checksum matched) and is saved under the recommended model's file name, so
 * the L2 layer picks it up from the data dir like the recommended one.
 *
 * @example modelToDownload({ ISARTOR_MODEL_URL: 'http://mirror.lan/qwen.gguf', ISARTOR_MODEL_SHA256: '74a4…' })
 */
export function modelToDownload(env: NodeJS.ProcessEnv): DownloadableModel {
  const url = env[MODEL_URL_ENV]?.trim();
  const sha256 = env[MODEL_SHA256_ENV]?.trim().toLowerCase();
  if (!url) {
    if (sha256) throw new ModelOverrideError(`${MODEL_SHA256_ENV} is set without ${MODEL_URL_ENV}`);
    return RECOMMENDED_MODEL;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ModelOverrideError(`${MODEL_URL_ENV} must be an http(s) URL (got "${url}")`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ModelOverrideError(`${MODEL_URL_ENV} must be an http(s) URL (got "${url}")`);
  if (!sha256) throw new ModelOverrideError(`${MODEL_URL_ENV} needs ${MODEL_SHA256_ENV}: the sha256 the downloaded file must have`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ModelOverrideError(`${MODEL_SHA256_ENV} must be 64 hex digits`);
  // Size unknown (0): progress then comes from the server's Content-Length alone.
  return { name: `model from ${parsed.host}`, url, sha256, bytes: 0, fileName: RECOMMENDED_MODEL.fileName };
}
