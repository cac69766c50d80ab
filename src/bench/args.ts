/**
 * Argument parsing shared by `bench overhead`, `bench scale` and `bench all`: strict flags through
 * node:util, with every mistake turned into a BenchArgsError (exit status 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad flag or value; the command prints it with its usage line and exits with status 2. */
export class BenchArgsError extends Error {}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses `argv` against `options` (no positionals), turning node's errors into BenchArgsError.
 *
 * @example parseFlags(['--json'], { json: { type: 'boolean' } }) // { json: true }
 */
export function parseFlags(argv: readonly string[], options: FlagOptions): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new BenchArgsError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * A whole number from a flag value, at least `min`.
 *
 * @example positiveInteger('2000', '--requests') // 2000
 */
export function positiveInteger(raw: string, flag: string, min = 1): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new BenchArgsError(`${flag} needs a whole number of at least ${min}, not "${raw}"`);
  }
  return value;
}

/**
 * A comma-separated list of whole numbers, e.g. "10000,100000".
 *
 * @example integerList('10000,100000', '--entries') // [10000, 100000]
 */
export function integerList(raw: string, flag: string, min = 1): number[] {
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw new BenchArgsError(`${flag} needs comma-separated whole numbers, not "${raw}"`);
  return parts.map((part) => positiveInteger(part, flag, min));
}
