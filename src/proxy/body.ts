/**
 * Reads a request body into one Buffer with a size cap, decoding gzip, deflate or brotli
 * Content-Encoding, without the per-request cost of a general body-parsing middleware. A body the
 * proxy refuses is still read and thrown away (up to a bound) before the answer goes out, so a
 * client that uploads first and reads afterwards sees the error instead of a broken pipe.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { OFF_THREAD_BYTES } from './bodyParser';
import { ProxyError, bodyTooLarge } from './errors';

/** Thrown when the client went away before sending its whole body: there is no one to answer. */
export class BodyAbortedError extends Error {}

/**
 * Bytes of a refused body read and discarded before answering. Past it the answer goes out at
 * once and the connection may close under the client's upload.
 */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Reads and throws away what is left of `req`'s body; resolves once it ended, the client went away,
 * or `limit` more bytes went by (then Node keeps discarding while the answer goes out).
 *
 * @example await discardBody(req); sendError(res, 'openai', error);
 */
export function discardBody(req: IncomingMessage, limit = DISCARD_LIMIT_BYTES): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (): void => {
      req.off('data', onData);
      req.off('end', finish);
      req.off('close', finish);
      req.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > limit) finish();
    };
    req.on('data', onData);
    req.once('end', finish);
    req.once('close', finish);
    req.once('error', finish);
    req.resume();
  });
}

/** Content types an API body may be declared as: `application/json` and `application/*+json`. */
const JSON_CONTENT_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * A 415 ProxyError when `contentType` is not JSON (absent included), else undefined. Browsers can
 * send `text/plain`, form encodings and bodies with no type without a CORS preflight; refusing
 * them keeps a web page from ever posting to the API.
 *
 * @example jsonContentTypeError('text/plain') // ProxyError 415
 */
export function jsonContentTypeError(contentType: string | undefined): ProxyError | undefined {
  if (contentType !== undefined && JSON_CONTENT_TYPE.test(contentType.trim())) return undefined;
  const got = contentType === undefined ? 'no Content-Type' : `Content-Type "${contentType.slice(0, 100)}"`;
  return new ProxyError(415, 'unsupported_media_type', `The request body must be JSON sent with Content-Type: application/json (this request had ${got}).`);
}

function decoded(req: IncomingMessage): Readable {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding === 'identity' || encoding === '') return req;
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
  if (!decoder) {
    throw new ProxyError(415, 'unsupported_encoding', `The request body uses Content-Encoding "${encoding}", which this proxy cannot read; send it uncompressed, gzip, deflate or br.`);
  }
  req.on('error', (error) => decoder.destroy(error));
  return req.pipe(decoder);
}

/**
 * The whole body, decoded. Rejects with a 413 ProxyError past `limit` bytes (checked against
 * Content-Length first, so an oversized upload is refused without being kept), a 400 for a corrupt
 * encoding, or BodyAbortedError when the client disconnects. A refusal settles only once the rest
 * of the upload has been discarded.
 *
 * @example const raw = await readRequestBody(req, config.maxBodyBytes);
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return discardBody(req).then(() => Promise.reject(bodyTooLarge(limit)));
  }
  return new Promise((resolve, reject) => {
    let source: Readable;
    try {
      source = decoded(req);
    } catch (error) {
      void discardBody(req).then(() => reject(error as Error));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    // A body the body worker will read arrives straight into shared memory, a chunk per callback:
    // joining it at the end and copying it again for the worker took 40-60 ms of this thread in
    // one go for a 30 MB body. Its length is known when it is sent as is.
    const shared = source === req && Number.isFinite(declared) && declared >= OFF_THREAD_BYTES ? Buffer.from(new SharedArrayBuffer(declared)) : undefined;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      if (source !== req) {
        req.unpipe(source as unknown as NodeJS.WritableStream);
        source.destroy();
      } else {
        source.removeAllListeners('data');
      }
      if (error instanceof BodyAbortedError) reject(error);
      else void discardBody(req).then(() => reject(error));
    };
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        fail(bodyTooLarge(limit));
        return;
      }
      if (!shared) chunks.push(chunk);
      // Node's HTTP parser never delivers more than Content-Length; this guards the copy anyway.
      else if (size > shared.length) fail(new ProxyError(400, 'invalid_request', 'The request body is longer than its Content-Length.'));
      else shared.set(chunk, size - chunk.length);
    });
    source.on('end', () => {
      if (settled) return;
      settled = true;
      if (shared) resolve(size === shared.length ? shared : shared.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    source.once('error', (error: Error) => {
      fail(source === req ? new BodyAbortedError(error.message) : new ProxyError(400, 'unreadable_body', `The request body could not be decoded (${error.message}).`));
    });
    req.once('aborted', () => fail(new BodyAbortedError('client closed the connection')));
  });
}
