/**
 * ONNX Runtime's official Linux and macOS builds (since 1.29; transformers.js loads
 * onnxruntime-node 1.30 here) report usage to Microsoft by default: they write a device id and a
 * queue of events under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, upload them to
 * mobile.events.data.microsoft.com, and leave `.ses` and `mat-debug-<pid>.log` in the temp dir.
 * Isartor sends no telemetry, and neither may what it loads.
 *
 * ORT reads its opt-out from the process environment once, when it first initialises, in whatever
 * thread loads it. Only the main thread's `process.env` is the real environment (a worker's is a
 * copy), so the opt-out is set there before the L1b worker starts, and before transformers.js loads.
 */

/** The opt-out's name in onnxruntime 1.30, and the one later releases read. */
export const ORT_TELEMETRY_OPT_OUTS = ['ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED'] as const;

/**
 * Turns ORT's telemetry off for this process, unless the user set either variable themselves.
 *
 * @example optOutOfOnnxRuntimeTelemetry(); new Worker(script) // ORT in the worker sends nothing
 */
export function optOutOfOnnxRuntimeTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  if (ORT_TELEMETRY_OPT_OUTS.some((name) => env[name] !== undefined)) return;
  for (const name of ORT_TELEMETRY_OPT_OUTS) env[name] = '1';
}
