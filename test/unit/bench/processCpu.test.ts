import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { cpuMsBetween, readGroupCpu, readProcessCpu } from '../../../src/bench/processCpu';

const linux = existsSync(`/proc/${process.pid}/task`);

test('cpuMsBetween: nanosecond figures when the same threads were alive at both readings', () => {
  assert.equal(cpuMsBetween({ ticksMs: 100, liveThreadsMs: 101.25, threads: '1,2' }, { ticksMs: 110, liveThreadsMs: 104.5, threads: '1,2' }), 3.25);
});

test('cpuMsBetween: ticks when a thread started or ended, when ticks say time went missing, or without schedstat', () => {
  assert.equal(cpuMsBetween({ ticksMs: 100, liveThreadsMs: 50, threads: '1,2' }, { ticksMs: 130, liveThreadsMs: 51, threads: '1' }), 30);
  assert.equal(cpuMsBetween({ ticksMs: 100, liveThreadsMs: 50, threads: '1' }, { ticksMs: 130, liveThreadsMs: 51, threads: '1,3' }), 30);
  // A thread that started and ended in between leaves the same thread ids behind.
  assert.equal(cpuMsBetween({ ticksMs: 100, liveThreadsMs: 50, threads: '1' }, { ticksMs: 190, liveThreadsMs: 60, threads: '1' }), 90);
  assert.equal(cpuMsBetween({ ticksMs: 100, liveThreadsMs: undefined, threads: '' }, { ticksMs: 120, liveThreadsMs: undefined, threads: '' }), 20);
});

test('readProcessCpu: a missing process reads zero rather than failing', async () => {
  const reading = await readProcessCpu(2 ** 22 + 12345);
  assert.equal(reading.ticksMs, 0);
  assert.equal(reading.liveThreadsMs, undefined);
});

/** A child that, per message, burns `ms` of CPU on its main thread (or in a worker thread that then ends) and replies with its own getrusage total. */
const CHILD = `
const { Worker } = require('node:worker_threads');
const burn = (ms) => { const s = process.cpuUsage(); for (;;) { const u = process.cpuUsage(s); if (u.user + u.system >= ms * 1000) return; } };
const total = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
process.on('message', ({ ms, inWorker }) => {
  if (!inWorker) { burn(ms); process.send(total()); return; }
  const worker = new Worker('(' + burn + ')(' + ms + ')', { eval: true });
  worker.once('exit', () => process.send(total()));
});
process.send(total());
`;

async function withChild(body: (child: ChildProcess, ask: (ms: number, inWorker?: boolean) => Promise<number>) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    await once(child, 'message');
    const ask = async (ms: number, inWorker = false): Promise<number> => {
      child.send({ ms, inWorker });
      const [total] = (await once(child, 'message')) as [number];
      // Let the child go quiet: a thread still on a CPU reads short (see processCpu.ts).
      await delay(20);
      return total;
    };
    await body(child, ask);
  } finally {
    child.kill();
  }
}

test('readProcessCpu: finer than a 10 ms tick, agreeing with the process getrusage', { skip: linux ? false : 'needs /proc (Linux)' }, async () => {
  await withChild(async (child, ask) => {
    // Twenty bursts of ~3 ms: whole ticks would be off by 3-7 ms on each.
    let total = await ask(0);
    let summedError = 0;
    for (let i = 0; i < 20; i++) {
      const before = await readProcessCpu(child.pid!);
      const now = await ask(3);
      const after = await readProcessCpu(child.pid!);
      assert.equal(after.threads, before.threads, 'no thread of the child started or ended');
      summedError += Math.abs(cpuMsBetween(before, after) - (now - total));
      total = now;
    }
    assert.ok(summedError < 15, `summed error over 20 readings ${summedError.toFixed(2)} ms`);
  });
});

test('readProcessCpu: the CPU of a thread that ended in between is still counted', { skip: linux ? false : 'needs /proc (Linux)' }, async () => {
  await withChild(async (child, ask) => {
    const start = await ask(0);
    const before = await readProcessCpu(child.pid!);
    const end = await ask(80, true);
    const after = await readProcessCpu(child.pid!);
    const used = end - start;
    assert.ok(used >= 80, `the child used ${used} ms`);
    assert.ok(Math.abs(cpuMsBetween(before, after) - used) <= 25, `counted ${cpuMsBetween(before, after)} ms of ${used}`);
  });
});

test('readGroupCpu: a program started through a shell is counted, where the shell\'s pid reads almost nothing', { skip: linux ? false : 'needs /proc (Linux)' }, async () => {
  // As `bench overhead --peers` starts a gateway: a shell in a process group of its own, which
  // stays the gateway's parent (`; true` keeps it from exec-ing the command).
  const burner = `process.stdin.once('data', () => { const s = process.cpuUsage(); while (process.cpuUsage(s).user < 150000); const u = process.cpuUsage(); process.stdout.write((u.user + u.system) / 1000 + '\\n'); });`;
  const shell = spawn('/bin/sh', ['-c', `"${process.execPath}" -e "${burner}"; true`], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = shell.stdout!.setEncoding('utf8');
    await delay(400); // node's own start, before the first reading
    const groupBefore = await readGroupCpu(shell.pid!);
    const shellBefore = await readProcessCpu(shell.pid!);
    assert.ok(groupBefore.threads.split(';').length >= 2, `the shell and node: ${groupBefore.threads}`);
    shell.stdin!.write('go\n');
    const [line] = (await once(lines, 'data')) as [string];
    await delay(20);
    const groupAfter = await readGroupCpu(shell.pid!);
    const burned = Number(line);
    assert.ok(burned >= 150, `node used ${burned} ms in all`);
    const counted = cpuMsBetween(groupBefore, groupAfter);
    assert.ok(counted >= 145 && counted <= burned + 25, `the group counted ${counted} ms; the burn was at least 150`);
    assert.ok(cpuMsBetween(shellBefore, await readProcessCpu(shell.pid!)) < 20, 'the shell alone does not see it');
  } finally {
    try {
      process.kill(-shell.pid!, 'SIGKILL');
    } catch {
      shell.kill('SIGKILL');
    }
  }
});

test('readGroupCpu: a group with no process reads zero rather than failing', async () => {
  const reading = await readGroupCpu(2 ** 22 + 12345);
  assert.equal(reading.ticksMs, 0);
  assert.equal(reading.liveThreadsMs, undefined);
});
