/**
 * What "Isartor: Download Local Model" does, free of `vscode`: ask consent, download with progress
 * and cancel, then point `isartor.local.modelPath` at the file so the engine restarts with it.
 */
import type { Logger } from '../../core/logger';
import type { DownloadableModel, DownloadProgress } from '../../core/local/modelDownload';
import { downloadModel, downloadedModelPath } from '../../core/local/modelDownload';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeError } from '../log';
import { explainDownloadFailure, probeHost, removeEmptyFolders } from '../../core/downloadFailure';

export type ModelDownloadOutcome = 'downloaded' | 'already-present' | 'declined' | 'cancelled' | 'failed';

/** The editor UI the flow needs (a modal, a cancellable progress notification, messages). */
export interface ModelDownloadUi {
  /** Modal consent naming the model, its size and source; true to download. */
  confirm(model: DownloadableModel, target: string): Promise<boolean>;
  /** Runs `task` under a cancellable progress notification; cancelling aborts `signal`. */
  withProgress<T>(title: string, task: (report: (progress: DownloadProgress) => void, signal: AbortSignal) => Promise<T>): Promise<T>;
  info(message: string): void;
  error(message: string): void;
}

export interface ModelDownloadDeps {
  model: DownloadableModel;
  /** Folder whose `models/` subfolder receives the file (global storage: one copy for every workspace). */
  storageDir: string;
  /** `isartor.local.modelPath` now (empty or undefined when unset). */
  currentModelPath(): string | undefined;
  /** Writes `isartor.local.modelPath` (a restart key: a running engine restarts with the model). */
  setModelPath(path: string): Promise<void>;
  /** Restarts a running engine (when the setting already held this path). */
  restart(): Promise<void>;
  ui: ModelDownloadUi;
  logger: Logger;
}

/**
 * Downloads the model only after the user agreed, then makes it the L2 model.
 *
 * @example await runModelDownload({ model: RECOMMENDED_MODEL, storageDir, currentModelPath, setModelPath, restart, ui, logger });
 */
export async function runModelDownload(deps: ModelDownloadDeps): Promise<ModelDownloadOutcome> {
  const { model, ui } = deps;
  const target = downloadedModelPath(deps.storageDir, model);
  if (existsSync(target)) {
    await useModel(deps, target);
    ui.info(`Isartor: ${model.name} is already downloaded and is now the local model.`);
    return 'already-present';
  }
  if (!(await ui.confirm(model, target))) return 'declined';
  let cancelled = false;
  try {
    await ui.withProgress(`Downloading ${model.name}`, (report, signal) => {
      signal.addEventListener('abort', () => (cancelled = true), { once: true });
      return downloadModel(deps.storageDir, { model, onProgress: report, signal });
    });
  } catch (error) {
    if (cancelled) {
      deps.logger.info(`local model download cancelled; no partial file kept`);
      ui.info('Isartor: model download cancelled; nothing was kept.');
      return 'cancelled';
    }
    deps.logger.error(`local model download failed: ${describeError(error)}`);
    await removeEmptyFolders(dirname(target), deps.storageDir);
    const why = explainDownloadFailure(error, { url: model.url, mirrorHint: 'set ISARTOR_MODEL_URL and ISARTOR_MODEL_SHA256 to a mirror' }, await probeHost(model.url));
    ui.error(`Isartor could not download ${model.name}. ${why}`);
    return 'failed';
  }
  deps.logger.info(`local model downloaded to ${target} (sha256 verified)`);
  await useModel(deps, target);
  ui.info(`Isartor: ${model.name} is downloaded and answers simple prompts locally.`);
  return 'downloaded';
}

async function useModel(deps: ModelDownloadDeps, path: string): Promise<void> {
  if (deps.currentModelPath() === path) await deps.restart();
  else await deps.setModelPath(path);
}
