/**
 * A whole regular file into one buffer with as few reads as the OS allows. fs/promises' readFile
 * reads in 512 KiB steps, one thread-pool round trip each: the 8.6 MB index snapshot of a 100k-entry
 * store took 17 of them at start-up, each waiting its turn on a busy event loop before the first
 * L1a hit could be answered.
 */
import { open } from 'node:fs/promises';

/** The file's bytes up to the size it had when opened; rejects as readFile does (ENOENT when missing). */
export async function readWhole(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await file.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break; // shrank since the stat
      filled += bytesRead;
    }
    return filled < size ? bytes.subarray(0, filled) : bytes;
  } finally {
    await file.close();
  }
}
