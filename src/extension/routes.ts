/**
 * The route registry integrations use: route ids persisted in globalState, so a tool's rewritten
 * URL (`/r/<id>`) keeps working after a restart, and re-added to every new proxy with its old id.
 */
import { randomBytes } from 'node:crypto';
import type { Route, UpstreamTarget } from '../core/request';
import type { RouteRegistry, RouteTarget } from './integrations/integration';

/** The subset of `vscode.Memento` used here (a Map-backed stand-in fits in tests). */
export interface RouteMemento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** The part of the running proxy that holds routes. */
export interface RouteSink {
  addRoute(route: { id?: string; providers: UpstreamTarget[]; tool?: string }): Route;
  removeRoute(id: string): void;
}

/** A route as persisted: its capability id and where it forwards. */
export interface StoredRoute {
  id: string;
  baseUrl: string;
  kind: RouteTarget['kind'];
  tool: string;
}

export const ROUTES_STATE_KEY = 'isartor.routes.v1';

/** 128 random bits, hex: the route id doubles as a capability, so it must be unguessable. */
export function newRouteId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * A `RouteRegistry` backed by a memento. `attach(proxy)` installs every stored route; while attached,
 * new routes go to the proxy at once. Writes are serialised so two integrations connecting at the
 * same time cannot lose each other's routes.
 *
 * @example
 * const routes = new PersistentRouteRegistry(context.globalState);
 * routes.attach(proxy);
 * const id = await routes.ensureRoute({ baseUrl: 'https://api.openai.com/v1', kind: 'openai', tool: 'continue' });
 */
export class PersistentRouteRegistry implements RouteRegistry {
  private sink: RouteSink | undefined;
  /** Ids on the attached sink: a route another window stored is installed here when first used. */
  private readonly installed = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly memento: RouteMemento,
    private readonly makeId: () => string = newRouteId,
  ) {}

  /** Every stored route (valid entries only; anything malformed in storage is skipped). */
  list(): StoredRoute[] {
    const raw = this.memento.get<unknown>(ROUTES_STATE_KEY);
    return Array.isArray(raw) ? raw.filter(isStoredRoute) : [];
  }

  /**
   * Installs every stored route on `sink` with its old id; later routes go there too. Attaching
   * the same sink again installs what other windows stored since (they share the memento).
   */
  attach(sink: RouteSink): void {
    if (sink !== this.sink) this.installed.clear();
    this.sink = sink;
    for (const route of this.list()) this.install(route);
  }

  /** Forgets the proxy (it is stopping); routes stay stored. */
  detach(): void {
    this.sink = undefined;
    this.installed.clear();
  }

  ensureRoute(target: RouteTarget): Promise<string> {
    return this.serialise(async () => {
      const baseUrl = target.baseUrl.replace(/\/+$/, '');
      const routes = this.list();
      const existing = routes.find((route) => route.tool === target.tool && route.kind === target.kind && route.baseUrl === baseUrl);
      if (existing) {
        // Stored by another window after this proxy attached: without this, the URL written with it answers 404.
        this.install(existing);
        return existing.id;
      }
      const route: StoredRoute = { id: this.makeId(), baseUrl, kind: target.kind, tool: target.tool };
      await this.memento.update(ROUTES_STATE_KEY, [...routes, route]);
      this.install(route);
      return route.id;
    });
  }

  releaseRoutes(tool: string): Promise<void> {
    return this.serialise(async () => {
      const routes = this.list();
      const released = routes.filter((route) => route.tool === tool);
      if (released.length === 0) return;
      await this.memento.update(ROUTES_STATE_KEY, routes.filter((route) => route.tool !== tool));
      for (const route of released) {
        this.sink?.removeRoute(route.id);
        this.installed.delete(route.id);
      }
    });
  }

  private install(route: StoredRoute): void {
    if (!this.sink || this.installed.has(route.id)) return;
    this.sink.addRoute(toProxyRoute(route));
    this.installed.add(route.id);
  }

  private serialise<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function toProxyRoute(route: StoredRoute): { id: string; providers: UpstreamTarget[]; tool: string } {
  return { id: route.id, providers: [{ name: route.tool, kind: route.kind, baseUrl: route.baseUrl }], tool: route.tool };
}

function isStoredRoute(value: unknown): value is StoredRoute {
  if (typeof value !== 'object' || value === null) return false;
  const route = value as Record<string, unknown>;
  return (
    typeof route.id === 'string' &&
    /^[0-9a-f]{32}$/.test(route.id) &&
    typeof route.baseUrl === 'string' &&
    (route.kind === 'openai' || route.kind === 'anthropic' || route.kind === 'azure') &&
    typeof route.tool === 'string'
  );
}
