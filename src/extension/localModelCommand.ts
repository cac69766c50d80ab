/**
 * "Isartor: Download Local Model": the VS Code side of the download flow (modal consent, a
 * cancellable progress notification reporting bytes, the `isartor.local.modelPath` setting).
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import type { DownloadProgress } from '../core/local/modelDownload';
import { modelToDownload } from '../core/local/modelOverride';
import { describeError } from './log';
import type { ModelDownloadUi } from './lifecycle/modelDownloadFlow';
import { runModelDownload } from './lifecycle/modelDownloadFlow';

export const DOWNLOAD_LOCAL_MODEL_COMMAND = 'isartor.downloadLocalModel';

const MIB = 1024 * 1024;
const mib = (bytes: number): string => (bytes / MIB).toFixed(1);

export interface DownloadCommandDeps {
  /** Global storage: one model for every workspace. */
  storageDir: string;
  restart(): Promise<void>;
  logger: Logger;
}

/** The notification and messages every model download shows (the embedding model's command reuses them). */
export const downloadProgressUi: Omit<ModelDownloadUi, 'confirm'> = {
  withProgress: (title, task) =>
    Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
        const cancel = new AbortController();
        const subscription = token.onCancellationRequested(() => cancel.abort(new Error('cancelled by the user')));
        let shownPercent = 0;
        let shownMib = -1;
        const report = ({ receivedBytes, totalBytes }: DownloadProgress): void => {
          const received = Math.floor(receivedBytes / MIB);
          // One report per MiB: a notification redraw per 64 KiB chunk would be thousands.
          if (received === shownMib) return;
          shownMib = received;
          // A multi-file download learns its total as files start, so the share can dip; the bar never goes back.
          const percent = totalBytes ? Math.max(shownPercent, Math.min(100, (receivedBytes / totalBytes) * 100)) : shownPercent;
          progress.report({ increment: percent - shownPercent, message: totalBytes ? `${mib(receivedBytes)} of ${mib(totalBytes)} MiB` : `${mib(receivedBytes)} MiB` });
          shownPercent = percent;
        };
        return task(report, cancel.signal).finally(() => subscription.dispose());
      }),
    ),
  info: (message) => void vscode.window.showInformationMessage(message),
  error: (message) => void vscode.window.showErrorMessage(message),
};

const ui: ModelDownloadUi = {
  ...downloadProgressUi,
  confirm: async (model, target) => {
    const size = model.bytes ? `${mib(model.bytes)} MiB` : 'size unknown';
    const choice = await vscode.window.showInformationMessage(
      `Download ${model.name} for Isartor's local model?`,
      { modal: true, detail: `${size}, from ${model.url}\n\nSaved to ${target} and kept only if its sha256 checksum matches; "isartor.local.modelPath" then points at it, and it answers simple single-turn prompts on this machine.` },
      'Download',
    );
    return choice === 'Download';
  },
};

/** Registers the command; dispose the result to unregister it. */
export function registerDownloadLocalModel(deps: DownloadCommandDeps): vscode.Disposable {
  return vscode.commands.registerCommand(DOWNLOAD_LOCAL_MODEL_COMMAND, async () => {
    try {
      await runModelDownload({
        model: modelToDownload(process.env),
        storageDir: deps.storageDir,
        currentModelPath: () => vscode.workspace.getConfiguration('isartor').get<string>('local.modelPath') || undefined,
        setModelPath: async (path) => {
          await vscode.workspace.getConfiguration('isartor').update('local.modelPath', path, vscode.ConfigurationTarget.Global);
        },
        restart: deps.restart,
        ui,
        logger: deps.logger,
      });
    } catch (error) {
      deps.logger.error(`${DOWNLOAD_LOCAL_MODEL_COMMAND} failed: ${describeError(error)}`);
      void vscode.window.showErrorMessage(`Isartor: ${describeError(error)}`);
    }
  });
}
