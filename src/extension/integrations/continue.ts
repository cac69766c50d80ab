/**
 * Continue: points the `apiBase` of each cloud model in ~/.continue/config.yaml (preferred, as
 * Continue itself prefers it) or config.json at a proxy route that remembers the original base.
 * Continue re-reads the file when it changes. Only `apiBase` values are touched; API keys stay in
 * the config and never enter the journal.
 */
import { join } from 'node:path';
import type { JsonValue } from '../../core/request';
import type { Detection, Integration, IntegrationContext } from './integration';
import { readFileIfExists } from './atomicFile';
import { DocumentSyntaxError, sameJson, valueAt, type DocumentEditor, type DocumentFormat } from './documentEdit';
import { jsoncEditor } from './jsoncEdit';
import { entriesForFile, journaledWrite, loadJournal, originalValue, wroteValue, type FileEdit, type JournalEntry } from './journal';
import { modelIdentity, planModel } from './continueModels';
import { displayPath, isRouteElsewhere, looksLikeRouteUrl, routeUrl } from './proxyUrls';
import { fileToolRestore } from './restore';
import { yamlEditor } from './yamlEdit';

const TOOL = 'continue';

interface ConfigFile {
  path: string;
  format: DocumentFormat;
  editor: DocumentEditor;
}

/** The config Continue reads: config.yaml when present, else config.json. */
export async function findContinueConfig(homeDir: string): Promise<ConfigFile | undefined> {
  const folder = join(homeDir, '.continue');
  const yamlPath = join(folder, 'config.yaml');
  if (await readFileIfExists(yamlPath)) return { path: yamlPath, format: 'yaml', editor: yamlEditor };
  const jsonPath = join(folder, 'config.json');
  if (await readFileIfExists(jsonPath)) return { path: jsonPath, format: 'jsonc', editor: jsoncEditor };
  return undefined;
}

/** One model entry and what connecting would do to it. */
interface ModelState {
  index: number;
  model: Record<string, unknown>;
  /** Its apiBase now points at Isartor (any port). */
  viaIsartor: boolean;
  /** The user's own apiBase (absent when they had none). */
  original: JsonValue | undefined;
  plan: ReturnType<typeof planModel>;
}

function modelStates(config: ConfigFile, data: unknown, journal: JournalEntry[], proxyUrl: string): ModelState[] {
  const models = valueAt(data, ['models']);
  if (!Array.isArray(models)) return [];
  return models.flatMap((model, index) => {
    if (model === null || typeof model !== 'object' || Array.isArray(model)) return [];
    const entry = model as Record<string, unknown>;
    const current = entry.apiBase as JsonValue | undefined;
    const known = journalOriginal(journal, config.path, index, entry, current);
    const viaIsartor = known.found || (typeof current === 'string' && current.startsWith(`${proxyUrl}/r/`));
    const original = viaIsartor ? known.value : current;
    const plan = viaIsartor && !known.found ? { action: 'skip' as const, reason: 'points at Isartor but the journal does not know its original base' }
      : typeof original === 'string' || original === undefined ? planModel(entry, original)
        : { action: 'skip' as const, reason: 'apiBase is not a string' };
    return [{ index, model: entry, viaIsartor, original, plan }];
  });
}

/**
 * The user's own apiBase for a model that holds one of Isartor's URLs: by its recorded position
 * first, then (the user moved it) by its identity, then by the URL alone (a copied block: the
 * same URL means the same route, so the same original base).
 */
function journalOriginal(journal: JournalEntry[], file: string, index: number, model: Record<string, unknown>, current: JsonValue | undefined) {
  const byPosition = originalValue(journal, file, ['models', index, 'apiBase'], current);
  if (byPosition.found || current === undefined) return byPosition;
  const sameUrl = entriesForFile(journal, file).filter((entry) => wroteValue(entry, current));
  const identity = modelIdentity(model);
  const sameModel = sameUrl.filter((entry) => sameJson(entry.itemMatch?.fields, identity));
  const entry = sameModel.at(-1) ?? sameUrl.at(-1);
  return entry ? { found: true, value: entry.oldValue } : byPosition;
}

async function connect(ctx: IntegrationContext): Promise<void> {
  const config = await findContinueConfig(ctx.homeDir);
  if (!config) {
    ctx.logger.info('continue: no ~/.continue/config.yaml or config.json; nothing to connect');
    return;
  }
  const before = (await readFileIfExists(config.path))!;
  const text = before.toString('utf8');
  const data = readConfig(config, text);
  const journal = await loadJournal(ctx.journalDir);
  let after = text;
  const edits: FileEdit[] = [];
  for (const state of modelStates(config, data, journal, ctx.proxyUrl)) {
    if (state.plan.action === 'skip') {
      ctx.logger.debug(`continue: model ${state.index} left alone (${state.plan.reason})`);
      continue;
    }
    const id = await ctx.routes.ensureRoute({ baseUrl: state.plan.routeBase, kind: state.plan.kind, tool: TOOL });
    const url = `${routeUrl(ctx.proxyUrl, id)}/v1/`;
    if (state.model.apiBase === url) continue;
    const keyPath = ['models', state.index, 'apiBase'];
    try {
      after = config.editor.set(after, keyPath, url);
    } catch (error) {
      // One model the editor cannot change safely (a YAML anchor or alias, a key written twice) keeps the others connectable.
      if (!(error instanceof DocumentSyntaxError)) throw error;
      ctx.logger.warn(`continue: model ${state.index} left alone (${error.message})`);
      continue;
    }
    edits.push({ keyPath, oldValue: state.original, newValue: url, itemMatch: { listPath: ['models'], fields: modelIdentity(state.model) } });
  }
  await journaledWrite({ journalDir: ctx.journalDir, homeDir: ctx.homeDir, tool: TOOL, file: config.path, format: config.format, before, after, edits });
  ctx.logger.info(`continue: ${edits.length} model(s) in ${displayPath(config.path, ctx.homeDir)} now go through Isartor`);
}

async function detect(ctx: IntegrationContext): Promise<Detection> {
  const config = await findContinueConfig(ctx.homeDir);
  if (!config) return { state: 'not-installed', detail: 'no ~/.continue/config.yaml or config.json' };
  const where = displayPath(config.path, ctx.homeDir);
  const text = (await readFileIfExists(config.path))!.toString('utf8');
  let data: unknown;
  try {
    data = readConfig(config, text);
  } catch (error) {
    return { state: 'available', detail: `${where}: ${(error as Error).message}` };
  }
  const states = modelStates(config, data, await loadJournal(ctx.journalDir), ctx.proxyUrl);
  const connected = states.filter((state) => state.viaIsartor).length;
  const routable = states.filter((state) => !state.viaIsartor && state.plan.action === 'route').length;
  const stale = states.filter((state) => !state.viaIsartor && typeof state.model.apiBase === 'string' && looksLikeRouteUrl(state.model.apiBase)).length;
  const parts = [connected && `${connected} model(s) via Isartor`, routable && `${routable} cloud model(s) to connect`, stale && `${stale} with an old Isartor URL`];
  const detail = `${where}: ${parts.filter(Boolean).join(', ') || 'no cloud models'}`;
  const elsewhere = states.some((state) => state.viaIsartor && isRouteElsewhere(state.model.apiBase, ctx.proxyUrl));
  return { state: connected > 0 ? 'connected' : 'available', detail, ...(connected > 0 && elsewhere ? { elsewhere: true } : {}) };
}

function readConfig(config: ConfigFile, text: string): unknown {
  try {
    return config.editor.read(text);
  } catch (error) {
    if (error instanceof DocumentSyntaxError) throw new DocumentSyntaxError(`does not parse (${error.message}); Isartor leaves it alone`);
    throw error;
  }
}

export const continueIntegration: Integration = {
  id: 'continue',
  label: 'Continue',
  detect,
  connect,
  ...fileToolRestore(TOOL),
};
