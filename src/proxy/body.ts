/**
 * Reads a request body into one Buffer with a size cap, decoding gzip, deflate or brotli
 * Content-Encoding, without the per-request cost of a general body-parsing middleware.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ProxyError, bodyTooLarge } from './errors';

/** Thrown when the client went away before sending its whole body: there is no one to answer. */
export class BodyAbortedError extends Error {}

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
 * Content-Length first, so an oversized upload is refused before it is read), a 400 for a corrupt
 * encoding, or BodyAbortedError when the client disconnects.
 *
 * @example const raw = await readRequestBody(req, config.maxBodyBytes);
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(bodyTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    let source: Readable;
    try {
      source = decoded(req);
    } catch (error) {
      req.resume();
      reject(error);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      req.resume();
      reject(error);
    };
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        source.removeAllListeners('data');
        fail(bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    source.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    source.once('error', (error: Error) => {
      fail(source === req ? new BodyAbortedError(error.message) : new ProxyError(400, 'unreadable_body', `The request body could not be decoded (${error.message}).`));
    });
    req.once('aborted', () => fail(new BodyAbortedError('client closed the connection')));
  });
}
