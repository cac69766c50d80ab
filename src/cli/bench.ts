/**
 * `isartor bench <mode>`: dispatches to the benchmark modules in src/bench/. Each mode is one line
 * in BENCH_MODES; a mode that is not listed is an argument error (exit 2), never a pretend run.
 */

import { COMMAND_HELP } from './help';

/** A bench mode: takes the arguments after its name, resolves with the exit status. */
export type BenchMode = (argv: string[]) => Promise<number>;

/**
 * The implemented modes (DESIGN.md: pairs, traces, overhead). Add one as, for example:
 * `pairs: async (argv) => (await import('../bench/pairs')).benchPairsCommand(argv),`
 */
export const BENCH_MODES: Record<string, BenchMode> = {
  pairs: async (argv) => (await import('../bench/pairs')).benchPairsCommand(argv),
  overhead: async (argv) => (await import('../bench/overheadCommand')).benchOverheadCommand(argv),
  scale: async (argv) => (await import('../bench/scaleCommand')).benchScaleCommand(argv),
  all: async (argv) => (await import('../bench/all')).benchAllCommand(argv),
  traces: async (argv) => (await import('../bench/tracesCommand')).benchTracesCommand(argv),
};

/** Runs `bench <mode> …`; prints usage and returns 2 for a missing or unknown mode. */
export async function benchCommand(argv: string[]): Promise<number> {
  const [mode, ...rest] = argv;
  const run = mode === undefined ? undefined : BENCH_MODES[mode];
  if (!run) {
    const available = Object.keys(BENCH_MODES);
    const why = mode === undefined ? 'no bench mode given' : `unknown or unavailable bench mode "${mode}"`;
    process.stderr.write(`isartor bench: ${why} (available in this build: ${available.length > 0 ? available.join(', ') : 'none'})\n${COMMAND_HELP.bench}\n`);
    return 2;
  }
  return run(rest);
}
