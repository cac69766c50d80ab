/**
 * `isartor model download --embedder [--model ID]`: fetch a sentence-embedding model for the L1b
 * semantic cache into the data dir, with one progress bar over all its files and Ctrl-C.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { EngineConfig } from '../core/config';
import { downloadModel, embeddingModelDir, totalProgress } from '../core/embed/download';
import { holdsEmbeddingModel, plannedEmbedder } from '../core/embed/plannedEmbedder';

/** Output streams, injectable for tests. */
export interface EmbedderDownloadIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const MIB = 1024 * 1024;
const mib = (bytes: number): string => (bytes / MIB).toFixed(1);

/**
 * Downloads `model` into `config.dataDir`; resolves with the exit status (0, 1 on failure,
 * `cancelledStatus` after Ctrl-C). `HF_ENDPOINT` in `env` names a hub mirror.
 */
export async function downloadEmbedderCommand(config: EngineConfig, model: string, env: NodeJS.ProcessEnv, io: EmbedderDownloadIo, cancelledStatus: number): Promise<number> {
  const target = embeddingModelDir(config.dataDir, model);
  if (holdsEmbeddingModel(target)) {
    io.stdout.write(`${model} is already downloaded: ${target}\n${howToUse(config, model)}\n`);
    return 0;
  }
  const hubUrl = env.HF_ENDPOINT || undefined;
  io.stderr.write(`Downloading embedding model ${model}\n  from ${hubUrl ?? 'https://huggingface.co/'}\n  to   ${target}\nCtrl-C cancels and keeps nothing.\n`);
  const bar = new SingleBar(
    { stream: io.stderr, format: ' {bar} {percentage}% | {received}/{size} MiB | {file}', hideCursor: true, etaBuffer: 50 },
    Presets.shades_classic,
  );
  const total = totalProgress();
  const cancel = new AbortController();
  const onSigint = (): void => cancel.abort(new Error('cancelled by the user'));
  process.once('SIGINT', onSigint);
  let started = false;
  try {
    await downloadModel(
      model,
      config.dataDir,
      (progress) => {
        const { receivedBytes, totalBytes } = total(progress);
        const payload = { received: mib(receivedBytes), size: totalBytes ? mib(totalBytes) : '?', file: progress.file };
        if (!started) bar.start(Math.max(totalBytes, receivedBytes, 1), 0, payload);
        started = true;
        bar.setTotal(Math.max(totalBytes, receivedBytes, 1));
        bar.update(receivedBytes, payload);
      },
      { signal: cancel.signal, hubUrl },
    );
  } catch (error) {
    if (started) bar.stop();
    if (cancel.signal.aborted) {
      io.stderr.write('isartor model download: cancelled; no partial file was kept\n');
      return cancelledStatus;
    }
    io.stderr.write(`isartor model download: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (started) bar.stop();
  io.stdout.write(`Downloaded embedding model ${model}: ${target}\n${howToUse(config, model)}\n`);
  return 0;
}

/** How the semantic layer picks the model up: config keys, the VS Code settings, and whether it already does. */
function howToUse(config: EngineConfig, model: string): string {
  const planned = plannedEmbedder(config.semantic, config.dataDir);
  const inUse = planned.kind === 'transformers' && planned.modelDir === embeddingModelDir(config.dataDir, model);
  return [
    inUse
      ? `\`isartor serve --data-dir ${config.dataDir}\` already uses it (semantic.embedder is "transformers").`
      : `To use it, put this in a --config file and serve with --data-dir ${config.dataDir}:`,
    `  { "semantic": { "embedder": "transformers", "model": ${JSON.stringify(model)} } }`,
    'Calibrate its threshold with `isartor bench pairs --embedder transformers` and set semantic.threshold.',
    'In VS Code: run "Isartor: Download Embedding Model", or set "isartor.semantic.embedder": "transformers" and "isartor.semantic.model" to the folder above.',
  ].join('\n');
}
