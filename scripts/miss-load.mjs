// Load for scripts/miss-thread-cpu.sh: COUNT chat requests, each a question no cache has seen, at
// CONCURRENCY over keep-alive connections. Usage: [STREAM=1] node scripts/miss-load.mjs URL COUNT CONCURRENCY OFFSET
// With STREAM=1 every request asks for a streamed answer (the bench's fake upstream sends one SSE
// chunk per word, each frame in two writes); the response is read to its end either way.
import http from 'node:http';
const [url, countS, concS, offS] = process.argv.slice(2);
const count = Number(countS), conc = Number(concS), off = Number(offS ?? 0);
const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
const u = new URL(url + '/v1/chat/completions');
const stream = process.env.STREAM === '1';
const SYS = 'You are a coding assistant inside an editor. Answer with working code and a short explanation.';
function body(i) { return JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: SYS }, { role: 'user', content: `How do I sort item ${i} quickly in language ${i % 7}? (ticket #${i})` }], max_tokens: 256, ...(stream ? { stream: true } : {}) }); }
function one(i) {
  return new Promise((res, rej) => {
    const b = body(i);
    const req = http.request(u, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: 'Bearer x', 'content-length': Buffer.byteLength(b) } }, (r) => { r.resume(); r.on('end', res); });
    req.on('error', rej); req.end(b);
  });
}
let next = 0; const t0 = performance.now();
await Promise.all(Array.from({ length: conc }, async () => { while (next < count) { const i = next++; await one(off + i); } }));
const dt = performance.now() - t0;
console.log(JSON.stringify({ count, conc, ms: Math.round(dt), rps: Math.round(count / dt * 1000) }));
agent.destroy();
