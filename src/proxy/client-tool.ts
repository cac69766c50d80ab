/**
 * Guesses which AI tool sent a request, for the ledger's "by tool" view.
 */

/** First match wins; tools that embed an SDK come before the SDKs themselves. */
const TOOL_PATTERNS: Array<[RegExp, string]> = [
  [/claude-cli|claude-code/i, 'claude-code'],
  [/roo-?code|\broo\b/i, 'roo-code'],
  [/cline/i, 'cline'],
  [/kilo-?code/i, 'kilo-code'],
  [/continue/i, 'continue'],
  [/copilot|vscode-copilot|githubcopilot/i, 'copilot'],
  [/cursor/i, 'cursor'],
  [/aider/i, 'aider'],
  [/openai\/js|openai\/python|openai-node|openai-python|^openai\//i, 'openai-sdk'],
  [/anthropic\/js|anthropic\/python|anthropic-typescript|^anthropic\//i, 'anthropic-sdk'],
  [/^curl\//i, 'curl'],
];

/**
 * The client tool behind a request, from its User-Agent and the `x-title` / `http-referer` headers
 * that Cline and Roo Code set (they talk through the plain SDKs).
 *
 * @example clientToolFrom({ 'user-agent': 'claude-cli/1.0.83 (external, cli)' }) // "claude-code"
 */
export function clientToolFrom(headers: Record<string, string>): string {
  const hints = [headers['x-title'], headers['http-referer'], headers['user-agent']];
  for (const hint of hints) {
    if (!hint) continue;
    for (const [pattern, tool] of TOOL_PATTERNS) if (pattern.test(hint)) return tool;
  }
  return 'unknown';
}
