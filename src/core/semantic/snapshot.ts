/**
 * Saves and loads the vector index next to the store, so a restart does not re-read every entry.
 * A snapshot that is missing, damaged or made by another embedder loads as undefined and the
 * caller rebuilds the index from the store.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../request';
import type { VectorIndex } from './index';

const MANIFEST = 'index.json';
const VECTORS = 'vectors.f32';
const FORMAT_VERSION = 1;

interface Manifest {
  version: number;
  embedder: string;
  dimensions: number;
  vectorsSha256: string;
  keys: string[];
  partitions: string[];
  /** Index into `partitions` for each key. */
  partitionOf: number[];
}

/** Writes the file through a temporary name so a crash mid-write leaves the old file intact. */
async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/** Saves every vector of `index` under `dir` (vectors first; the manifest names their hash). */
export async function saveSnapshot(dir: string, embedder: string, index: VectorIndex): Promise<void> {
  await mkdir(dir, { recursive: true });
  const keys: string[] = [];
  const partitionIds = new Map<string, number>();
  const partitionOf: number[] = [];
  const vectors = new Float32Array(index.size * index.dimensions);
  let row = 0;
  for (const entry of index.entries()) {
    keys.push(entry.key);
    let id = partitionIds.get(entry.partition);
    if (id === undefined) partitionIds.set(entry.partition, (id = partitionIds.size));
    partitionOf.push(id);
    vectors.set(entry.vector, row++ * index.dimensions);
  }
  const bytes = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
  await writeAtomic(join(dir, VECTORS), bytes);
  const manifest: Manifest = {
    version: FORMAT_VERSION,
    embedder,
    dimensions: index.dimensions,
    vectorsSha256: sha256(bytes),
    keys,
    partitions: [...partitionIds.keys()],
    partitionOf,
  };
  await writeAtomic(join(dir, MANIFEST), JSON.stringify(manifest));
}

/** Loads a snapshot into `index`; false when there is none usable (the index is left empty). */
export async function loadSnapshot(dir: string, embedder: string, index: VectorIndex): Promise<boolean> {
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
    bytes.byteLength === manifest.keys.length * index.dimensions * 4 &&
    sha256(bytes) === manifest.vectorsSha256;
  if (!valid) return false;
  const all = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(all.buffer).set(bytes);
  index.bulkLoad((target) => {
    manifest.keys.forEach((key, row) => {
      const partition = manifest.partitions[manifest.partitionOf[row]!];
      if (partition === undefined) return;
      target.add(partition, key, all.subarray(row * index.dimensions, (row + 1) * index.dimensions));
    });
  });
  return true;
}
