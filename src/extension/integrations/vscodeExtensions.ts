/**
 * The one place the integrations touch the `vscode` API: looking up another extension. `vscode`
 * is loaded lazily so the integration modules (and their unit tests, and the uninstall hook)
 * load in plain Node.
 */

/** Whether an extension is installed in this editor. */
export async function isExtensionInstalled(id: string): Promise<boolean> {
  const vscode = await import('vscode');
  return vscode.extensions.getExtension(id) !== undefined;
}

/** The API an installed extension exports (activating it first), or undefined when it is not installed. */
export async function extensionExports<T>(id: string): Promise<T | undefined> {
  const vscode = await import('vscode');
  const extension = vscode.extensions.getExtension<T>(id);
  if (!extension) return undefined;
  return extension.isActive ? extension.exports : await extension.activate();
}
