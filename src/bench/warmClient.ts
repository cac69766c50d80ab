/**
 * Runs the start-up benchmark's own requests once against a throwaway loopback server, so that the
 * time it measures after spawning `isartor serve` is the server's, not this process's first use of
 * undici (module initialisation, JIT, the first connection): ~50 ms on a 2-core VM, measured with an
 * idle server between its ready line and its /healthz answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/** Sends a GET and one POST of `body` (as the benchmark sends them) to a local server that answers 200. */
export async function warmRequestPath(body: string, headers: Record<string, string>): Promise<void> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await (await request(`${url}/healthz`)).body.text();
    await (await request(`${url}/v1/chat/completions`, { method: 'POST', headers, body })).body.text();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
