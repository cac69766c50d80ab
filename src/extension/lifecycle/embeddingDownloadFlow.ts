/**
 * What "Isartor: Download Embedding Model" does, free of `vscode`: ask consent, download the
 * sentence-embedding model with progress and cancel, then select the transformers embedder.
 */
import type { SemanticCacheConfig } from '../../core/config';
import { downloadModel, embeddingModelDir, totalProgress } from '../../core/embed/download';
import { holdsEmbeddingModel } from '../../core/embed/plannedEmbedder';
import type { Logger } from '../../core/logger';
import { describeError } from '../log';
import { explainDownloadFailure, probeHost, removeEmptyFolders } from '../../core/downloadFailure';
import type { ModelDownloadOutcome, ModelDownloadUi } from './modelDownloadFlow';

/** The same UI as the local model's download, with a consent modal that names a hub model. */
export interface EmbeddingDownloadUi extends Omit<ModelDownloadUi, 'confirm'> {
  /** Modal consent naming the model, where it comes from and where it goes; true to download. */
  confirm(model: string, source: string, target: string): Promise<boolean>;
}

/** The settings that pick the L1b embedder (`isartor.semantic.embedder`, `isartor.semantic.model`). */
export type EmbedderSettings = Pick<SemanticCacheConfig, 'embedder' | 'model'>;

export interface EmbeddingDownloadDeps {
  /** Hub id, e.g. "Xenova/all-MiniLM-L6-v2". */
  model: string;
  /** A Hugging Face mirror (HF_ENDPOINT); the public hub when undefined. */
  hubUrl?: string;
  /** Folder whose `models/` receives the model (global storage: one copy for every workspace). */
  storageDir: string;
  /** The embedder settings now. */
  currentSettings(): EmbedderSettings;
  /** Writes both settings (restart keys: a running engine restarts with the model). */
  writeSettings(settings: Required<EmbedderSettings>): Promise<void>;
  /** Restarts a running engine (when the settings already held these values). */
  restart(): Promise<void>;
  ui: EmbeddingDownloadUi;
  logger: Logger;
}

/**
 * Downloads the model only after the user agreed, then makes it the L1b embedder. The setting
 * holds the model's folder, not its id, because the engine's data dir may be a workspace's own.
 *
 * @example await runEmbeddingDownload({ model: DEFAULT_EMBEDDING_MODEL, storageDir, currentSettings, writeSettings, restart, ui, logger });
 */
export async function runEmbeddingDownload(deps: EmbeddingDownloadDeps): Promise<ModelDownloadOutcome> {
  const { model, ui } = deps;
  const target = embeddingModelDir(deps.storageDir, model);
  if (holdsEmbeddingModel(target)) {
    await useModel(deps, target);
    ui.info(`Isartor: ${model} is already downloaded and now embeds questions for the semantic cache.`);
    return 'already-present';
  }
  if (!(await ui.confirm(model, deps.hubUrl ?? 'https://huggingface.co/', target))) return 'declined';
  let cancelled = false;
  try {
    await ui.withProgress(`Downloading ${model}`, (report, signal) => {
      signal.addEventListener('abort', () => (cancelled = true), { once: true });
      const total = totalProgress();
      return downloadModel(model, deps.storageDir, (progress) => report(total(progress)), { signal, hubUrl: deps.hubUrl });
    });
  } catch (error) {
    if (cancelled) {
      deps.logger.info('embedding model download cancelled; no partial file kept');
      ui.info('Isartor: model download cancelled; nothing was kept.');
      return 'cancelled';
    }
    deps.logger.error(`embedding model download failed: ${describeError(error)}`);
    const source = deps.hubUrl ?? 'https://huggingface.co/';
    await removeEmptyFolders(target, deps.storageDir);
    const why = explainDownloadFailure(error, { url: source, mirrorHint: 'set HF_ENDPOINT to a Hugging Face mirror' }, await probeHost(source));
    ui.error(`Isartor could not download ${model}. ${why} The built-in lexical embedder keeps serving.`);
    return 'failed';
  }
  deps.logger.info(`embedding model downloaded to ${target}`);
  await useModel(deps, target);
  ui.info(`Isartor: ${model} is downloaded; the semantic cache now compares questions with it.`);
  return 'downloaded';
}

async function useModel(deps: EmbeddingDownloadDeps, folder: string): Promise<void> {
  const current = deps.currentSettings();
  if (current.embedder === 'transformers' && current.model === folder) await deps.restart();
  else await deps.writeSettings({ embedder: 'transformers', model: folder });
}
