/**
 * How long `run` blocks the event loop, as far as its own work goes: the lesser of its wall time
 * and the process's CPU time over the call. This thread's work is below both. The process's CPU
 * also counts V8's compiler and GC threads (a first call compiles in the background), and the wall
 * time also counts the moments another process had the core; either alone made stall bounds fail
 * on a busy two-core machine without the code running longer. A real stall exceeds a bound in both.
 */
export function blockedMs(run: () => unknown): number {
  const startedAt = performance.now();
  const started = process.cpuUsage();
  run();
  const used = process.cpuUsage(started);
  return Math.min(performance.now() - startedAt, (used.user + used.system) / 1000);
}

/** The worst event-loop block while it runs: the lesser of wall and CPU time between two turns, as blockedMs counts. */
export function watchLoop(): () => number {
  let worst = 0;
  let running = true;
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const tick = (): void => {
    if (!running) return;
    const nowWall = performance.now();
    const used = process.cpuUsage(cpu);
    worst = Math.max(worst, Math.min(nowWall - wall, (used.user + used.system) / 1000));
    wall = nowWall;
    cpu = process.cpuUsage();
    setImmediate(tick);
  };
  setImmediate(tick);
  return () => {
    running = false;
    return worst;
  };
}
