/**
 * SHA-256 of a saved graph file (40 MB at 100k entries), read through one small buffer.
 *
 * Why not a read stream: each of its chunks is a new buffer, so hashing a 40 MB graph left 40 MB of
 * dead buffers until the worker's next full GC. By then glibc's dynamic mmap threshold has been
 * raised past the chunk size (the stores' snapshot buffers, freed at start-up, raise it to ~12 MB),
 * so those chunks came from a malloc arena, and the arena kept the pages after they were freed:
 * resident memory for the life of the process (issue 15).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Below glibc's default mmap threshold (128 KiB), so its own free never raises it; 640 reads for 40 MB. */
const READ_BYTES = 64 * 1024;

/** Hex SHA-256 of the file at `path`; rejects as `open` does (ENOENT when missing). */
export async function sha256OfFile(path: string, readBytes = READ_BYTES): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(readBytes);
  const file = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}
