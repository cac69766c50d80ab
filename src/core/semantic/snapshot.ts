/**
 * Saves and loads the vector index next to the store, so a restart does not re-read every entry.
 * A snapshot that is missing, damaged or made by another embedder loads as undefined and the
 * caller rebuilds the index from the store.
 */
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Index } from 'usearch';
import { sha256 } from '../request';
import { newAnnIndex, type VectorIndex } from './index';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../store/privateFiles';
import { removeStaleTemporaries } from '../store/staleTemporaries';

const MANIFEST = 'index.json';
const VECTORS = 'vectors.f32';
const FORMAT_VERSION = 2;

interface Manifest {
  version: number;
  embedder: string;
  dimensions: number;
  vectorsSha256: string;
  keys: string[];
  partitions: string[];
  /** Index into `partitions` for each key. */
  partitionOf: number[];
  /** Graph label of each key. */
  labels: number[];
  /** Saved HNSW graphs of the large partitions. */
  graphs: Array<{ partition: number; file: string; sha256: string }>;
}

/** Writes the file through a temporary name so a crash mid-write leaves the old file intact. */
async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data, { mode: PRIVATE_FILE_MODE });
  await rename(temporary, path);
}

/** Saves every vector of `index` under `dir` (vectors first; the manifest names their hash). */
export async function saveSnapshot(dir: string, embedder: string, index: VectorIndex): Promise<void> {
  await makePrivateDir(dir);
  const keys: string[] = [];
  const partitionIds = new Map<string, number>();
  const partitionOf: number[] = [];
  const labels: number[] = [];
  const vectors = new Float32Array(index.size * index.dimensions);
  let row = 0;
  for (const entry of index.entries()) {
    keys.push(entry.key);
    labels.push(Number(entry.label));
    let id = partitionIds.get(entry.partition);
    if (id === undefined) partitionIds.set(entry.partition, (id = partitionIds.size));
    partitionOf.push(id);
    vectors.set(entry.vector, row++ * index.dimensions);
  }
  const bytes = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
  await writeAtomic(join(dir, VECTORS), bytes);
  const graphs: Manifest['graphs'] = [];
  for (const { partition, graph } of index.graphs()) {
    const id = partitionIds.get(partition);
    if (id === undefined) continue;
    const file = `graph-${id}.usearch`;
    const temporary = join(dir, `${file}.${process.pid}.tmp`);
    graph.save(temporary);
    const graphSha = sha256(await readFile(temporary));
    await rename(temporary, join(dir, file));
    graphs.push({ partition: id, file, sha256: graphSha });
  }
  const manifest: Manifest = {
    version: FORMAT_VERSION,
    embedder,
    dimensions: index.dimensions,
    vectorsSha256: sha256(bytes),
    keys,
    partitions: [...partitionIds.keys()],
    partitionOf,
    labels,
    graphs,
  };
  await writeAtomic(join(dir, MANIFEST), JSON.stringify(manifest));
  // Graph files of partitions that no longer have one.
  const kept = new Set(graphs.map((graph) => graph.file));
  for (const name of await readdir(dir)) if (/^graph-\d+\.usearch$/.test(name) && !kept.has(name)) await unlink(join(dir, name)).catch(() => undefined);
}

/** Loads the saved graphs whose bytes still match the manifest; a damaged one is simply rebuilt. */
async function loadGraphs(dir: string, manifest: Manifest, dimensions: number): Promise<Map<string, Index>> {
  const graphs = new Map<string, Index>();
  for (const saved of manifest.graphs ?? []) {
    const partition = manifest.partitions[saved.partition];
    if (partition === undefined || !/^graph-\d+\.usearch$/.test(saved.file)) continue;
    try {
      const path = join(dir, saved.file);
      if (sha256(await readFile(path)) !== saved.sha256) continue;
      const graph = newAnnIndex(dimensions);
      graph.load(path);
      graphs.set(partition, graph);
    } catch {
      // Missing or unreadable: the partition's graph is rebuilt from the vectors.
    }
  }
  return graphs;
}

/** Loads a snapshot into `index`; false when there is none usable (the index is left empty). */
export async function loadSnapshot(dir: string, embedder: string, index: VectorIndex): Promise<boolean> {
  await removeStaleTemporaries(dir); // a kill -9 mid-save leaves vectors.f32.<pid>.tmp
  let manifest: Manifest;
  let bytes: Buffer;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
    bytes = await readFile(join(dir, VECTORS));
  } catch {
    return false;
  }
  const valid =
    manifest.version === FORMAT_VERSION &&
    manifest.embedder === embedder &&
    manifest.dimensions === index.dimensions &&
    Array.isArray(manifest.keys) &&
    Array.isArray(manifest.partitionOf) &&
    Array.isArray(manifest.partitions) &&
    Array.isArray(manifest.labels) &&
    manifest.labels.length === manifest.keys.length &&
    bytes.byteLength === manifest.keys.length * index.dimensions * 4 &&
    sha256(bytes) === manifest.vectorsSha256;
  if (!valid) return false;
  const all = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(all.buffer).set(bytes);
  const graphs = await loadGraphs(dir, manifest, index.dimensions);
  index.bulkLoad((target) => {
    manifest.keys.forEach((key, row) => {
      const partition = manifest.partitions[manifest.partitionOf[row]!];
      if (partition === undefined) return;
      target.add(partition, key, all.subarray(row * index.dimensions, (row + 1) * index.dimensions), BigInt(manifest.labels[row]!));
    });
  }, graphs);
  return true;
}
