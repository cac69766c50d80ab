/**
 * Whether a process id belongs to a live process; used by the lock files that name their owner.
 */
import { readFileSync } from 'node:fs';

/** True when `pid` is running (EPERM means it exists but belongs to another user). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * What tells this run of process `pid` from a later one given the same id (after a reboot, or once
 * ids wrap around): the boot's id and the process's start time. Undefined where /proc cannot say
 * (not Linux, or hidden): callers then go by the pid alone.
 */
export function processIdentity(pid: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after "pid (comm) ", which may itself hold spaces and parentheses; starttime is field 22.
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    return startTicks && /^\d+$/.test(startTicks) && bootId ? `${bootId}/${startTicks}` : undefined;
  } catch {
    return undefined;
  }
}
