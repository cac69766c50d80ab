/**
 * What the L1b layer asks of a semantic cache, wherever the cache runs: in this thread (tests,
 * `bench`) or in a worker thread (the proxy; see worker.ts). The layer only posts questions and
 * answers; embedding, the vector index and its maintenance happen behind this interface.
 */
import { join } from 'node:path';
import type { SemanticCacheConfig } from '../config';
import type { Embedder } from '../embed/embedder';
import { createEmbedder } from '../embed/select';
import type { Logger } from '../logger';
import type { StoredAnswer } from '../outcome';
import { openEmbeddedStore } from '../store/embedded';
import type { KeyValueStore } from '../store/store';
import { SemanticCache } from './cache';
import { annUnavailableReason } from './index';
import type { GateReason } from './gates';

/** A lookup's answer as the layer needs it: the stored answer, or why the nearest was refused. */
export type BackendLookup = { hit: true; answer: StoredAnswer } | { hit: false; rejected?: GateReason };

/** Figures the layer reports without asking the cache (they may lag a write by one reply). */
export interface BackendStats {
  entries: number;
  bytes: number;
}

/** `gateKey` below: `gateKeyOf(text)`, when the caller has it already (it spares computing it again). */
export interface SemanticBackend {
  lookup(partition: string, text: string, gateKey?: string): Promise<BackendLookup>;
  /**
   * Stores `answer` (or its JSON) for `text`; resolves once it is stored and in the index (in a
   * worker, once every insert that travelled with it is). Never stores in the caller's turn.
   */
  insert(partition: string, text: string, answer: StoredAnswer | string, gateKey?: string): Promise<void>;
  clear(): Promise<void>;
  stats(): BackendStats;
  /** "<embedder>, threshold <t>, <n> entries", for `describe()`. */
  describe(): string;
  close(): Promise<void>;
  /**
   * Settles once the cache has finished opening (see `SemanticCache.openForLookups`); until then
   * lookups may take longer than usual. Absent: already open.
   */
  readonly indexed?: Promise<void>;
  /** The index's gate counts (gateTable.ts) for another thread to read, when the cache keeps them. */
  gateCounts?(): SharedArrayBuffer | undefined;
}

/** A store key no L1b entry has (they start with ENTRY_KEY_PREFIX). */
const NO_ENTRY_KEY = '';

/** Vectors of recent lookups, so the insert after a miss does not embed the same text again. */
const REMEMBERED_VECTORS = 512;

/**
 * Drives `cache` in this thread. `closeAll` closes what the backend owns besides the cache.
 *
 * @example const backend = cacheBackend({ cache, embedder, store, threshold, logger });
 */
export function cacheBackend(parts: { cache: SemanticCache; embedder: Embedder; store: KeyValueStore; threshold: number; fellBack?: string; closeAll?: () => Promise<void> }): SemanticBackend {
  const { cache, embedder, store } = parts;
  const vectors = new Map<string, Float32Array>();
  const memoKey = (partition: string, text: string): string => `${partition}\n${text}`;
  return {
    indexed: cache.indexed.catch(() => undefined),
    async lookup(partition, text, gateKey) {
      const vector = await embedder.embed(text);
      vectors.set(memoKey(partition, text), vector);
      if (vectors.size > REMEMBERED_VECTORS) vectors.delete(vectors.keys().next().value!);
      const result = await cache.lookup(partition, text, vector, gateKey);
      if (result.hit) return { hit: true, answer: result.entry.answer };
      return result.rejected ? { hit: false, rejected: result.rejected } : { hit: false };
    },
    async insert(partition, text, answer, gateKey) {
      // A caller on the proxy's thread hands the answer over as its response ends: the store
      // write, and any embedding, wait one turn of the event loop so they never delay that response.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const key = memoKey(partition, text);
      const vector = vectors.get(key);
      vectors.delete(key);
      await cache.insert(partition, text, answer, vector, gateKey);
    },
    async clear() {
      vectors.clear();
      await store.clear();
      await cache.clear();
    },
    stats: () => ({ entries: cache.size, bytes: store.byteSize() }),
    gateCounts: () => cache.gateCountsBuffer,
    describe: () => {
      const ann = annUnavailableReason();
      const search = ann === undefined ? '' : `; approximate index unavailable on this platform (${ann}), exact search`;
      return `${embedder.id}, threshold ${parts.threshold}, ${cache.size} entries${parts.fellBack ? ` (fallback: ${parts.fellBack})` : ''}${search}`;
    },
    async close() {
      await cache.close();
      await parts.closeAll?.();
    },
  };
}

/** Where and how to open the L1b cache (plain data: it crosses into a worker thread). */
export interface SemanticOpenSpec {
  config: SemanticCacheConfig;
  dataDir: string;
}

/**
 * Opens the L1b store under `<dataDir>/semantic`, picks the embedder (lexical, or transformers
 * with a lexical fallback) and the cache; closing the backend closes all three.
 *
 * @example const backend = await openSemanticBackend({ config: config.semantic, dataDir }, logger);
 */
export async function openSemanticBackend(spec: SemanticOpenSpec, logger: Logger): Promise<SemanticBackend> {
  const { config, dataDir } = spec;
  const dir = join(dataDir, 'semantic');
  // The store's map builds in the background (gets meanwhile read its snapshot), and the cache
  // answers from the journal before its graphs and reconcile are done: lookups start ~1.5 s
  // sooner at 100k entries (issue 15).
  const store = await openEmbeddedStore(dir, { maxEntries: config.maxEntries, ttlSeconds: config.ttlSeconds }, { name: 'semantic', logger, loadInBackground: true });
  try {
    const { embedder, fellBack } = await createEmbedder({ choice: config.embedder, model: config.model, dataDir, logger });
    const threshold = config.threshold ?? embedder.defaultThreshold;
    // A get resolves once the store can answer gets (from its snapshot). The journal's replay
    // lets the store's file reads in until then, so they happen during the replay rather than
    // after it, in front of the first answer; after that the replay goes on alone (the store's map
    // build, which follows, would only delay it).
    // The probe is a key no entry has and the snapshot's search rejects at once: the prefix
    // every key starts with, asked before, had it visit all 100k keys (~50 ms, issue 15).
    let readable = false;
    const firstGet = store.get(NO_ENTRY_KEY).finally(() => (readable = true));
    firstGet.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    const cache = await SemanticCache.openForLookups({ store, embedder, threshold, logger, indexDir: join(dir, 'index'), replayYieldWhile: () => !readable });
    await firstGet;
    return cacheBackend({
      cache, embedder, store, threshold, fellBack,
      closeAll: async () => {
        await embedder.close?.();
        await store.close();
      },
    });
  } catch (error) {
    await store.close();
    throw error;
  }
}
