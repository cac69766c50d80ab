/**
 * The count worker: counts with o200k the tokens the optimiser's opt-in edits removed, for the
 * ledger record written after the answer (src/proxy/bodyParser.ts, countRemoved). A thread of its
 * own, because loading the tokenizer takes ~0.4 s and the body worker is one requests wait for;
 * a bundle of its own, because the tokenizer's 4 MB of ranks would slow every body worker's start.
 */
import { parentPort } from 'node:worker_threads';
import { countTokensExactly } from '../core/tokens';
import type { BodyReply, CountJob } from './bodyWorkerProtocol';

/**
 * Tokens `after` holds fewer than `before`, text by text. Exact: the texts are bounded by the
 * optimiser's per-request budget, and nothing waits for this thread.
 */
function countRemoved(job: CountJob): number {
  let removed = 0;
  job.before.forEach((text, index) => {
    removed += Math.max(0, countTokensExactly(text) - countTokensExactly(job.after[index] ?? ''));
  });
  return removed;
}

parentPort!.on('message', (job: CountJob) => {
  try {
    parentPort!.postMessage({ id: job.id, counted: countRemoved(job) } satisfies BodyReply);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    parentPort!.postMessage({ id: job.id, error: { status: 500, code: 'internal_error', message, param: null } } satisfies BodyReply);
  }
});
