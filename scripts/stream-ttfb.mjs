// Median and p90 time to first byte of sequential streamed misses against a proxy (issue 15 A/B checks).
// usage: node scripts/stream-ttfb.mjs URL COUNT OFFSET   (each request asks a different question from OFFSET on)
import { request } from 'undici';
const [url, count, offset] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 0)];
const times = [];
for (let i = 0; i < count; i++) {
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: `streamed question number ${offset + i} about caching` }] });
  const t0 = performance.now();
  const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-ttfb-000001' }, body });
  let first;
  for await (const chunk of res.body) { if (first === undefined) first = performance.now() - t0; }
  times.push(first);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ median: +times[Math.floor(times.length / 2)].toFixed(3), p90: +times[Math.floor(times.length * 0.9)].toFixed(3) }));
