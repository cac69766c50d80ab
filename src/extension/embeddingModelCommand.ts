/**
 * "Isartor: Download Embedding Model": the VS Code side of the L1b model download (modal consent,
 * the shared cancellable progress notification, the `isartor.semantic.*` settings).
 */
import * as vscode from 'vscode';
import { DEFAULT_EMBEDDING_MODEL } from '../core/embed/download';
import type { EmbedderChoice } from '../core/embed/select';
import type { EmbeddingDownloadUi } from './lifecycle/embeddingDownloadFlow';
import { runEmbeddingDownload } from './lifecycle/embeddingDownloadFlow';
import type { DownloadCommandDeps } from './localModelCommand';
import { downloadProgressUi } from './localModelCommand';
import { describeError } from './log';

export const DOWNLOAD_EMBEDDING_MODEL_COMMAND = 'isartor.downloadEmbeddingModel';

const ui: EmbeddingDownloadUi = {
  ...downloadProgressUi,
  confirm: async (model, source, target) => {
    const choice = await vscode.window.showInformationMessage(
      `Download the sentence-embedding model ${model} for Isartor's semantic cache?`,
      { modal: true, detail: `About 90 MiB for ${DEFAULT_EMBEDDING_MODEL}, from ${source}\n\nSaved to ${target}; "isartor.semantic.embedder" and "isartor.semantic.model" then select it, so rephrased questions are recognised by meaning. Nothing you ask leaves this machine for it.` },
      'Download',
    );
    return choice === 'Download';
  },
};

/** Registers the command; dispose the result to unregister it. */
export function registerDownloadEmbeddingModel(deps: DownloadCommandDeps): vscode.Disposable {
  return vscode.commands.registerCommand(DOWNLOAD_EMBEDDING_MODEL_COMMAND, async () => {
    const settings = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('isartor');
    try {
      await runEmbeddingDownload({
        model: DEFAULT_EMBEDDING_MODEL,
        hubUrl: process.env.HF_ENDPOINT || undefined,
        storageDir: deps.storageDir,
        currentSettings: () => ({ embedder: settings().get<EmbedderChoice>('semantic.embedder') ?? 'lexical', model: settings().get<string>('semantic.model') || undefined }),
        writeSettings: async ({ embedder, model }) => {
          // The model first: the embedder switch is what makes the restarted engine load it.
          await settings().update('semantic.model', model, vscode.ConfigurationTarget.Global);
          await settings().update('semantic.embedder', embedder, vscode.ConfigurationTarget.Global);
        },
        restart: deps.restart,
        ui,
        logger: deps.logger,
      });
    } catch (error) {
      deps.logger.error(`${DOWNLOAD_EMBEDDING_MODEL_COMMAND} failed: ${describeError(error)}`);
      void vscode.window.showErrorMessage(`Isartor: ${describeError(error)}`);
    }
  });
}
