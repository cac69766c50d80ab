/**
 * CPU time a live process has used, as precisely as Linux tells it. /proc/<pid>/stat counts in
 * ticks of 10 ms: a bench round of 250 pass-through requests at c=32 uses ~30-40 ms, so a tick
 * more or less moved the CPU ratio by a quarter. Each thread's /proc/<pid>/task/<tid>/schedstat
 * gives its time on the CPU in nanoseconds, but a thread that ends takes its figure with it; the
 * ticks keep it. Read a process that has gone quiet: the kernel brings a thread's nanosecond
 * figure up to date when it stops running, so a thread on a CPU right then reads short.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface CpuReading {
  /** User + system time of the whole process (ended threads included), in whole ticks, as ms. */
  ticksMs: number;
  /** On-CPU time of the threads alive now, in ms (fractional), or undefined without schedstat. */
  liveThreadsMs: number | undefined;
  /** The thread ids that `liveThreadsMs` covers, sorted. */
  threads: string;
}

/** USER_HZ: 100 on every Linux Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The process's CPU time so far; zeros where /proc is missing (not Linux), so a bench reads 0 rather than failing. */
export async function readProcessCpu(pid: number): Promise<CpuReading> {
  const [ticksMs, live] = await Promise.all([ticksMsOf(pid), liveThreadsCpu(pid)]);
  return { ticksMs, liveThreadsMs: live?.ms, threads: live?.threads ?? '' };
}

/**
 * The CPU of every process in a process group, summed: a peer gateway is started through a shell
 * in a group of its own, and the shell's pid alone reads the shell's few ticks, not the gateway's.
 * A member that ends between two readings takes its time with it (its thread ids leave `threads`).
 */
export async function readGroupCpu(groupId: number): Promise<CpuReading> {
  const members = await groupMembers(groupId);
  const readings = await Promise.all(members.map((pid) => readProcessCpu(pid)));
  const precise = readings.every((reading) => reading.liveThreadsMs !== undefined);
  return {
    ticksMs: readings.reduce((sum, reading) => sum + reading.ticksMs, 0),
    liveThreadsMs: precise && readings.length > 0 ? readings.reduce((sum, reading) => sum + reading.liveThreadsMs!, 0) : undefined,
    threads: members.map((pid, i) => `${pid}:${readings[i]!.threads}`).join(';'),
  };
}

/** The pids whose process group is `groupId`, ascending; none where /proc is missing. */
async function groupMembers(groupId: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const pids = entries.filter((name) => /^\d+$/.test(name)).map(Number);
  const groups = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').then(groupOf, () => undefined)));
  return pids.filter((_, i) => groups[i] === groupId).sort((a, b) => a - b);
}

/** The process group in a /proc/<pid>/stat line: the third field after the command name. */
function groupOf(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/**
 * Ticks and nanoseconds of one process disagree by less than this unless a thread's time went
 * missing from the nanoseconds (each of the two tick readings is rounded down by under a tick).
 */
const TICKS_SLACK_MS = 20;

/**
 * CPU ms between two readings of one process: the nanosecond figure when the same threads were
 * alive at both and the ticks agree with it, else (a thread started or ended in between, taking
 * its time with it) the tick figure, which misses nothing.
 */
export function cpuMsBetween(before: CpuReading, after: CpuReading): number {
  const ticks = after.ticksMs - before.ticksMs;
  if (before.liveThreadsMs === undefined || after.liveThreadsMs === undefined || before.threads !== after.threads) return ticks;
  const precise = after.liveThreadsMs - before.liveThreadsMs;
  return ticks - precise > TICKS_SLACK_MS ? ticks : precise;
}

async function ticksMsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

async function liveThreadsCpu(pid: number): Promise<{ ms: number; threads: string } | undefined> {
  try {
    const tids = (await readdir(`/proc/${pid}/task`)).sort();
    // A thread may end between the listing and its read: the readings then differ in threads
    // from any later one, and cpuMsBetween falls back to ticks.
    const nanos = await Promise.all(tids.map(async (tid) => readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').then((text) => Number(text.split(' ')[0]), () => undefined)));
    const alive = tids.filter((_, i) => nanos[i] !== undefined && Number.isFinite(nanos[i]));
    if (alive.length === 0) return undefined;
    const total = nanos.reduce<number>((sum, value) => sum + (value !== undefined && Number.isFinite(value) ? value : 0), 0);
    return { ms: total / 1e6, threads: alive.join(',') };
  } catch {
    return undefined;
  }
}
