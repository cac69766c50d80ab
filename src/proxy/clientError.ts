/**
 * Requests Node's HTTP parser refuses before any handler sees them (a head too large, a malformed
 * Content-Length, both Content-Length and Transfer-Encoding): answered with a JSON error in the
 * OpenAI shape (the path is not known yet) instead of Node's empty 400/431, then closed.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, ProxyError } from './errors';

/** The parser's error for one connection, as the server's 'clientError' event gives it. */
type ParserError = Error & { code?: string };

/** What the client is told for `error`. */
export function clientErrorFor(error: ParserError): ProxyError {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return new ProxyError(431, 'request_header_too_large', `The request URL and headers are larger than Isartor accepts (${Math.round(maxHeaderSize / 1024)} KB). Send a shorter URL or fewer headers.`);
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new ProxyError(408, 'request_timeout', 'The request took too long to arrive. Retry.');
  return new ProxyError(400, 'malformed_http', `The HTTP request could not be parsed (${error.code ?? error.message}). Check its Content-Length and Transfer-Encoding headers.`);
}

/**
 * The server's 'clientError' listener. A socket that is gone, or on which a response has already
 * begun (a keep-alive connection mid-answer: writing there would corrupt it), is only destroyed,
 * as Node does by default.
 *
 * @example server.on('clientError', answerClientError)
 */
export function answerClientError(error: ParserError, socket: Duplex): void {
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
    socket.destroy();
    return;
  }
  const refusal = clientErrorFor(error);
  const body = JSON.stringify(errorBody('openai', refusal));
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
