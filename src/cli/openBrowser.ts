/**
 * Opens a URL in the user's default browser, best effort: `isartor serve --open` must keep serving
 * whether or not a browser starts (a headless box has none), so failures are only reported.
 */
import { spawn } from 'node:child_process';

/** The platform's opener: `open` on macOS, `start` through cmd on Windows, `xdg-open` elsewhere. */
export function openerFor(platform: NodeJS.Platform, url: string): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start`'s first quoted argument is the window title, hence the empty one.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url] };
  return { command: 'xdg-open', args: [url] };
}

/** Starts the opener detached; calls `onError` when it cannot be started or exits non-zero. */
export function openBrowser(url: string, onError: (message: string) => void, platform: NodeJS.Platform = process.platform): void {
  const { command, args } = openerFor(platform, url);
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.once('error', (error) => onError(`could not open a browser (${command}: ${error.message}); open ${url} yourself`));
    child.once('exit', (code) => {
      if (code !== 0 && code !== null) onError(`could not open a browser (${command} exited with ${code}); open ${url} yourself`);
    });
    child.unref();
  } catch (error) {
    onError(`could not open a browser (${error instanceof Error ? error.message : String(error)}); open ${url} yourself`);
  }
}
