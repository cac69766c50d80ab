/**
 * The semantic cache's worker thread, started before the engine asks for it. A worker takes
 * ~200 ms (more on a busy machine) to boot Node and compile its bundle before it can open
 * anything; `isartor serve` knows it will want one as soon as its config is read, while the rest
 * of the proxy's code still initialises on the main thread (issue 15: first L1b answer ≤ 1 s).
 *
 * A spare opens nothing until it is claimed: its first message says what to open. So one that
 * is never claimed (the engine took another path) holds no lock and reads no file; it is ended
 * after `claimWithinMs`.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { optOutOfOnnxRuntimeTelemetry } from '../embed/onnxTelemetry';
import { workersCollectAfterOpen } from './openGarbage';
import type { SemanticWorkerData, SemanticWorkerInit } from './workerProtocol';

/** The worker thread for `script`; without `init` it waits for a `WorkerOpen` message. */
export function createSemanticWorker(script: string, init: SemanticWorkerInit | undefined, resourceLimits: ResourceLimits): Worker {
  // The worker may load onnxruntime (a neural embedder), which reads its opt-out from the real environment.
  optOutOfOnnxRuntimeTelemetry();
  const workerData: SemanticWorkerData = { ...(init ? { open: init } : {}), collectAfterOpen: workersCollectAfterOpen() };
  const options = { workerData, name: 'isartor-semantic', resourceLimits };
  // From source (tests): the worker thread does not inherit tsx's loader, so register it first.
  return script.endsWith('.ts') ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, { ...options, eval: true }) : new Worker(script, options);
}

interface Spare {
  worker: Worker;
  script: string;
  limits: string;
  timer: NodeJS.Timeout;
}

let spare: Spare | undefined;

/** Drops the spare from the slot (it is being claimed or has died). */
function unslot(which: Spare): void {
  if (spare !== which) return;
  clearTimeout(which.timer);
  spare = undefined;
}

/**
 * Starts a worker for `script` with `resourceLimits` that waits to be claimed by
 * `takeSpareWorker`; ended if nobody claims it within `claimWithinMs`. Replaces an earlier spare.
 *
 * @example startSpareWorker(semanticWorkerScript()!, semanticWorkerLimits(config.semantic.maxEntries));
 */
export function startSpareWorker(script: string, resourceLimits: ResourceLimits, claimWithinMs = 10_000): void {
  if (spare) void endSpare(spare);
  const worker = createSemanticWorker(script, undefined, resourceLimits);
  // It must not keep a process alive that is done; once claimed, the backend decides.
  worker.unref();
  const timer = setTimeout(() => void endSpare(current), claimWithinMs);
  timer.unref();
  const current: Spare = { worker, script, limits: JSON.stringify(resourceLimits), timer };
  spare = current;
  // A spare that fails before it is claimed is not handed out: its backend would wait for a
  // `ready` that never comes. After the claim the backend's own listeners take over.
  const died = (): void => unslot(current);
  worker.once('error', died);
  worker.once('exit', died);
}

async function endSpare(which: Spare): Promise<void> {
  unslot(which);
  await which.worker.terminate();
}

/**
 * The spare worker if one is waiting for exactly this script and these limits (ref'd again),
 * else undefined. The caller must post it a `WorkerOpen` message.
 */
export function takeSpareWorker(script: string, resourceLimits: ResourceLimits): Worker | undefined {
  const which = spare;
  if (!which || which.script !== script || which.limits !== JSON.stringify(resourceLimits)) return undefined;
  unslot(which);
  which.worker.ref();
  return which.worker;
}

/** Ends a spare nobody claimed (tests; a start that failed). */
export async function endSpareWorker(): Promise<void> {
  if (spare) await endSpare(spare);
}
