/**
 * Which tools Isartor connected, and which of those it put back for a shutdown, kept in
 * globalState so the next activation knows what to connect again.
 */
import type { RouteMemento } from '../routes';

export const CONNECTED_TOOLS_KEY = 'isartor.connectedTools';
/** Tools restored because VS Code closed (or the proxy could not start); connected again on the next start. */
export const SUSPENDED_TOOLS_KEY = 'isartor.suspendedTools';

/**
 * The two id lists, each a set in a memento. A tool is in at most one of them: connected (its
 * settings point at the proxy now) or suspended (restored while the proxy is down, to be connected
 * again when it is back).
 *
 * @example
 * const tools = new ConnectedTools(context.globalState);
 * await tools.suspend('claude'); // deactivate restored ~/.claude/settings.json
 * tools.suspended(); // ['claude']
 */
export class ConnectedTools {
  constructor(private readonly state: RouteMemento) {}

  /** Ids whose settings point at the proxy. */
  connected(): string[] {
    return this.read(CONNECTED_TOOLS_KEY);
  }

  /** Ids restored for a shutdown and waiting to be connected again. */
  suspended(): string[] {
    return this.read(SUSPENDED_TOOLS_KEY);
  }

  /** Marks a tool connected (true) or forgets it entirely (false). */
  async mark(id: string, connected: boolean): Promise<void> {
    await this.write(SUSPENDED_TOOLS_KEY, this.suspended().filter((existing) => existing !== id));
    const rest = this.connected().filter((existing) => existing !== id);
    await this.write(CONNECTED_TOOLS_KEY, connected ? [...rest, id] : rest);
  }

  /** Moves a connected tool to the suspended list (its files were just restored). */
  async suspend(id: string): Promise<void> {
    await this.write(CONNECTED_TOOLS_KEY, this.connected().filter((existing) => existing !== id));
    const rest = this.suspended().filter((existing) => existing !== id);
    await this.write(SUSPENDED_TOOLS_KEY, [...rest, id]);
  }

  private read(key: string): string[] {
    const ids = this.state.get<unknown>(key);
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  }

  private async write(key: string, ids: string[]): Promise<void> {
    const before = this.read(key);
    if (before.length === ids.length && before.every((id, i) => id === ids[i])) return;
    await this.state.update(key, ids);
  }
}
