/**
 * "Isartor: Set Shared Cache Password…": the Redis password of `isartor.store.url`, kept in VS Code's
 * secret storage only (never in settings), applied the next time the proxy starts.
 */
import * as vscode from 'vscode';
import { STORE_PASSWORD_SECRET, type SecretStore } from './secrets';

export const SET_STORE_PASSWORD_COMMAND = 'isartor.setStorePassword';

/** Registers the command; `restart` starts the proxy again so the password takes effect. */
export function registerStorePasswordCommand(secrets: SecretStore, restart: () => Promise<unknown>): vscode.Disposable {
  return vscode.commands.registerCommand(SET_STORE_PASSWORD_COMMAND, async () => {
    const password = await vscode.window.showInputBox({
      title: 'Isartor: password of the shared cache (Redis)',
      prompt: 'The password (or ACL user password) for isartor.store.url. Stored in VS Code\'s secret storage only. Leave empty to remove it.',
      password: true,
      ignoreFocusOut: true,
    });
    if (password === undefined) return;
    if (password) await secrets.store(STORE_PASSWORD_SECRET, password);
    else await secrets.delete(STORE_PASSWORD_SECRET);
    await restart();
    void vscode.window.showInformationMessage(password ? 'Isartor: shared cache password stored.' : 'Isartor: shared cache password removed.');
  });
}
