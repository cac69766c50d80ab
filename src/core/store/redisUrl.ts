/**
 * The shared store's URL at the boundary: checked once where settings come in (CLI, config file,
 * VS Code settings) and shown only without its password.
 */

/** `redis://user:secret@host:6379/2` → `redis://user:***@host:6379/2`. */
export function redactStoreUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** A Redis URL check for the config boundary: the message to show, or undefined when valid. */
export function storeUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL like redis://[user:password@]host:6379[/db] or rediss://… for TLS';
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `must start with redis:// or rediss:// (got "${parsed.protocol}")`;
  if (!parsed.hostname) return 'needs a host, e.g. redis://127.0.0.1:6379';
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) return `database must be a number (got "${db}")`;
  return undefined;
}
