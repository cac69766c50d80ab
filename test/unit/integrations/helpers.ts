// Shared set-up for the integration tests: a temp home folder, a route registry that keeps routes
// in memory (the shell's persistent one is tested on its own), and a line diff.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from '../../../src/core/logger';
import type { IntegrationContext, RouteRegistry, RouteTarget } from '../../../src/extension/integrations/integration';

export const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'integrations');

/** Routes in a Map: same tool + kind + base gives the same 128-bit id, like the shell's registry. */
export class MemoryRoutes implements RouteRegistry {
  readonly routes = new Map<string, RouteTarget & { id: string }>();

  async ensureRoute(target: RouteTarget): Promise<string> {
    const baseUrl = target.baseUrl.replace(/\/+$/, '');
    const key = `${target.tool}|${target.kind}|${baseUrl}`;
    const existing = this.routes.get(key);
    if (existing) return existing.id;
    const id = randomBytes(16).toString('hex');
    this.routes.set(key, { ...target, baseUrl, id });
    return id;
  }

  async releaseRoutes(tool: string): Promise<void> {
    for (const [key, route] of this.routes) if (route.tool === tool) this.routes.delete(key);
  }

  /** The route with this id (what the proxy would forward to). */
  byId(id: string): (RouteTarget & { id: string }) | undefined {
    return [...this.routes.values()].find((route) => route.id === id);
  }
}

export interface TestHome {
  root: string;
  homeDir: string;
  journalDir: string;
  logs: string[];
  routes: MemoryRoutes;
  ctx(port?: number): IntegrationContext;
  cleanup(): Promise<void>;
}

/** A fresh home folder and journal folder under the system temp dir. */
export async function makeHome(): Promise<TestHome> {
  const root = await mkdtemp(join(tmpdir(), 'isartor-int-'));
  const homeDir = join(root, 'home');
  const journalDir = join(root, 'globalStorage', 'isartor.isartor');
  await mkdir(homeDir, { recursive: true });
  const logs: string[] = [];
  const logger: Logger = {
    debug: (m) => logs.push(`debug ${m}`),
    info: (m) => logs.push(`info ${m}`),
    warn: (m) => logs.push(`warn ${m}`),
    error: (m) => logs.push(`error ${m}`),
  };
  const routes = new MemoryRoutes();
  return {
    root,
    homeDir,
    journalDir,
    logs,
    routes,
    ctx: (port = 8787) => ({ proxyUrl: `http://127.0.0.1:${port}`, routes, homeDir, journalDir, logger }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Copies a fixture to `target` (creating folders) and returns its bytes. */
export async function placeFixture(name: string, target: string): Promise<Buffer> {
  await mkdir(dirname(target), { recursive: true });
  await copyFile(join(FIXTURES, name), target);
  return readFile(target);
}

/** Lines only in `before` (removed) and only in `after` (added), by longest common subsequence. */
export function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      removed.push(a[i++]!);
    } else {
      added.push(b[j++]!);
    }
  }
  removed.push(...a.slice(i));
  added.push(...b.slice(j));
  return { removed, added };
}

/** The route id inside an Isartor URL. */
export function routeIdOf(url: unknown): string {
  const id = typeof url === 'string' ? /\/r\/([0-9a-f]{32})/.exec(url)?.[1] : undefined;
  if (!id) throw new Error(`not an Isartor route URL: ${String(url)}`);
  return id;
}
