// A yardstick for issue 15, not part of Isartor: the least an exact-cache proxy does on a miss,
// written as plainly as Node allows. Read the body, JSON.parse it, sha256 the parts a cache key
// needs, look them up in a Map, forward with undici, stream the answer back while keeping its
// bytes, JSON.parse the answer, keep it in the Map, append it and a ledger line to a log file
// (one write per event-loop turn). scripts/miss-floor.sh compares its CPU per miss with the
// bench's bare pass-through and with `isartor serve`.
// Usage: [PORT=n] node scripts/min-caching-proxy.mjs UPSTREAM_ORIGIN LOG_FILE   (prints "listening http://…";
// PORT is what `isartor bench overhead --peers` sets)
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import http from 'node:http';
import { Agent } from 'undici';

const [upstream, logPath] = process.argv.slice(2);
if (!upstream || !logPath) {
  process.stderr.write('usage: node scripts/min-caching-proxy.mjs UPSTREAM_ORIGIN LOG_FILE\n');
  process.exit(2);
}
const agent = new Agent({ keepAliveTimeout: 30_000 });
const answers = new Map();
const log = await open(logPath, 'a');
let pending = [];
function append(bytes) {
  if (pending.length === 0) setImmediate(() => {
    const batch = Buffer.concat(pending);
    pending = [];
    log.write(batch).catch((error) => process.stderr.write(`log: ${error.message}\n`));
  });
  pending.push(bytes);
}
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);
const forwardable = (headers) => Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"body is not JSON"}}');
    return;
  }
  const key = createHash('sha256').update(JSON.stringify([body.model, body.messages, body.max_tokens])).digest('hex');
  const stored = answers.get(key);
  if (stored) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(stored);
    return;
  }
  try {
    const answer = await agent.request({ origin: upstream, path: req.url, method: req.method, headers: forwardable(req.headers), body: raw });
    res.writeHead(answer.statusCode, forwardable(answer.headers));
    const kept = [];
    for await (const chunk of answer.body) {
      kept.push(chunk);
      res.write(chunk);
    }
    res.end();
    const bytes = Buffer.concat(kept);
    if (answer.statusCode === 200) {
      // A streamed answer (server-sent events) is kept as its bytes: less than serve does with it.
      if (!String(answer.headers['content-type']).includes('event-stream')) JSON.parse(bytes);
      answers.set(key, bytes);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(key.length, 0);
      head.writeUInt32LE(bytes.length, 4);
      append(Buffer.concat([head, Buffer.from(key), bytes]));
    }
    append(Buffer.from(`${JSON.stringify({ time: Date.now(), layer: 'l3', model: body.model, status: answer.statusCode })}\n`));
  } catch (error) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: String(error) } }));
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`));
