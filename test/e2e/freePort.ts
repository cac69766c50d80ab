/** A free TCP port on 127.0.0.1, for settings that need a fixed port number (such as `isartor.port`). */
import { createServer } from 'node:net';

/** Asks the kernel for a free port and releases it; the caller binds it moments later. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not read the port of a loopback listener');
  return address.port;
}
