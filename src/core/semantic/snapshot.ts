/**
 * Saves and loads the HNSW graphs of large partitions next to the vector journal (journal.ts), so
 * a restart need not rebuild them. Graphs are saved when the cache closes; one that is missing,
 * damaged, made by another embedder or older than the journal is rebuilt from the vectors.
 */
import { chmod, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Index } from 'usearch';
import { sha256OfFile } from './fileHash';
import { newAnnIndex, type VectorIndex } from './index';
import { replaceDurably, syncFile } from '../store/durableReplace';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../store/privateFiles';

const MANIFEST = 'index.json';
const FORMAT_VERSION = 3;
const GRAPH_FILE = /^graph-\d+\.usearch$/;

interface Manifest {
  version: number;
  embedder: string;
  dimensions: number;
  /** Saved HNSW graphs of the large partitions. */
  graphs: Array<{ partition: string; file: string; sha256: string }>;
}


/** Saves the graph of every large partition of `index` under `dir`, and removes graphs no longer used. */
export async function saveGraphs(dir: string, embedder: string, index: VectorIndex): Promise<void> {
  await makePrivateDir(dir);
  const graphs: Manifest['graphs'] = [];
  for (const { partition, graph } of index.graphs()) {
    const file = `graph-${graphs.length}.usearch`;
    const temporary = join(dir, `${file}.${process.pid}.tmp`);
    graph.save(temporary);
    await chmod(temporary, PRIVATE_FILE_MODE); // usearch writes with the process umask
    const graphSha = await sha256OfFile(temporary);
    await syncFile(temporary);
    await rename(temporary, join(dir, file));
    graphs.push({ partition, file, sha256: graphSha });
  }
  const manifest: Manifest = { version: FORMAT_VERSION, embedder, dimensions: index.dimensions, graphs };
  // The graphs' renames reach the disk with the manifest's (one folder fsync).
  await replaceDurably(join(dir, MANIFEST), (draft) => draft.writeFile(JSON.stringify(manifest)));
  const kept = new Set(graphs.map((graph) => graph.file));
  for (const name of await readdir(dir)) if (GRAPH_FILE.test(name) && !kept.has(name)) await unlink(join(dir, name)).catch(() => undefined);
}

/** Forgets every saved graph (after a clear): the next open builds what it needs. */
export async function removeGraphs(dir: string): Promise<void> {
  await unlink(join(dir, MANIFEST)).catch(() => undefined);
}

/** The saved graphs whose bytes still match the manifest, by partition; a damaged one is left out. */
export async function loadGraphs(dir: string, embedder: string, dimensions: number): Promise<Map<string, Index>> {
  const graphs = new Map<string, Index>();
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return graphs;
  }
  if (manifest.version !== FORMAT_VERSION || manifest.embedder !== embedder || manifest.dimensions !== dimensions || !Array.isArray(manifest.graphs)) return graphs;
  for (const saved of manifest.graphs) {
    if (typeof saved.partition !== 'string' || !GRAPH_FILE.test(saved.file)) continue;
    try {
      const path = join(dir, saved.file);
      if ((await sha256OfFile(path)) !== saved.sha256) continue;
      const graph = newAnnIndex(dimensions);
      graph.load(path);
      graphs.set(saved.partition, graph);
    } catch {
      // Missing or unreadable: the partition's graph is rebuilt from the vectors.
    }
  }
  return graphs;
}
