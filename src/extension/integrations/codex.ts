/**
 * Codex CLI: adds a `[model_providers.isartor]` table to ~/.codex/config.toml (or
 * $CODEX_HOME/config.toml) whose `base_url` is a proxy route, and sets `model_provider = "isartor"`.
 * The route forwards to where Codex sent requests before: the provider the user had chosen (its
 * own base_url, wire_api, env_key and headers are copied) or OpenAI. Codex appends `/responses`
 * (or `/chat/completions`) to base_url and sends the key from `env_key`, so the user's key still
 * passes. Comments and every other byte of the file stay; disconnect restores the file exactly.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonValue } from '../../core/request';
import type { Detection, Integration, IntegrationContext } from './integration';
import { readFileIfExists } from './atomicFile';
import { DocumentSyntaxError, valueAt, type KeyPath } from './documentEdit';
import { journaledWrite, loadJournal, originalValue } from './journal';
import { displayPath, isLoopbackUrl, isRouteElsewhere, routeUrl, trimSlashes } from './proxyUrls';
import { fileToolRestore } from './restore';
import { tomlEditor } from './tomlEdit';

const TOOL = 'codex';
/** The id of Isartor's entry under `model_providers`. */
export const CODEX_PROVIDER_ID = 'isartor';
const PROVIDER_KEY: KeyPath = ['model_provider'];
const TABLE_KEY: KeyPath = ['model_providers', CODEX_PROVIDER_ID];
export const DEFAULT_OPENAI_BASE = 'https://api.openai.com/v1';

export interface CodexOptions {
  /** Environment Codex inherits (CODEX_HOME, OPENAI_BASE_URL). */
  env?: Record<string, string | undefined>;
}

/** Codex's config file: $CODEX_HOME/config.toml, else ~/.codex/config.toml. */
export function codexConfigPath(homeDir: string, env: Record<string, string | undefined> = {}): string {
  return join(env.CODEX_HOME || join(homeDir, '.codex'), 'config.toml');
}

/** The provider Codex used before Isartor: where it sends requests and the table fields to keep. */
interface PriorProvider {
  baseUrl: string;
  /** Fields of the user's own provider table carried over (env_key, wire_api, query_params, headers …). */
  fields: Record<string, JsonValue>;
}

/** Where Codex's requests went before, or why Isartor cannot stand in front of them. */
function priorProvider(data: Record<string, unknown>, name: unknown, env: Record<string, string | undefined>): PriorProvider | string {
  if (name === undefined || name === 'openai') {
    return { baseUrl: env.OPENAI_BASE_URL || DEFAULT_OPENAI_BASE, fields: { wire_api: 'responses', env_key: 'OPENAI_API_KEY' } };
  }
  if (typeof name !== 'string') return 'model_provider is not a string';
  const table = valueAt(data, ['model_providers', name]);
  if (!table || typeof table !== 'object' || Array.isArray(table)) return `model_provider "${name}" is built into Codex (a local server); left alone`;
  const { name: _label, base_url: baseUrl, ...fields } = table as Record<string, JsonValue>;
  if (typeof baseUrl !== 'string' || baseUrl === '') return `model_providers.${name} has no base_url; left alone`;
  return { baseUrl, fields };
}

interface CodexState {
  before: Buffer | undefined;
  text: string;
  data: Record<string, unknown>;
  current: unknown;
  viaIsartor: boolean;
  /** The user's own model_provider (undefined when none). */
  original: unknown;
}

async function readState(ctx: IntegrationContext, file: string): Promise<CodexState> {
  const before = await readFileIfExists(file);
  const text = before?.toString('utf8') ?? '';
  let data: Record<string, unknown>;
  try {
    data = tomlEditor.read(text) as Record<string, unknown>;
  } catch (error) {
    throw new DocumentSyntaxError(`${displayPath(file, ctx.homeDir)} does not parse (${(error as Error).message}); Isartor leaves it alone`);
  }
  const current = valueAt(data, PROVIDER_KEY);
  const known = originalValue(await loadJournal(ctx.journalDir), file, PROVIDER_KEY, current as JsonValue | undefined);
  const ourUrl = valueAt(data, [...TABLE_KEY, 'base_url']);
  const viaIsartor = known.found || (current === CODEX_PROVIDER_ID && typeof ourUrl === 'string' && ourUrl.startsWith(`${ctx.proxyUrl}/r/`));
  return { before, text, data, current, viaIsartor, original: known.found ? known.value : current };
}

/**
 * The Codex CLI integration. `env` is injectable so tests do not depend on the shell running them.
 *
 * @example const codex = createCodexIntegration(); await codex.connect(ctx);
 */
export function createCodexIntegration(options: CodexOptions = {}): Integration {
  const env = options.env ?? process.env;

  async function connect(ctx: IntegrationContext): Promise<void> {
    const file = codexConfigPath(ctx.homeDir, env);
    const state = await readState(ctx, file);
    if (state.viaIsartor) {
      await repoint(ctx, file, state);
      return;
    }
    if (valueAt(state.data, TABLE_KEY) !== undefined) {
      ctx.logger.warn(`codex: ${displayPath(file, ctx.homeDir)} already has a model_providers.${CODEX_PROVIDER_ID} entry Isartor did not write; left alone`);
      return;
    }
    const prior = priorProvider(state.data, state.original, env);
    if (typeof prior === 'string') {
      ctx.logger.info(`codex: ${prior}`);
      return;
    }
    if (isLoopbackUrl(prior.baseUrl)) {
      ctx.logger.info(`codex: the provider already points at a local server (${prior.baseUrl}); left alone`);
      return;
    }
    const id = await ctx.routes.ensureRoute({ baseUrl: trimSlashes(prior.baseUrl), kind: 'openai', tool: TOOL });
    const table: Record<string, JsonValue> = { name: 'Isartor', base_url: `${routeUrl(ctx.proxyUrl, id)}/v1`, ...prior.fields };
    const withTable = tomlEditor.set(state.text, TABLE_KEY, table);
    const after = tomlEditor.set(withTable, PROVIDER_KEY, CODEX_PROVIDER_ID);
    const folder = join(file, '..');
    const createDirs = state.before === undefined && !(await isFolder(folder)) ? [folder] : [];
    await journaledWrite({
      journalDir: ctx.journalDir,
      homeDir: ctx.homeDir,
      tool: TOOL,
      file,
      format: 'toml',
      before: state.before,
      after,
      edits: [
        // The table carries the user's provider fields (bearer tokens and headers among them).
        { keyPath: TABLE_KEY, newValue: table, secret: true, ...(valueAt(state.data, ['model_providers']) === undefined ? { createdPath: ['model_providers'] } : {}) },
        { keyPath: PROVIDER_KEY, ...(state.original !== undefined ? { oldValue: state.original as JsonValue } : {}), newValue: CODEX_PROVIDER_ID },
      ],
      createDirs,
      modeForNewFile: 0o600,
    });
    ctx.logger.info(`codex: ${displayPath(file, ctx.homeDir)} now sends Codex through Isartor`);
  }

  /**
   * Already connected: the proxy may have moved (another port, another window's proxy), so the
   * table's base_url is rewritten to this proxy, keeping its route. Journaled like a first write,
   * with what the entry that wrote the table knew (it was created by Isartor), so a restore stays exact.
   */
  async function repoint(ctx: IntegrationContext, file: string, state: CodexState): Promise<void> {
    const table = valueAt(state.data, TABLE_KEY) as Record<string, JsonValue> | undefined;
    const current = table?.base_url;
    const routeId = typeof current === 'string' ? /\/r\/([0-9a-f]{32})(\/|$)/.exec(current)?.[1] : undefined;
    if (!table || !routeId) {
      ctx.logger.warn(`codex: model_providers.${CODEX_PROVIDER_ID} in ${displayPath(file, ctx.homeDir)} was changed by hand; left alone`);
      return;
    }
    const url = `${routeUrl(ctx.proxyUrl, routeId)}/v1`;
    if (current === url) return;
    const written = originalValue(await loadJournal(ctx.journalDir), file, TABLE_KEY, table);
    const moved: Record<string, JsonValue> = { ...table, base_url: url };
    await journaledWrite({
      journalDir: ctx.journalDir,
      homeDir: ctx.homeDir,
      tool: TOOL,
      file,
      format: 'toml',
      before: state.before,
      // The TOML editor writes whole tables only: Isartor's own table is written again at its place at the end.
      after: tomlEditor.set(tomlEditor.remove(state.text, TABLE_KEY), TABLE_KEY, moved),
      edits: [{ keyPath: TABLE_KEY, newValue: moved, secret: true, ...(written.entry?.createdPath ? { createdPath: written.entry.createdPath } : {}) }],
    });
    ctx.logger.info(`codex: ${displayPath(file, ctx.homeDir)} now uses Isartor at ${ctx.proxyUrl}`);
  }

  async function detect(ctx: IntegrationContext): Promise<Detection> {
    const file = codexConfigPath(ctx.homeDir, env);
    const where = displayPath(file, ctx.homeDir);
    if (!(await isFolder(join(file, '..')))) return { state: 'not-installed', detail: 'no ~/.codex folder (Codex CLI has not run here)' };
    let state: CodexState;
    try {
      state = await readState(ctx, file);
    } catch (error) {
      return { state: 'available', detail: (error as Error).message };
    }
    if (state.viaIsartor) {
      const elsewhere = isRouteElsewhere(valueAt(state.data, [...TABLE_KEY, 'base_url']), ctx.proxyUrl);
      return { state: 'connected', detail: `${where}: model_provider "${CODEX_PROVIDER_ID}" via Isartor`, ...(elsewhere ? { elsewhere: true } : {}) };
    }
    const prior = priorProvider(state.data, state.original, env);
    if (typeof prior === 'string') return { state: 'available', detail: `${where}: ${prior}` };
    return { state: 'available', detail: `${where}: will add model_providers.${CODEX_PROVIDER_ID} and set model_provider` };
  }

  return { id: 'codex', label: 'Codex CLI', detect, connect, ...fileToolRestore(TOOL) };
}

function isFolder(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isDirectory(), () => false);
}

export const codexIntegration: Integration = createCodexIntegration();
