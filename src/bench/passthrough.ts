/**
 * The baseline for `isartor bench overhead`: a bare Node `http` pass-through on loopback that pipes
 * each request to the upstream and the answer back, over a keep-alive agent, doing nothing else.
 * The proxy's throughput is reported as a ratio against this.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PassThrough {
  /** e.g. "http://127.0.0.1:40123"; paths are forwarded unchanged. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the pass-through on 127.0.0.1 and a free port, forwarding to `upstreamUrl` (scheme, host
 * and port; the request's own path is kept).
 *
 * @example
 * const pass = await startPassThrough(fake.url);
 * await fetch(`${pass.url}/v1/chat/completions`, { method: 'POST', body });
 */
export async function startPassThrough(upstreamUrl: string): Promise<PassThrough> {
  const upstream = new URL(upstreamUrl);
  if (upstream.protocol !== 'http:') throw new Error(`the pass-through forwards to http only, not ${upstream.protocol}`);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on('error', (error) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `pass-through: ${error.message}`, type: 'upstream_error' } }));
      } else res.destroy(error);
    });
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
