/**
 * A closed-loop HTTP load generator for the benchmarks: `concurrency` workers each send the next
 * request as soon as their previous one has been read to the end, over keep-alive connections.
 * It records each request's total time, its time to first body byte, and the layer that answered.
 */
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

/** One batch of requests against one URL. */
export interface LoadSpec {
  /** Full URL of the endpoint, e.g. "http://127.0.0.1:8787/v1/chat/completions". */
  url: string;
  headers: Record<string, string>;
  /** Request bodies are made on demand, so every request can differ (a miss every time). */
  body: (index: number) => string;
  count: number;
  concurrency: number;
  /** Keep-alive connection pool shared across batches, so connections are set up only once. */
  agent: Agent;
  /** Called after each completed request with the number done so far. */
  onProgress?: (done: number) => void;
}

export interface LoadResult {
  /** Milliseconds from sending to the last body byte, one per request. */
  totalMs: number[];
  /** Milliseconds from sending to the first body byte, one per request. */
  firstByteMs: number[];
  /** Wall-clock milliseconds for the whole batch (throughput = count / wallMs). */
  wallMs: number;
  /** `x-isartor-layer` of each answer ("none" when the header is absent: direct or pass-through). */
  layers: Record<string, number>;
}

/** A request answered with an error status: a benchmark of failures would measure nothing. */
export class LoadError extends Error {}

/**
 * Creates the keep-alive pool a run shares across its batches.
 *
 * @example const agent = createLoadAgent(); … await agent.close();
 */
export function createLoadAgent(): Agent {
  return new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
}

/**
 * Sends `spec.count` POST requests with `spec.concurrency` in flight and times each one. Throws a
 * LoadError naming the status and body of the first answer that is not a 200.
 *
 * @example const result = await runLoad({ url, headers, body: (i) => bodyFor(i), count: 100, concurrency: 8, agent });
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const totalMs: number[] = [];
  const firstByteMs: number[] = [];
  const layers: Record<string, number> = {};
  let next = 0;
  let done = 0;
  let failed = false;

  const worker = async (): Promise<void> => {
    try {
      await work();
    } catch (error) {
      failed = true; // the other workers stop after their current request
      throw error;
    }
  };
  const work = async (): Promise<void> => {
    while (next < spec.count && !failed) {
      const index = next++;
      const payload = spec.body(index);
      const started = performance.now();
      const response = await request(spec.url, { method: 'POST', headers: spec.headers, body: payload, dispatcher: spec.agent });
      let firstByte: number | undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) {
        firstByte ??= performance.now();
        chunks.push(chunk as Buffer);
      }
      const finished = performance.now();
      if (response.statusCode !== 200) {
        throw new LoadError(`${spec.url} answered ${response.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`);
      }
      totalMs.push(finished - started);
      firstByteMs.push((firstByte ?? finished) - started);
      const layer = response.headers['x-isartor-layer'];
      const name = typeof layer === 'string' ? layer : 'none';
      layers[name] = (layers[name] ?? 0) + 1;
      spec.onProgress?.(++done);
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, Math.min(spec.concurrency, spec.count)) }, worker));
  return { totalMs, firstByteMs, wallMs: performance.now() - started, layers };
}
