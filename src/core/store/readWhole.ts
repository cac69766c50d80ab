/**
 * A whole regular file into one buffer with as few reads as the OS allows. fs/promises' readFile
 * reads in 512 KiB steps, one thread-pool round trip each: the 8.6 MB index snapshot of a 100k-entry
 * store took 17 of them at start-up, each waiting its turn on a busy event loop before the first
 * L1a hit could be answered.
 */
import { open } from 'node:fs/promises';

/**
 * glibc gives a malloc of this size or more its own mapping, and freeing one (up to 32 MiB, its
 * DEFAULT_MMAP_THRESHOLD_MAX on 64-bit) raises the process's mmap threshold to that size for good:
 * every later allocation below it, in any thread, then comes from malloc arenas, which seldom give
 * memory back. The 8.6 and 12.3 MB index snapshots read whole at start-up raised it to ~12 MB.
 */
const MMAP_THRESHOLD_FLOOR = 128 * 1024;
/** A mapping above glibc's largest dynamic threshold: freeing it leaves the threshold alone. */
const ABOVE_DYNAMIC_THRESHOLD = 33 * 1024 * 1024;

/**
 * Bytes to reserve for a file of `size`: on Linux, a file between the two sizes above is read into
 * a reservation past 32 MiB. Its pages past the file are never touched, so they cost address space,
 * not memory, and freeing it returns every page at once without raising the threshold.
 */
export function readCapacity(size: number, platform: NodeJS.Platform = process.platform): number {
  return platform === 'linux' && size >= MMAP_THRESHOLD_FLOOR && size < ABOVE_DYNAMIC_THRESHOLD ? ABOVE_DYNAMIC_THRESHOLD : size;
}

/** The file's bytes up to the size it had when opened; rejects as readFile does (ENOENT when missing). */
export async function readWhole(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const bytes = Buffer.allocUnsafe(readCapacity(size));
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await file.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break; // shrank since the stat
      filled += bytesRead;
    }
    return filled < bytes.length ? bytes.subarray(0, filled) : bytes;
  } finally {
    await file.close();
  }
}
