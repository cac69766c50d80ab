/**
 * Downloads a GGUF model on the user's explicit request, with progress, cancellation and a sha256
 * check, into the data dir. A file only gets its final name once its checksum matched.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../store/privateFiles';

/** A model Isartor can fetch for the user: pinned to one revision so the checksum stays valid. */
export interface DownloadableModel {
  name: string;
  url: string;
  sha256: string;
  bytes: number;
  fileName: string;
}

/**
 * The recommended L2 model: Qwen2.5-0.5B-Instruct, Q4_K_M (Apache-2.0, ~470 MiB, fast on a laptop
 * CPU). The URL pins the Hugging Face revision whose file has this checksum.
 */
export const RECOMMENDED_MODEL: DownloadableModel = {
  name: 'Qwen2.5-0.5B-Instruct (Q4_K_M)',
  url: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/9217f5db79a29953eb74d5343926648285ec7e67/qwen2.5-0.5b-instruct-q4_k_m.gguf',
  sha256: '74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db',
  bytes: 491_400_032,
  fileName: 'qwen2.5-0.5b-instruct-q4_k_m.gguf',
};

/** Where downloaded models live inside the data dir. */
export function modelsDir(dataDir: string): string {
  return join(dataDir, 'models');
}

/** The path a downloaded model gets. */
export function downloadedModelPath(dataDir: string, model: DownloadableModel = RECOMMENDED_MODEL): string {
  return join(modelsDir(dataDir), model.fileName);
}

export interface DownloadProgress {
  receivedBytes: number;
  /** From Content-Length, else the model's known size; undefined when neither is known. */
  totalBytes: number | undefined;
}

export interface DownloadOptions {
  url: string;
  sha256: string;
  destination: string;
  /** Expected size, used for progress when the server sends no Content-Length. */
  expectedBytes?: number;
  onProgress?: (progress: DownloadProgress) => void;
  /** Cancels the download; the partial file is removed. */
  signal?: AbortSignal;
}

/** The downloaded bytes do not hash to the expected value; nothing was kept. */
export class ChecksumMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`downloaded model failed its checksum (expected sha256 ${expected}, got ${actual}); the file was discarded`);
    this.name = 'ChecksumMismatchError';
  }
}

/**
 * Streams `url` to `destination` while hashing it. The bytes go to `destination + ".part"` and are
 * renamed only after the sha256 matched, so a crash, a cancel or a corrupt download never leaves a
 * file the model loader would pick up.
 *
 * @example await downloadFile({ url, sha256, destination, onProgress: (p) => bar.update(p.receivedBytes) });
 */
export async function downloadFile(options: DownloadOptions): Promise<string> {
  const partial = `${options.destination}.part`;
  await mkdir(dirname(options.destination), { recursive: true, mode: PRIVATE_DIR_MODE });
  const response = await fetch(options.url, options.signal ? { signal: options.signal, redirect: 'follow' } : { redirect: 'follow' });
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`model download failed: ${options.url} answered ${response.status} ${response.statusText}`);
  }
  const length = Number(response.headers.get('content-length'));
  const totalBytes = Number.isFinite(length) && length > 0 ? length : options.expectedBytes;
  const hash = createHash('sha256');
  let receivedBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      receivedBytes += chunk.length;
      options.onProgress?.({ receivedBytes, totalBytes });
      callback(null, chunk);
    },
  });
  try {
    const source = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    await pipeline(source, meter, createWriteStream(partial, { mode: PRIVATE_FILE_MODE }), options.signal ? { signal: options.signal } : {});
    const actual = hash.digest('hex');
    if (actual !== options.sha256.toLowerCase()) throw new ChecksumMismatchError(options.sha256.toLowerCase(), actual);
    await rename(partial, options.destination);
    return options.destination;
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/**
 * Downloads `model` (the recommended one by default) into `<dataDir>/models/`. Call only on the
 * user's explicit request: it is hundreds of megabytes.
 */
export function downloadModel(
  dataDir: string,
  options: { model?: DownloadableModel; onProgress?: (progress: DownloadProgress) => void; signal?: AbortSignal } = {},
): Promise<string> {
  const model = options.model ?? RECOMMENDED_MODEL;
  return downloadFile({
    url: model.url,
    sha256: model.sha256,
    destination: downloadedModelPath(dataDir, model),
    expectedBytes: model.bytes,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
