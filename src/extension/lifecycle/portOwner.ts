/**
 * Which users listen on a TCP port, where the system says (Linux: /proc/net/tcp and tcp6 list
 * every socket with its owner's uid). Any local user may bind a free loopback port and answer like
 * Isartor; tools left pointing at such a port would send that user their API keys.
 */
import { readFile } from 'node:fs/promises';

/** The socket state /proc/net/tcp calls TCP_LISTEN. */
const LISTEN = '0A';
const SOCKET_TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];

/**
 * The uids of the sockets listening on `port` (any address), from /proc/net/tcp-style `tables`
 * text; undefined when no table could be read (not Linux), so the caller knows it cannot tell.
 *
 * @example await listenerUids(8787) // [1000]
 */
export async function listenerUids(port: number, tables: readonly string[] = SOCKET_TABLES): Promise<number[] | undefined> {
  const texts = await Promise.all(tables.map((path) => readFile(path, 'latin1').catch(() => undefined)));
  if (texts.every((text) => text === undefined)) return undefined;
  const uids: number[] = [];
  for (const text of texts) {
    // Lines after the header: "sl local_address rem_address st tx:rx tr:when retrnsmt uid …".
    for (const line of text?.split('\n').slice(1) ?? []) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 8 || fields[3] !== LISTEN) continue;
      const localPort = Number.parseInt(fields[1]!.slice(fields[1]!.lastIndexOf(':') + 1), 16);
      if (localPort === port) uids.push(Number(fields[7]));
    }
  }
  return uids;
}

/**
 * False when a user other than `ownUid` listens on the port of `url`; true when only this user
 * does, or when the system cannot tell (no /proc, no uid on Windows): then the caller's own
 * checks decide alone.
 *
 * @example if (!(await listenedToOnlyByThisUser('http://127.0.0.1:8787'))) ...
 */
export async function listenedToOnlyByThisUser(url: string, ownUid: number | undefined = process.getuid?.()): Promise<boolean> {
  if (ownUid === undefined) return true;
  const parsed = new URL(url);
  const port = parsed.port === '' ? 80 : Number(parsed.port);
  const uids = await listenerUids(port);
  return uids === undefined || uids.every((uid) => uid === ownUid);
}
