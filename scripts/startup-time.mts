// Times `isartor serve` on a filled data dir: spawn → ready line, → /healthz, → first L1a hit,
// → a paraphrase of another stored question (an L1b hit once the semantic cache has opened).
// Usage: node --import tsx scripts/startup-time.mts --data-dir D [--runs 5] [--cli dist/cli.js] [--cpu-prof DIR] [--question N]
// Fill D first with `node bin/isartor.js bench scale --child fill --entries 100000 --data-dir D`
// (what `isartor bench scale` itself does); the requests and config here match that benchmark's.
// The paraphrase asks for question N (default 50): the fill's own hit lookups read every 50th
// question last, so those are the newest entries of the store's LRU order and survive the misses
// a data dir has seen since (question 1, asked before, was evicted by the first 20 misses).
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { questionText, retypedQuestion } from '../src/bench/questions';
import { SCALE_HEADERS, scaleCacheBounds, scaleRequestBody } from '../src/bench/scaleFill';
import { SCALE_LAYOUT } from '../src/bench/scale';
import { warmRequestPath } from '../src/bench/warmClient';

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, runs: { type: 'string', default: '5' }, cli: { type: 'string', default: 'dist/cli.js' }, 'cpu-prof': { type: 'string' }, question: { type: 'string', default: '50' } },
});
if (!values['data-dir']) {
  process.stderr.write('usage: node --import tsx scripts/startup-time.mts --data-dir D [--runs N] [--cli dist/cli.js] [--cpu-prof DIR] [--question N]\n');
  process.exit(2);
}
const dataDir = resolve(values['data-dir']);
const configFile = join(dataDir, 'bench-config.json');
await writeFile(configFile, JSON.stringify(scaleCacheBounds(100_000)));

/** One start: spawn serve, wait for its ready line, ask /healthz, send the first (cached) request, stop it. */
async function once(): Promise<{ readyMs: number; readyCpuMs: number; healthzMs: number; firstHitMs: number; hitCpuMs: number; firstSemanticMs: number; semanticLayer: string; rssMb: number; layer: string; stderr: string }> {
  const flags = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])] : [];
  const args = ['serve', '--port', '0', '--data-dir', dataDir, '--config', configFile, '--upstream', SCALE_LAYOUT.upstream, '--anthropic-upstream', SCALE_LAYOUT.anthropicUpstream];
  // This process's first undici request is not the server's time (src/bench/warmClient.ts).
  await warmRequestPath(JSON.stringify(scaleRequestBody(questionText(1))), { ...SCALE_HEADERS });
  const started = performance.now();
  const child = spawn(process.execPath, [...flags, resolve(values.cli!), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ISARTOR_LOG_LEVEL: 'info' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  let url: string | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    url = /^isartor listening on (http:\S+) /.exec(line)?.[1];
    if (url) break;
  }
  if (!url) throw new Error(`serve exited before it was ready:\n${stderr}`);
  const readyMs = performance.now() - started;
  const readyCpuMs = await cpuMs(child.pid!);
  await (await request(`${url}/healthz`)).body.text();
  const healthzMs = performance.now() - started;
  const hit = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...SCALE_HEADERS },
    body: JSON.stringify(scaleRequestBody(questionText(0))),
  });
  await hit.body.text();
  const firstHitMs = performance.now() - started;
  // CPU time survives a loaded machine better than wall time.
  const hitCpuMs = await cpuMs(child.pid!);
  // Then the same question in other words: answered by L1b once the semantic cache has opened.
  const paraphrase = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...SCALE_HEADERS },
    body: JSON.stringify(scaleRequestBody(retypedQuestion(Number(values.question)))),
  });
  await paraphrase.body.text();
  const firstSemanticMs = performance.now() - started;
  const semanticLayer = String(paraphrase.headers['x-isartor-layer']);
  const rssMb = await residentMb(child.pid!);
  child.kill('SIGTERM');
  await exited;
  return { readyMs, readyCpuMs, healthzMs, firstHitMs, hitCpuMs, firstSemanticMs, semanticLayer, rssMb, layer: String(hit.headers['x-isartor-layer']), stderr };
}

/** Resident memory of the process in MB, from /proc; NaN elsewhere. */
async function residentMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

/** CPU time (user + system) the process has used so far, from /proc (10 ms ticks); NaN elsewhere. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

const runs = Number(values.runs);
const f = (ms: number): string => ms.toFixed(0).padStart(6);
const all: Array<Awaited<ReturnType<typeof once>>> = [];
for (let run = 1; run <= runs; run++) {
  const r = await once();
  all.push(r);
  process.stdout.write(`run ${run}: ready ${f(r.readyMs)} ms (cpu ${f(r.readyCpuMs)} ms)  healthz ${f(r.healthzMs)} ms  first hit ${f(r.firstHitMs)} ms (${r.layer}, cpu ${f(r.hitCpuMs)} ms)  then paraphrase ${f(r.firstSemanticMs)} ms (${r.semanticLayer})  RSS then ${f(r.rssMb)} MB\n`);
  if (run === 1 && r.stderr.trim()) process.stdout.write(`${r.stderr.trimEnd().replace(/^/gm, '    | ')}\n`);
  // A miss goes upstream (refused, with retries): its time is not the first L1b answer.
  if (r.semanticLayer !== 'l1b') process.stdout.write(`    warning: the paraphrase of question ${values.question} was not answered by L1b: it is not in this data dir (evicted?); try another --question\n`);
}
const column = (pick: (r: (typeof all)[number]) => number): string => `median ${f(median(all.map(pick)))}  min ${f(Math.min(...all.map(pick)))}`;
process.stdout.write(`ready ms: ${column((r) => r.readyMs)}\nready cpu ms: ${column((r) => r.readyCpuMs)}\nfirst hit ms: ${column((r) => r.firstHitMs)}\nfirst hit cpu ms: ${column((r) => r.hitCpuMs)}\nparaphrase answered ms: ${column((r) => r.firstSemanticMs)}\n`);
