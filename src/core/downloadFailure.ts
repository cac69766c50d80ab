/**
 * Why a model download failed, in words a user can act on ("Could not reach huggingface.co (DNS
 * lookup failed)…" rather than "fetch failed"), and the empty folders a failed download leaves.
 */
import { readdir, rmdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';

/** Where the download came from, and how the user can point it elsewhere. */
export interface DownloadSource {
  url: string;
  /** e.g. 'set HF_ENDPOINT to a Hugging Face mirror'. */
  mirrorHint: string;
}

const NETWORK_CAUSES: Record<string, string> = {
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection was closed',
  ENETUNREACH: 'no route to the network',
  EHOSTUNREACH: 'no route to the host',
  CERT_HAS_EXPIRED: 'its TLS certificate is not trusted (a proxy or firewall may intercept HTTPS)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate is not trusted (a proxy or firewall may intercept HTTPS)',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate is not trusted (a proxy or firewall may intercept HTTPS)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is not trusted (a proxy or firewall may intercept HTTPS)',
};

/** The first error code along an error's `cause` chain (fetch puts the socket error there). */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * One sentence saying why, and what to do. `probe` is what a plain request to the source's host
 * threw (or undefined when the host answered): transformers.js reports a network failure only as
 * "fetch failed", so the flow asks the host once more to learn the cause.
 *
 * @example explainDownloadFailure(new TypeError('fetch failed'), { url: 'https://huggingface.co/', mirrorHint }, dnsError)
 * // "Could not reach huggingface.co (DNS lookup failed). Check your network connection, or set HF_ENDPOINT to a Hugging Face mirror."
 */
export function explainDownloadFailure(error: unknown, source: DownloadSource, probe?: unknown): string {
  const host = hostOf(source.url);
  const code = errorCode(error) ?? errorCode(probe);
  if (code === 'ENOSPC') return 'There is not enough free disk space for the model. Free some space and try again.';
  if (code === 'EACCES' || code === 'EPERM') return 'Isartor may not write to its storage folder. Check the folder\'s permissions and try again.';
  if (code && NETWORK_CAUSES[code]) return `Could not reach ${host} (${NETWORK_CAUSES[code]}). Check your network connection, or ${source.mirrorHint}.`;
  const message = error instanceof Error ? error.message : String(error);
  const status = /\b(40[1-4]|429|5\d\d)\b/.exec(message)?.[1];
  if (status === '404' || /could not locate file|not found/i.test(message)) return `${host} does not have this model (not found). Check the model name, or ${source.mirrorHint}.`;
  if (status === '401' || status === '403') return `${host} refused the download (HTTP ${status}: it needs a login or blocks this network). ${capitalise(source.mirrorHint)}.`;
  if (status === '429') return `${host} is limiting requests right now (HTTP 429). Try again in a few minutes.`;
  if (status) return `${host} had a server error (HTTP ${status}). Try again later, or ${source.mirrorHint}.`;
  if (/checksum|sha-?256/i.test(message)) return `The downloaded file from ${host} was not the expected model (its checksum did not match), so it was not kept. Try again, or ${source.mirrorHint}.`;
  if (/fetch failed|network|socket/i.test(message)) return `Could not reach ${host}. Check your network connection, or ${source.mirrorHint}.`;
  return `The download from ${host} failed: ${message}`;
}

/** Asks the source's host once (HEAD, 5 s) and returns what that threw, or undefined when it answered. */
export async function probeHost(url: string): Promise<unknown> {
  try {
    await fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * Removes `folder` when a failed download left it empty (files in it: kept), then each empty
 * parent up to, not including, `stopAt`. A folder the user put something in is never touched.
 */
export async function removeEmptyFolders(folder: string, stopAt: string): Promise<void> {
  const root = resolve(stopAt);
  let current = resolve(folder);
  if (!(await pruneEmpty(current))) return;
  for (;;) {
    current = dirname(current);
    if (current === root || relative(root, current).startsWith('..') || !(await pruneEmpty(current))) return;
  }
}

/** Deletes a folder holding nothing but empty folders; true when it is gone (or never existed). */
async function pruneEmpty(folder: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    return errorCode(error) === 'ENOENT';
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || !(await pruneEmpty(resolve(folder, entry.name)))) return false;
  }
  try {
    await rmdir(folder);
    return true;
  } catch {
    return false;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
