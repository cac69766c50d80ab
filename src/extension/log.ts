/** The "Isartor" log output channel as the core's `Logger` port; every line is redacted first. */
import type * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import { redactSecrets } from '../core/logger';

/**
 * Wraps a `LogOutputChannel` (created with `{ log: true }`) so the engine, the proxy and the shell
 * all log through one redacting path. The channel itself decides the level the user sees.
 */
export function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    debug: (message) => channel.debug(redactSecrets(message)),
    info: (message) => channel.info(redactSecrets(message)),
    warn: (message) => channel.warn(redactSecrets(message)),
    error: (message) => channel.error(redactSecrets(message)),
  };
}

/** A short, redacted description of anything thrown, for logs and notifications. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return redactSecrets(code && !error.message.includes(code) ? `${error.message} (${code})` : error.message);
  }
  return redactSecrets(String(error));
}

/**
 * `error` with secrets redacted from its message, for errors handed to other extensions (Copilot
 * Chat, any `vscode.lm` caller): an upstream that echoes the key in its error must not pass it on.
 * The same error when there is nothing to redact, so its class and fields survive.
 *
 * @example throw redactedError(error);
 */
export function redactedError(error: unknown): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? redactSecrets(error) : error;
  const message = redactSecrets(error.message);
  if (message === error.message) return error;
  const redacted = new Error(message);
  redacted.name = error.name;
  return redacted;
}
