/**
 * Measures the L1b index at scale for docs/measurements/semantic-index.md: usearch (HNSW, what the
 * cache uses) against vectra (the product card's first choice, a brute-force JSON index), with the
 * lexical embedder. Not part of the CLI contract; run it by hand:
 * `node --import tsx src/bench/semantic-index.ts --entries 100000 [--vectra-dir DIR_WITH_node_modules/vectra]`.
 */
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLexicalEmbedder } from '../core/embed/lexical';
import { silentLogger } from '../core/logger';
import { ZERO_USAGE } from '../core/outcome';
import { SemanticCache } from '../core/semantic/cache';
import { openEmbeddedStore } from '../core/store/embedded';

import synonyms from '../core/embed/synonyms.json';
import { TECH_TERMS } from '../core/embed/tech-terms';

const OPENERS = ['How do I', 'Why does my', 'What is the best way to', 'Explain how to', 'Can you fix the', 'Write a test for the'];

/**
 * The QQP questions plus deterministic synthetic questions of 4–13 words drawn from ~3,000 words
 * (WordNet map words and tech names), as last turns to index. Random word mixes are the hard case
 * for an HNSW graph over hashed lexical vectors (no low-dimensional structure to exploit).
 */
async function corpus(size: number): Promise<string[]> {
  const texts = new Set<string>();
  try {
    for (const line of (await readFile('../shared/eval/qqp-dev.jsonl', 'utf8')).split('\n')) {
      if (!line) continue;
      const row = JSON.parse(line) as { text_a: string; text_b: string };
      texts.add(row.text_a).add(row.text_b);
    }
  } catch {
    // No eval data: synthetic questions only.
  }
  let state = 42;
  const pick = <T>(list: T[]): T => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return list[state % list.length]!;
  };
  const vocabulary = [...new Set([...Object.keys(synonyms), ...TECH_TERMS])];
  const lengths = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  while (texts.size < size) {
    const words = Array.from({ length: pick(lengths) }, () => pick(vocabulary));
    texts.add(`${pick(OPENERS)} ${words.join(' ')}?`);
  }
  return [...texts].slice(0, size);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
const ms = (value: number): number => Number(value.toFixed(3));

async function measureUsearch(texts: string[], queries: string[]): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'isartor-index-bench-'));
  const store = await openEmbeddedStore(dir, { maxEntries: texts.length * 2, ttlSeconds: 0 }, { name: 'semantic' });
  const embedder = createLexicalEmbedder();
  const heapBefore = process.memoryUsage();
  const cache = await SemanticCache.open({ store, embedder, threshold: embedder.defaultThreshold, logger: silentLogger, indexDir: join(dir, 'index'), deferEmbedding: false });
  const answer = { api: 'openai.chat' as const, body: { text: 'stored answer' }, usage: ZERO_USAGE, createdAt: Date.now() };
  const loadStart = performance.now();
  await Promise.all(texts.map((text) => cache.insert('bench', text, answer)));
  const loadMs = performance.now() - loadStart;
  const heapAfter = process.memoryUsage();
  const timings: number[] = [];
  const cpuTimings: number[] = [];
  let hits = 0;
  for (const query of queries) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await cache.lookup('bench', query);
    const used = process.cpuUsage(cpu);
    timings.push(performance.now() - started);
    cpuTimings.push((used.user + used.system) / 1000);
    if (result.hit) hits++;
  }
  timings.sort((a, b) => a - b);
  cpuTimings.sort((a, b) => a - b);
  const saveStart = performance.now();
  await cache.flush();
  const saveMs = performance.now() - saveStart;
  await cache.close();
  await store.close();
  const reopenStore = await openEmbeddedStore(dir, { maxEntries: texts.length * 2, ttlSeconds: 0 }, { name: 'semantic' });
  const openStart = performance.now();
  const reopened = await SemanticCache.open({ store: reopenStore, embedder, threshold: embedder.defaultThreshold, logger: silentLogger, indexDir: join(dir, 'index'), deferEmbedding: false });
  const openMs = performance.now() - openStart;
  await reopened.close();
  await reopenStore.close();
  await rm(dir, { recursive: true, force: true });
  return {
    entries: texts.length,
    lookups: queries.length,
    hits,
    lookupP50Ms: ms(percentile(timings, 50)),
    lookupP99Ms: ms(percentile(timings, 99)),
    lookupCpuP50Ms: ms(percentile(cpuTimings, 50)),
    lookupCpuP99Ms: ms(percentile(cpuTimings, 99)),
    insertAllSeconds: Number((loadMs / 1000).toFixed(1)),
    indexMiB: Number((cache.index.approximateBytes() / 2 ** 20).toFixed(1)),
    rssGrowthMiB: Number(((heapAfter.rss - heapBefore.rss) / 2 ** 20).toFixed(1)),
    snapshotSaveMs: Math.round(saveMs),
    reopenFromSnapshotMs: Math.round(openMs),
  };
}

interface VectraIndex {
  createIndex(): Promise<void>;
  beginUpdate(): Promise<void>;
  endUpdate(): Promise<void>;
  insertItem(item: { vector: number[]; metadata: Record<string, string> }): Promise<unknown>;
  queryItems(vector: number[], query: string, topK: number): Promise<Array<{ score: number }>>;
}

async function measureVectra(vectraDir: string, texts: string[], queries: string[]): Promise<Record<string, number>> {
  const requireFrom = createRequire(join(vectraDir, 'package.json'));
  const { LocalIndex } = requireFrom('vectra') as { LocalIndex: new (folder: string) => VectraIndex };
  const dir = await mkdtemp(join(tmpdir(), 'isartor-vectra-bench-'));
  const embedder = createLexicalEmbedder();
  const index = new LocalIndex(dir);
  await index.createIndex();
  const heapBefore = process.memoryUsage();
  const loadStart = performance.now();
  await index.beginUpdate();
  for (const text of texts) await index.insertItem({ vector: Array.from(embedder.embedSync(text)), metadata: { text } });
  await index.endUpdate();
  const loadMs = performance.now() - loadStart;
  const heapAfter = process.memoryUsage();
  const timings: number[] = [];
  const cpuTimings: number[] = [];
  for (const query of queries) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    await index.queryItems(Array.from(embedder.embedSync(query)), '', 3);
    const used = process.cpuUsage(cpu);
    timings.push(performance.now() - started);
    cpuTimings.push((used.user + used.system) / 1000);
  }
  timings.sort((a, b) => a - b);
  cpuTimings.sort((a, b) => a - b);
  await rm(dir, { recursive: true, force: true });
  return {
    entries: texts.length,
    lookups: queries.length,
    lookupP50Ms: ms(percentile(timings, 50)),
    lookupP99Ms: ms(percentile(timings, 99)),
    lookupCpuP50Ms: ms(percentile(cpuTimings, 50)),
    lookupCpuP99Ms: ms(percentile(cpuTimings, 99)),
    insertAllSeconds: Number((loadMs / 1000).toFixed(1)),
    rssGrowthMiB: Number(((heapAfter.rss - heapBefore.rss) / 2 ** 20).toFixed(1)),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const entries = Number(flag('--entries') ?? 100_000);
  const texts = await corpus(entries);
  // Half the queries repeat a stored question in other case and punctuation (hits), half are new.
  const queries = texts.filter((_, i) => i % Math.floor(entries / 1000) === 0).flatMap((text, i) => [`${text.toLowerCase()} `, `What about ${text} number ${i}?`]);
  const report: Record<string, unknown> = { usearch: await measureUsearch(texts, queries) };
  const vectraDir = flag('--vectra-dir');
  if (vectraDir) report.vectra = await measureVectra(vectraDir, texts, queries.slice(0, Number(flag('--vectra-lookups') ?? 200)));
  report.loadAverage = (await import('node:os')).loadavg().map((load) => Number(load.toFixed(1)));
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

if (process.argv[1]?.endsWith('semantic-index.ts')) void main();
