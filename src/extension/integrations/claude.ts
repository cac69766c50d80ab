/**
 * Claude Code: adds `env.ANTHROPIC_BASE_URL` to ~/.claude/settings.json, pointing at a proxy
 * route whose base is where Claude Code sent requests before (the user's own ANTHROPIC_BASE_URL,
 * else https://api.anthropic.com). The Anthropic SDK appends `/v1/messages` to that URL. Only that
 * one key is edited; the file (and folder) are created when absent and deleted again on
 * disconnect if Isartor created them and nothing else was added since.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Detection, Integration, IntegrationContext } from './integration';
import { readFileIfExists } from './atomicFile';
import { DocumentSyntaxError, valueAt, type KeyPath } from './documentEdit';
import { jsoncEditor } from './jsoncEdit';
import { journaledWrite, loadJournal, originalValue } from './journal';
import { displayPath, isLoopbackUrl, isRouteElsewhere, routeUrl, trimSlashes } from './proxyUrls';
import { fileToolRestore } from './restore';

const TOOL = 'claude';
const BASE_URL_KEY: KeyPath = ['env', 'ANTHROPIC_BASE_URL'];
export const DEFAULT_ANTHROPIC_BASE = 'https://api.anthropic.com';

export interface ClaudeOptions {
  /** Environment Claude Code inherits (its ANTHROPIC_BASE_URL applies when settings set none). */
  env?: Record<string, string | undefined>;
}

/** ~/.claude/settings.json for a home folder. */
export function claudeSettingsPath(homeDir: string): string {
  return join(homeDir, '.claude', 'settings.json');
}

/** What the settings say now, and where Claude Code's requests would go without Isartor. */
interface ClaudeState {
  before: Buffer | undefined;
  text: string;
  current: unknown;
  viaIsartor: boolean;
  /** The user's own ANTHROPIC_BASE_URL in settings (absent when none). */
  original: unknown;
  createdPath?: KeyPath;
}

async function readState(ctx: IntegrationContext, file: string): Promise<ClaudeState> {
  const before = await readFileIfExists(file);
  const text = before?.toString('utf8') ?? '';
  let data: unknown;
  try {
    data = jsoncEditor.read(text);
  } catch (error) {
    throw new DocumentSyntaxError(`${displayPath(file, ctx.homeDir)} does not parse (${(error as Error).message}); Isartor leaves it alone`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new DocumentSyntaxError(`${displayPath(file, ctx.homeDir)} is not a JSON object`);
  const current = valueAt(data, BASE_URL_KEY);
  const known = originalValue(await loadJournal(ctx.journalDir), file, BASE_URL_KEY, current as string | undefined);
  const viaIsartor = known.found || (typeof current === 'string' && current.startsWith(`${ctx.proxyUrl}/r/`));
  const createdPath = known.found ? known.entry?.createdPath : valueAt(data, ['env']) === undefined ? ['env'] : undefined;
  return { before, text, current, viaIsartor, original: known.found ? known.value : current, createdPath };
}

/**
 * The Claude Code integration. `env` is injectable so tests do not depend on the shell running them.
 *
 * @example const claude = createClaudeIntegration(); await claude.connect(ctx);
 */
export function createClaudeIntegration(options: ClaudeOptions = {}): Integration {
  const env = options.env ?? process.env;

  async function connect(ctx: IntegrationContext): Promise<void> {
    const file = claudeSettingsPath(ctx.homeDir);
    const state = await readState(ctx, file);
    if (state.current !== undefined && typeof state.current !== 'string') throw new DocumentSyntaxError('env.ANTHROPIC_BASE_URL is not a string');
    if (state.viaIsartor && state.original === state.current) {
      ctx.logger.warn('claude: ANTHROPIC_BASE_URL points at Isartor but the journal does not know the original; left alone');
      return;
    }
    const base = typeof state.original === 'string' ? state.original : env.ANTHROPIC_BASE_URL || DEFAULT_ANTHROPIC_BASE;
    if (isLoopbackUrl(base)) {
      ctx.logger.info(`claude: ANTHROPIC_BASE_URL already points at a local server (${base}); left alone`);
      return;
    }
    const id = await ctx.routes.ensureRoute({ baseUrl: trimSlashes(base), kind: 'anthropic', tool: TOOL });
    const url = routeUrl(ctx.proxyUrl, id);
    if (state.current === url) return;
    const folder = join(ctx.homeDir, '.claude');
    const createDirs = state.before === undefined && !(await isFolder(folder)) ? [folder] : [];
    await journaledWrite({
      journalDir: ctx.journalDir,
      homeDir: ctx.homeDir,
      tool: TOOL,
      file,
      format: 'jsonc',
      before: state.before,
      after: jsoncEditor.set(state.text, BASE_URL_KEY, url),
      edits: [{ keyPath: BASE_URL_KEY, oldValue: state.original as string | undefined, newValue: url, createdPath: state.createdPath }],
      createDirs,
      // Settings may later hold keys (env.ANTHROPIC_API_KEY): a file Isartor creates is private.
      modeForNewFile: 0o600,
    });
    ctx.logger.info(`claude: ${displayPath(file, ctx.homeDir)} now sends Claude Code through Isartor`);
  }

  async function detect(ctx: IntegrationContext): Promise<Detection> {
    const file = claudeSettingsPath(ctx.homeDir);
    const where = displayPath(file, ctx.homeDir);
    if (!(await isFolder(join(ctx.homeDir, '.claude')))) return { state: 'not-installed', detail: 'no ~/.claude folder (Claude Code has not run here)' };
    let state: ClaudeState;
    try {
      state = await readState(ctx, file);
    } catch (error) {
      return { state: 'available', detail: (error as Error).message };
    }
    if (state.viaIsartor) {
      return { state: 'connected', detail: `${where}: ANTHROPIC_BASE_URL via Isartor`, ...(isRouteElsewhere(state.current, ctx.proxyUrl) ? { elsewhere: true } : {}) };
    }
    if (typeof state.current === 'string' && isLoopbackUrl(state.current)) {
      return { state: 'available', detail: `${where}: ANTHROPIC_BASE_URL points at a local server; left alone` };
    }
    return { state: 'available', detail: `${where}: will add env.ANTHROPIC_BASE_URL` };
  }

  return { id: 'claude', label: 'Claude Code', detect, connect, ...fileToolRestore(TOOL) };
}

function isFolder(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isDirectory(), () => false);
}

export const claudeIntegration: Integration = createClaudeIntegration();
