/**
 * Passes an upstream body to the client chunk by chunk while a collector rebuilds the answer for
 * the caches. A stream that breaks mid-way, or stops before its end marker, ends with an API-shaped
 * error event instead of a silent cut.
 */
import { Readable } from 'node:stream';
import type { AnswerCollector, ReportedUsage } from '../stream/answer-collector';
import type { StoredAnswer } from '../outcome';
import type { ApiStyle } from '../request';
import { createAnswerCollector } from '../stream/answer-collector';
import { pacedFeed, type PacedFeed } from '../stream/paced-feed';
import { LargeAnswer, type AnswerReading, type OffThreadAnswerReader } from '../stream/large-answer';
import { watchResponsesSequence } from '../stream/responses-sequence';
import { dataFrame, namedFrame } from '../stream/sse-format';
import { SseTail } from '../stream/sse-tail';

export interface TeeOptions {
  api: ApiStyle;
  contentType: string | undefined;
  /** Only 2xx responses can be answers; error bodies pass through uncollected. */
  collect: boolean;
  /** Reads an answer too large to store off the proxy's thread (large-answer.ts). */
  reader?: OffThreadAnswerReader;
}

/** The body to pass on, and what the collector made of it once it ended. */
export interface TeedBody {
  body: Readable;
  /** The answer, when it is complete, `collect` is set and it is not too large to store; otherwise undefined. */
  completion: Promise<StoredAnswer | undefined>;
  /** For an answer too large to store (`completion` is then undefined): what was read of it. */
  large: Promise<AnswerReading | undefined>;
  /**
   * For a body that did not end as a complete answer (cut, cancelled by the client, ended in an
   * error or `response.incomplete`): the usage the provider reported in it, which it bills.
   * Undefined for a complete answer, an uncollected body or a body without usage.
   */
  reported: Promise<ReportedUsage | undefined>;
  /**
   * STREAM_BROKEN_CODE once the client's stream ended in the tee's error frame (the upstream broke
   * off or stopped before its end marker), STREAM_ERROR_CODE once it ended in the provider's own
   * error event; undefined otherwise. Set before `completion` resolves.
   */
  streamFailure: () => string | undefined;
}

/** The error code of the frame that ends a stream the upstream broke off, and of its ledger record. */
export const STREAM_BROKEN_CODE = 'upstream_stream_broken';

/** The ledger's error code for a stream that ended in the provider's own error event. */
export const STREAM_ERROR_CODE = 'upstream_stream_error';

/**
 * The SSE frame that tells an SDK the stream failed (OpenAI: an error chunk; Anthropic: an error
 * event). A Responses error event takes `nextSequence`, the stream's next sequence number, as every
 * event of that stream carries one.
 */
export function streamErrorFrame(api: ApiStyle, message: string, nextSequence = 0): string {
  if (api === 'anthropic.messages') {
    return namedFrame('error', { type: 'error', error: { type: 'api_error', message } });
  }
  if (api === 'openai.responses') {
    return namedFrame('error', { type: 'error', code: STREAM_BROKEN_CODE, message, param: null, sequence_number: nextSequence });
  }
  return dataFrame({ error: { message, type: 'server_error', code: STREAM_BROKEN_CODE, param: null } });
}

/**
 * Tees `source`. `completion` resolves once the source ended: with the answer when it is complete
 * and `collect` is set, otherwise (error status, broken stream, client gone) with undefined.
 *
 * @example const { body, completion } = teeUpstreamBody(res.body, { api, contentType, collect: true });
 */
export function teeUpstreamBody(source: Readable, options: TeeOptions): TeedBody {
  const collector = options.collect ? createAnswerCollector(options.api, options.contentType, options.reader) : undefined;
  const isStream = options.contentType?.includes('text/event-stream') === true;
  let settle!: (answer: StoredAnswer | LargeAnswer | undefined) => void;
  let settleLarge!: (reading: Promise<AnswerReading | undefined> | undefined) => void;
  const large = new Promise<AnswerReading | undefined>((resolve) => (settleLarge = resolve));
  let settled = false;
  let answered = false;
  const completion = new Promise<StoredAnswer | undefined>((resolve) => {
    settle = (answer) => {
      if (settled) return;
      settled = true;
      answered = answer !== undefined;
      resolve(answer instanceof LargeAnswer ? undefined : answer);
      settleLarge(answer instanceof LargeAnswer ? answer.reading : undefined);
    };
  });
  // The collector's feed is paced (it may lag the client): its usage is read once it has caught up.
  const feed = collector && isStream ? pacedFeed((chunk) => collector.push(chunk)) : undefined;
  const reported = completion.then(async () => {
    if (answered || !collector) return undefined;
    await feed?.drained();
    return collector.reportedUsage();
  });

  if (!isStream) return { body: watchPlainBody(source, collector, settle), completion, large, reported, streamFailure: noFailure };

  let failure: string | undefined;
  const body = watchStreamBody(source, options.api, collector, feed, settle, (code) => (failure = code));
  return { body, completion, large, reported, streamFailure: () => failure };
}

/** A plain body is never mended: one that breaks is cut, and its client sees a broken connection. */
const noFailure = (): undefined => undefined;

/**
 * A stream goes to the client through a Readable fed from the upstream body's own 'data' events:
 * a Transform in the pipe cost each of a stream's dozens of chunks a write, a transform and a
 * read (issue 15). The Readable is what lets the tee add the API's error frame when the stream
 * breaks off or ends before its end marker. The upstream body is paused until the client's side
 * asks for data, and paused again whenever the client falls behind (backpressure).
 */
function watchStreamBody(
  source: Readable,
  api: ApiStyle,
  collector: AnswerCollector | undefined,
  /** The collector's feed: paced, so a burst of events never holds the thread (paced-feed.ts). */
  feed: PacedFeed | undefined,
  settle: (answer: StoredAnswer | LargeAnswer | undefined) => void,
  onFailure: (code: string) => void,
): Readable {
  // A Responses error event needs the stream's next sequence number: the collector counts them;
  // a body it does not read (an error status sent as a stream, rare) is watched for them here.
  const watch = api === 'openai.responses' && !collector ? watchResponsesSequence() : undefined;
  let finished = false;
  const tail = new SseTail();
  const body = new Readable({
    read() {
      source.resume();
    },
  });
  // A cut (below) reaches the client through its pipe's 'error' listener; a body not piped yet
  // (the layers take a few turns) must not turn it into an uncaught exception.
  body.on('error', () => undefined);
  /**
   * Ends the client's side once, after the API's error frame when there is one. After a partial
   * event the frame would be read as part of it (sse-tail.ts): the client's connection is cut
   * instead, as it would be talking to the provider itself, which every SDK reports as an error.
   */
  const finish = (frame?: string): void => {
    if (finished) return;
    finished = true;
    if (body.destroyed) return;
    if (frame !== undefined && !tail.atBoundary()) {
      body.destroy(new Error('the upstream stream stopped mid-event'));
      return;
    }
    if (frame !== undefined) body.push(frame);
    body.push(null);
  };
  /**
   * Ends the client's side with the API's error frame. A Responses one waits for the collector to
   * have read every event before it (the collector numbers them; it is paced, so it may lag).
   * Called before `settle`, so the failure is known once `completion` resolves.
   */
  const failWith = (message: string): void => {
    // A client that left is recorded as gone (499), not as served a broken stream.
    if (!body.destroyed) onFailure(STREAM_BROKEN_CODE);
    if (api !== 'openai.responses') return finish(streamErrorFrame(api, message));
    void (feed?.drained() ?? Promise.resolve()).then(() => finish(streamErrorFrame(api, message, collector?.nextSequence?.() ?? watch?.next())));
  };
  source.pause();
  source.on('data', (chunk: Buffer) => {
    feed?.push(chunk);
    watch?.push(chunk);
    tail.push(chunk);
    if (!body.push(chunk)) source.pause();
  });
  source.on('end', () => {
    if (!collector || !feed) {
      settle(undefined);
      finish();
      return;
    }
    void feed.drained().then(() => {
      if (feed.failed()) {
        settle(undefined);
        finish();
        return;
      }
      const answer = collector.finish();
      // The provider said the answer failed (its own error event, passed on as it came): the
      // client got an error, and the ledger says so rather than counting a served answer.
      if (collector.upstreamError?.()) onFailure(STREAM_ERROR_CODE);
      // A stream closed cleanly before its end marker is as broken as a reset one: say so, or the
      // client takes a truncated answer for a whole one.
      const whole = collector.ended();
      if (!whole) failWith('the upstream stream ended before the answer was complete (no end-of-stream marker); retry the request');
      settle(answer);
      if (whole) finish();
    });
  });
  const brokeOff = (reason: string): void => {
    failWith(`the upstream stream broke off before the answer was complete (${reason}); retry the request`);
    settle(undefined);
  };
  source.on('error', (error: Error) => brokeOff(error.message));
  // Destroyed without an error or an end (not by this tee): as broken as a reset.
  source.on('close', () => {
    if (!source.readableEnded) brokeOff('the upstream body was closed');
  });
  // A client that left does not stop the feed: what it already received may hold the provider's
  // usage (an Anthropic message_start), which is billed; the source is destroyed, so no more comes.
  body.on('close', () => {
    settle(undefined);
    if (!source.readableEnded) source.destroy();
  });
  return body;
}

/**
 * A body that is not a stream goes to the client as it is: nothing is ever added to it, so a
 * Transform in between only cost a miss its stream plumbing (issue 15). The collector watches the
 * source's own 'data' events instead, which `read()` emits too, so it sees every chunk whoever
 * consumes the body (a pipe, an async iterator). Paused first: the 'data' listener must not start
 * the flow before the body's consumer is attached.
 */
function watchPlainBody(source: Readable, collector: AnswerCollector | undefined, settle: (answer: StoredAnswer | LargeAnswer | undefined) => void): Readable {
  source.pause();
  if (collector) source.on('data', (chunk: Buffer) => collector.push(chunk));
  // `on`: 'end' and 'close' come once each; `once` would cost a wrapper per miss.
  let ended = false;
  source.on('end', () => {
    ended = true;
    // Parsed once every 'end' listener has run, so a pipe's has sent the client its last bytes:
    // the client's answer does not wait for the caches' copy to be parsed (issue 15).
    queueMicrotask(() => settle(collector?.finish()));
  });
  // Before 'end' (destroyed: the client left, or the body broke) no answer.
  source.on('close', () => {
    if (!ended) settle(undefined);
  });
  // A broken body fails its consumer (the proxy then cuts the connection); never an answer.
  source.on('error', () => settle(undefined));
  return source;
}
