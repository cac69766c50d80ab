/**
 * `isartor model download | status`: fetch the local (L2) model or, with --embedder, the L1b
 * embedding model on request, with a progress bar and Ctrl-C, and say which models would be used.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import type { EngineConfig } from '../core/config';
import { explainDownloadFailure, probeHost, removeEmptyFolders } from '../core/downloadFailure';
import { DEFAULT_EMBEDDING_MODEL } from '../core/embed/download';
import { plannedEmbedder } from '../core/embed/plannedEmbedder';
import type { DownloadableModel } from '../core/local/modelDownload';
import { downloadModel, downloadedModelPath } from '../core/local/modelDownload';
import { resolveEngineSource } from '../core/local/modelManager';
import { ModelOverrideError, modelToDownload } from '../core/local/modelOverride';
import { downloadEmbedderCommand } from './model-embedder';
import { loadServeConfig, parseServeArgs, UsageError } from './serve-config';

/** Exit status of a download the user cancelled (128 + SIGINT, as shells report it). */
export const CANCELLED_STATUS = 130;

/** Output streams, injectable for tests. */
export interface ModelIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const MIB = 1024 * 1024;
const mib = (bytes: number): string => (bytes / MIB).toFixed(1);

/** Dispatches `model download` and `model status`; resolves with the exit status. */
export async function modelCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, io: ModelIo = process): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'download') return downloadCommand(rest, env, io);
  if (sub === 'status') return statusCommand(rest, env, io);
  throw new UsageError(sub === undefined ? 'model needs "download" or "status"' : `unknown model command "${sub}" (expected download or status)`);
}

/** The engine configuration `isartor serve` would use with these flags (data dir, local.* keys). */
async function configFor(argv: string[], env: NodeJS.ProcessEnv, extra: Record<string, { type: 'boolean' | 'string' }> = {}) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { 'data-dir': { type: 'string' }, config: { type: 'string' }, ...extra } }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const serveArgs = [
    ...(typeof values['data-dir'] === 'string' ? ['--data-dir', values['data-dir']] : []),
    ...(typeof values.config === 'string' ? ['--config', values.config] : []),
  ];
  return { config: await loadServeConfig(parseServeArgs(serveArgs), env), values };
}

async function downloadCommand(argv: string[], env: NodeJS.ProcessEnv, io: ModelIo): Promise<number> {
  const { config, values } = await configFor(argv, env, { embedder: { type: 'boolean' }, model: { type: 'string' } });
  if (values.embedder) {
    const embeddingModel = typeof values.model === 'string' ? values.model.trim() : DEFAULT_EMBEDDING_MODEL;
    if (!embeddingModel) throw new UsageError('--model needs a hub id such as Xenova/all-MiniLM-L6-v2');
    return downloadEmbedderCommand(config, embeddingModel, env, io, CANCELLED_STATUS);
  }
  if (values.model !== undefined) throw new UsageError('--model goes with --embedder (the L2 model comes from ISARTOR_MODEL_URL)');
  let model: DownloadableModel;
  try {
    model = modelToDownload(env);
  } catch (error) {
    if (error instanceof ModelOverrideError) throw new UsageError(error.message);
    throw error;
  }
  const target = downloadedModelPath(config.dataDir, model);
  if (existsSync(target)) {
    io.stdout.write(`${model.name} is already downloaded: ${target}\n${howToUse(config, target)}\n`);
    return 0;
  }
  io.stderr.write(`Downloading ${model.name}${model.bytes ? ` (${mib(model.bytes)} MiB)` : ''}\n  from ${model.url}\n  to   ${target}\nCtrl-C cancels and keeps nothing.\n`);
  const bar = new SingleBar(
    { stream: io.stderr, format: ' {bar} {percentage}% | {received}/{size} MiB | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 },
    Presets.shades_classic,
  );
  const cancel = new AbortController();
  const onSigint = (): void => cancel.abort(new Error('cancelled by the user'));
  process.once('SIGINT', onSigint);
  let started = false;
  try {
    await downloadModel(config.dataDir, {
      model,
      signal: cancel.signal,
      onProgress: ({ receivedBytes, totalBytes }) => {
        const total = totalBytes || receivedBytes;
        if (!started) bar.start(total, 0, { received: '0.0', size: totalBytes ? mib(totalBytes) : '?' });
        started = true;
        bar.setTotal(Math.max(total, receivedBytes));
        bar.update(receivedBytes, { received: mib(receivedBytes), size: totalBytes ? mib(totalBytes) : '?' });
      },
    });
  } catch (error) {
    if (started) bar.stop();
    if (cancel.signal.aborted) {
      io.stderr.write('isartor model download: cancelled; no partial file was kept\n');
      return CANCELLED_STATUS;
    }
    // Offline, fetch says only "fetch failed": say why (the cause, or a probe of the host) and what to do.
    await removeEmptyFolders(dirname(target), config.dataDir);
    const why = explainDownloadFailure(error, { url: model.url, mirrorHint: 'set ISARTOR_MODEL_URL and ISARTOR_MODEL_SHA256 to a mirror' }, await probeHost(model.url));
    io.stderr.write(`isartor model download: ${why}\n  (${error instanceof Error ? error.message : String(error)})\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (started) bar.stop();
  io.stdout.write(`Downloaded ${model.name} (sha256 verified): ${target}\n${howToUse(config, target)}\n`);
  return 0;
}

/** How the L2 layer finds the model: automatically from this data dir, or through `local.modelPath`. */
function howToUse(config: EngineConfig, path: string): string {
  const source = resolveEngineSource(config.local, config.dataDir);
  const picked = source.kind === 'llama' && source.modelPath === path;
  const lines = picked
    ? [`\`isartor serve --data-dir ${config.dataDir}\` uses it automatically (no local.modelPath or local.backendUrl is set).`]
    : [`The current settings use ${source.kind === 'none' ? 'no model' : source.kind === 'llama' ? source.modelPath : `the server at ${source.baseUrl}`} instead.`];
  lines.push(`Elsewhere, point at it in a --config file: { "local": { "modelPath": ${JSON.stringify(path)} } }`);
  lines.push('In VS Code: set "isartor.local.modelPath" to that path, or run "Isartor: Download Local Model".');
  return lines.join('\n');
}

async function statusCommand(argv: string[], env: NodeJS.ProcessEnv, io: ModelIo): Promise<number> {
  const { config, values } = await configFor(argv, env, { json: { type: 'boolean' } });
  const source = resolveEngineSource(config.local, config.dataDir);
  const recommended = downloadedModelPath(config.dataDir);
  const embedder = plannedEmbedder(config.semantic, config.dataDir);
  const report = {
    enabled: config.local.enabled,
    source,
    dataDir: config.dataDir,
    downloaded: existsSync(recommended) ? recommended : null,
    embedder,
  };
  if (values.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const what = source.kind === 'llama' ? `llama.cpp model ${source.modelPath}`
    : source.kind === 'openai' ? `local OpenAI-compatible server ${source.baseUrl} (model ${source.model})`
      : `none (${source.reason}); run \`isartor model download\` or set local.modelPath / local.backendUrl`;
  const embedderLine = embedder.kind === 'transformers' ? `transformers.js model ${embedder.modelDir}`
    : `built-in lexical${embedder.fallbackReason ? ` (${embedder.fallbackReason})` : '; `isartor model download --embedder` fetches a neural one'}`;
  io.stdout.write(`L2 local model layer: ${config.local.enabled ? 'on' : 'off (local.enabled is false)'}\nmodel: ${what}\nL1b embedder: ${embedderLine}\ndata dir: ${config.dataDir}\n`);
  return 0;
}
