/**
 * The first bytes of every file in a zip (a .vsix), read with yauzl — the zip reader vsce itself
 * uses — so inspecting a package needs no `unzip` on the machine and never unpacks it to disk.
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';

interface ZipEntry {
  fileName: string;
}
interface ZipFile {
  readEntry(): void;
  on(event: 'entry', listener: (entry: ZipEntry) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  openReadStream(entry: ZipEntry, callback: (error: Error | null, stream?: Readable) => void): void;
  close(): void;
}
const yauzl = createRequire(__filename)('yauzl') as { open(path: string, options: { lazyEntries: boolean; autoClose: boolean }, callback: (error: Error | null, zip?: ZipFile) => void): void };

function headOf(zip: ZipFile, entry: ZipEntry, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) return reject(error ?? new Error(`cannot read ${entry.fileName}`));
      const chunks: Buffer[] = [];
      let length = 0;
      const done = (): void => resolve(Buffer.concat(chunks).subarray(0, bytes));
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= bytes) {
          stream.destroy();
          done();
        }
      });
      stream.on('end', done);
      stream.on('error', reject);
    });
  });
}

/**
 * Maps each file's path in the zip to its first `bytes` bytes.
 *
 * @example const heads = await zipHeads('isartor-linux-x64.vsix'); heads.get('extension/package.json')
 */
export function zipHeads(path: string, bytes = 4096): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error(`cannot open ${path}`));
      const heads = new Map<string, Buffer>();
      zip.on('entry', (entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        headOf(zip, entry, bytes).then((head) => {
          heads.set(entry.fileName, head);
          zip.readEntry();
        }, reject);
      });
      zip.on('end', () => {
        zip.close();
        resolve(heads);
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}
