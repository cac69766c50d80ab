/**
 * Whether a process id belongs to a live process; used by the lock files that name their owner.
 */

/** True when `pid` is running (EPERM means it exists but belongs to another user). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
