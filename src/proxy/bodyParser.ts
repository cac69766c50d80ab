/**
 * Parses request bodies without holding the proxy's thread: a small body inline (a worker hop
 * would cost more than the parse), a large one on a worker thread that also computes the digests
 * the caches key it by. The same worker runs the L2.5 optimiser on large bodies. A 4 MiB prompt costs ~100 ms of parsing, canonical serialising and hashing;
 * on this thread that would stall every other client and, inside VS Code, the extension host.
 * A large body of very many pieces stays in the worker (OversizedBody): taking the parsed value
 * in costs this thread time per piece, as much as parsing it here would.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { adoptDigests } from '../core/digestMemo';
import type { Logger } from '../core/logger';
import type { ApiStyle, JsonValue } from '../core/request';
import type { CountRemovedTokens, OffThreadOptimise } from '../core/optimiser/optimise';
import { readAnswerJson, type OffThreadAnswerReader } from '../core/stream/large-answer';
import type { BodyJob, BodyReply, JobFailure } from './bodyWorkerProtocol';
import { ProxyError } from './errors';
import { parseJsonBody } from './incoming';

/** Bodies from this size on go to the worker: parsed inline they take a few milliseconds. */
export const OFF_THREAD_BYTES = 256 * 1024;

/**
 * A large body with more pieces than this thread takes in at once (`MAX_MAIN_THREAD_NODES`):
 * cloning it here from the worker would hold every other client for longer than the proxy may.
 * The worker checked it (with `api`, as `validateBody` does) and kept it; the proxy forwards the
 * client's bytes as they are. `model`: the body's, when it has a string one (always, with `api`).
 */
export class OversizedBody {
  constructor(readonly model: string | undefined) {}
}

export interface BodyParser {
  /**
   * The body as JSON; with `api` (an engine request), its cache digests are ready too. Rejects
   * with a 400 ProxyError saying what is wrong, as `parseJsonBody` does (and, with `api`, as
   * `validateBody` does for an oversized one). A large body of very many pieces is an OversizedBody.
   */
  parse(raw: Buffer, api?: ApiStyle): Promise<JsonValue | OversizedBody>;
  /** The L2.5 optimiser on a large body or heavy editing, in the worker (see OffThreadOptimise); undefined otherwise. */
  optimise: OffThreadOptimise;
  /**
   * Counts with o200k the tokens the optimiser's edits removed, on a second worker started on
   * first use (see CountRemovedTokens); rejects when there is no worker script.
   */
  countRemoved: CountRemovedTokens;
  /** Reads an upstream answer too large to store, in the worker (see OffThreadAnswerReader). */
  readAnswer: OffThreadAnswerReader;
  /** Stops the worker; bodies being parsed fail. */
  close(): Promise<void>;
}

/** The count worker's script (src/proxy/countWorker.ts), found as bodyWorkerScript finds its own. */
export function countWorkerScript(): string | undefined {
  return [join(__dirname, 'countWorker.js'), join(__dirname, 'countWorker.ts')].find((path) => existsSync(path));
}

/**
 * The worker's script: dist/bodyWorker.js beside the bundle that runs this code (CLI and extension),
 * or bodyWorker.ts beside this file when running from source (tests under tsx).
 */
export function bodyWorkerScript(): string | undefined {
  return [join(__dirname, 'bodyWorker.js'), join(__dirname, 'bodyWorker.ts')].find((path) => existsSync(path));
}

/**
 * The bytes in shared memory, which a message hands to the worker without copying. Posting the
 * Buffer itself would structured-clone it: ~20 ms per 4 MiB on this thread. A body read as sent
 * is in shared memory already (readRequestBody); a compressed one is copied here (22–33 ms for
 * 30 MB). The worker only reads it; the proxy forwards the original upstream when unchanged.
 */
function sharedView(raw: Buffer): Uint8Array {
  if (raw.buffer instanceof SharedArrayBuffer) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const shared = new Uint8Array(new SharedArrayBuffer(raw.length));
  shared.set(raw);
  return shared;
}

type Pending = { resolve: (reply: BodyReply) => void; reject: (error: Error) => void };
type Job = BodyJob extends infer J ? (J extends unknown ? Omit<J, 'id'> : never) : never;

const failureOf = (failure: JobFailure): ProxyError => new ProxyError(failure.status, failure.code, failure.message, failure.param);

/**
 * @example
 * const bodies = createBodyParser({ logger });
 * const body = await bodies.parse(rawBody, 'openai.chat');
 */
export function createBodyParser(options: { logger: Logger; offThreadBytes?: number; script?: string | undefined }): BodyParser {
  const { logger } = options;
  const offThreadBytes = options.offThreadBytes ?? OFF_THREAD_BYTES;
  const script = 'script' in options ? options.script : bodyWorkerScript();
  if (!script) logger.warn('the body worker (dist/bodyWorker.js) is missing from this install, so large requests are parsed on the proxy\'s thread and can delay other clients; reinstall Isartor');
  let closed = false;

  /**
   * One worker thread with its jobs in flight, started on first use: `body` for what requests wait
   * for, `count` for the token counts recorded after the fact (its tokenizer load must not delay a
   * request's parse).
   */
  const channel = (name: string, path: string | undefined): { run: (job: Job) => Promise<BodyReply>; stop: () => Promise<void> } => {
    let worker: Worker | undefined;
    const pending = new Map<number, Pending>();
    let nextId = 1;
    const start = (path: string): Worker => {
      const started = path.endsWith('.ts')
        ? // From source (tests): a worker thread does not inherit tsx's loader, so register it first.
          new Worker(`require('tsx/cjs'); require(${JSON.stringify(path)});`, { eval: true, name })
        : new Worker(path, { name });
      started.on('message', (reply: BodyReply) => {
        const waiter = pending.get(reply.id);
        pending.delete(reply.id);
        if (pending.size === 0) started.unref();
        waiter?.resolve(reply);
      });
      // A worker that dies (out of memory on a huge body, say) fails the bodies it held; the next
      // large body starts a new one.
      const fail = (reason: string): void => {
        if (worker === started) worker = undefined;
        for (const waiter of pending.values()) waiter.reject(new ProxyError(500, 'internal_error', `Isartor could not read the request body: ${reason}. The proxy is still running.`));
        pending.clear();
      };
      started.on('error', (error) => {
        logger.warn(`the ${name} worker failed: ${error.message}`);
        fail(error.message);
      });
      started.on('exit', (code) => fail(`the ${name} worker exited (code ${code})`));
      started.unref();
      return started;
    };
    return {
      run(job) {
        worker ??= start(path!);
        const id = nextId++;
        return new Promise<BodyReply>((resolve, reject) => {
          pending.set(id, { resolve, reject });
          worker!.ref();
          worker!.postMessage({ ...job, id });
        });
      },
      async stop() {
        const stopping = worker;
        worker = undefined;
        await stopping?.terminate();
      },
    };
  };
  const bodyChannel = channel('isartor-body', script);
  const countScript = 'script' in options ? options.script && countWorkerScript() : countWorkerScript();
  const countChannel = channel('isartor-count', countScript);
  const run = bodyChannel.run;

  /** Whether a body of `bytes` goes to the worker. */
  const offThread = (bytes: number): boolean => script !== undefined && !closed && bytes >= offThreadBytes;

  return {
    async parse(raw, api) {
      if (!offThread(raw.length)) return parseJsonBody(raw);
      const reply = await run(api === undefined ? { kind: 'parse', bytes: sharedView(raw) } : { kind: 'parse', bytes: sharedView(raw), api });
      if ('error' in reply) throw failureOf(reply.error);
      if ('oversized' in reply) return new OversizedBody(reply.oversized.model);
      if (!('value' in reply)) throw new ProxyError(500, 'internal_error', 'the body worker answered a parse with something else');
      if (reply.value !== null && typeof reply.value === 'object') adoptDigests(reply.value, reply.digests);
      return reply.value;
    },
    optimise(settings, input, options) {
      if (!offThread(options?.heavy === true ? offThreadBytes : input.rawBody.length)) return undefined;
      return run({ kind: 'optimise', bytes: sharedView(input.rawBody), api: input.api, model: input.model, settings }).then((reply) => {
        if ('error' in reply) throw failureOf(reply.error);
        if (!('optimised' in reply)) throw new Error('the body worker answered an optimisation with something else');
        const { forwardBody, tokensSaved, cacheHints, edited } = reply.optimised;
        // The worker handed its buffer over: a view, not a copy.
        const result = forwardBody ? { forwardBody: Buffer.from(forwardBody.buffer, forwardBody.byteOffset, forwardBody.byteLength), tokensSaved, cacheHints } : { tokensSaved, cacheHints };
        return edited ? { ...result, edited } : result;
      });
    },
    async readAnswer(api, json) {
      if (script === undefined || closed) return readAnswerJson(api, json);
      const reply = await run({ kind: 'answer', api, json: typeof json === 'string' ? json : sharedView(Buffer.from(json.buffer, json.byteOffset, json.byteLength)) });
      if (!('reading' in reply)) throw new Error('the body worker answered an answer reading with something else');
      return reply.reading;
    },
    async countRemoved(edited) {
      if (countScript === undefined || closed) throw new Error('no worker to count tokens on');
      const reply = await countChannel.run({ kind: 'count', before: edited.before, after: edited.after });
      if ('error' in reply) throw new Error(reply.error.message);
      if (!('counted' in reply)) throw new Error('the count worker answered with something else');
      return reply.counted;
    },
    async close() {
      closed = true;
      await Promise.all([bodyChannel.stop(), countChannel.stop()]);
    },
  };
}
