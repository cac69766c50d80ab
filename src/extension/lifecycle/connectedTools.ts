/**
 * Which tools Isartor connected, and which of those it put back for a shutdown, kept in a small
 * file beside the restore journal so the next activation knows what to connect again.
 *
 * Not in globalState: VS Code cancels `Memento.update` while an extension deactivates
 * (microsoft/vscode#144118), so a reload used to restore the files, fail to record it ("Canceled")
 * and never connect them again. A synchronous write to a file always lands, even in deactivate.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync, type SyncFiles } from '../integrations/atomicFile';
import type { RouteMemento } from '../routes';

/** The globalState keys older versions kept the lists under (read once, to migrate). */
export const CONNECTED_TOOLS_KEY = 'isartor.connectedTools';
export const SUSPENDED_TOOLS_KEY = 'isartor.suspendedTools';

/** `<journal folder>/tools.json`: shared by every window, like the journal itself. */
export function toolStateFile(journalDir: string): string {
  return join(journalDir, 'tools.json');
}

interface ToolLists {
  connected: string[];
  suspended: string[];
}

/**
 * The two id lists. A tool is in at most one of them: connected (its settings point at the
 * proxy now) or suspended (restored while the proxy is down, to be connected again when it is
 * back). Every change is written synchronously (temp file, fsync, rename), so it survives a reload
 * and a power cut.
 *
 * @example
 * const tools = new ConnectedTools(toolStateFile(journalDir), context.globalState);
 * tools.suspend('claude'); // deactivate restored ~/.claude/settings.json
 * tools.suspended(); // ['claude']
 */
export class ConnectedTools {
  constructor(
    private readonly file: string,
    /** Lists written by a version that kept them in globalState; read while the file does not exist. */
    private readonly legacy?: Pick<RouteMemento, 'get'>,
    /** The calls a write makes (temp file, fsync, rename, folder fsync); a test records them. */
    private readonly files?: SyncFiles,
  ) {}

  /** Ids whose settings point at the proxy. */
  connected(): string[] {
    return this.read().connected;
  }

  /** Ids restored for a shutdown and waiting to be connected again. */
  suspended(): string[] {
    return this.read().suspended;
  }

  /** Marks a tool connected (true) or forgets it entirely (false). */
  mark(id: string, connected: boolean): void {
    const lists = this.read();
    const rest = lists.connected.filter((existing) => existing !== id);
    this.write({ connected: connected ? [...rest, id] : rest, suspended: lists.suspended.filter((existing) => existing !== id) });
  }

  /** Moves a connected tool to the suspended list (its files were just restored). */
  suspend(id: string): void {
    const lists = this.read();
    this.write({ connected: lists.connected.filter((existing) => existing !== id), suspended: [...lists.suspended.filter((existing) => existing !== id), id] });
  }

  private read(): ToolLists {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { connected: ids(this.legacy?.get(CONNECTED_TOOLS_KEY)), suspended: ids(this.legacy?.get(SUSPENDED_TOOLS_KEY)) };
    }
    try {
      const parsed = JSON.parse(text) as Partial<Record<keyof ToolLists, unknown>>;
      return { connected: ids(parsed.connected), suspended: ids(parsed.suspended) };
    } catch {
      // A torn or hand-edited file: nothing is marked; the journal still restores the files.
      return { connected: [], suspended: [] };
    }
  }

  private write(lists: ToolLists): void {
    const before = this.read();
    if (sameIds(before.connected, lists.connected) && sameIds(before.suspended, lists.suspended)) return;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    // fsynced before the rename: after a power cut the file holds the old lists or the new, never zeros.
    writeFileAtomicSync(this.file, `${JSON.stringify({ version: 1, ...lists })}\n`, 0o600, this.files);
  }
}

function ids(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
