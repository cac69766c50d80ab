/**
 * Passes an upstream body to the client chunk by chunk while a collector rebuilds the answer for
 * the caches. A stream that breaks mid-way, or stops before its end marker, ends with an API-shaped
 * error event instead of a silent cut.
 */
import { Transform, type Readable } from 'node:stream';
import type { AnswerCollector } from '../stream/answer-collector';
import type { StoredAnswer } from '../outcome';
import type { ApiStyle } from '../request';
import { createAnswerCollector } from '../stream/answer-collector';
import { dataFrame, namedFrame } from '../stream/sse-format';

export interface TeeOptions {
  api: ApiStyle;
  contentType: string | undefined;
  /** Only 2xx responses can be answers; error bodies pass through uncollected. */
  collect: boolean;
}

/** The SSE frame that tells an SDK the stream failed (OpenAI: an error chunk; Anthropic: an error event). */
export function streamErrorFrame(api: ApiStyle, message: string): string {
  if (api === 'anthropic.messages') {
    return namedFrame('error', { type: 'error', error: { type: 'api_error', message } });
  }
  if (api === 'openai.responses') {
    return namedFrame('error', { type: 'error', code: 'upstream_stream_broken', message, param: null });
  }
  return dataFrame({ error: { message, type: 'server_error', code: 'upstream_stream_broken', param: null } });
}

/**
 * Tees `source`. `completion` resolves once the source ended: with the answer when it is complete
 * and `collect` is set, otherwise (error status, broken stream, client gone) with undefined.
 *
 * @example const { body, completion } = teeUpstreamBody(res.body, { api, contentType, collect: true });
 */
export function teeUpstreamBody(source: Readable, options: TeeOptions): { body: Readable; completion: Promise<StoredAnswer | undefined> } {
  const collector = options.collect ? createAnswerCollector(options.api, options.contentType) : undefined;
  const isStream = options.contentType?.includes('text/event-stream') === true;
  let settle!: (answer: StoredAnswer | undefined) => void;
  let settled = false;
  const completion = new Promise<StoredAnswer | undefined>((resolve) => {
    settle = (answer) => {
      if (settled) return;
      settled = true;
      resolve(answer);
    };
  });

  if (!isStream) return { body: watchPlainBody(source, collector, settle), completion };

  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      collector?.push(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      settle(collector?.finish());
      // A stream closed cleanly before its end marker is as broken as a reset one: say so, or the
      // client takes a truncated answer for a whole one.
      if (isStream && collector && !collector.ended()) {
        callback(null, streamErrorFrame(options.api, 'the upstream stream ended before the answer was complete (no end-of-stream marker); retry the request'));
        return;
      }
      callback();
    },
  });

  source.on('error', (error: Error) => {
    settle(undefined);
    source.unpipe(body);
    if (isStream && !body.destroyed && !body.writableEnded) {
      body.end(streamErrorFrame(options.api, `the upstream stream broke off before the answer was complete (${error.message}); retry the request`));
    } else {
      body.destroy(error);
    }
  });
  body.on('close', () => {
    settle(undefined);
    if (!source.readableEnded) source.destroy();
  });
  source.pipe(body);
  return { body, completion };
}

/**
 * A body that is not a stream goes to the client as it is: nothing is ever added to it, so a
 * Transform in between only cost a miss its stream plumbing (issue 15). The collector watches the
 * source's own 'data' events instead, which `read()` emits too, so it sees every chunk whoever
 * consumes the body (a pipe, an async iterator). Paused first: the 'data' listener must not start
 * the flow before the body's consumer is attached.
 */
function watchPlainBody(source: Readable, collector: AnswerCollector | undefined, settle: (answer: StoredAnswer | undefined) => void): Readable {
  source.pause();
  if (collector) source.on('data', (chunk: Buffer) => collector.push(chunk));
  // `on`: 'end' and 'close' come once each; `once` would cost a wrapper per miss.
  source.on('end', () => settle(collector?.finish()));
  // After 'end' this does nothing; before it (destroyed: the client left, or the body broke) no answer.
  source.on('close', () => settle(undefined));
  // A broken body fails its consumer (the proxy then cuts the connection); never an answer.
  source.on('error', () => settle(undefined));
  return source;
}
