/** The CLI's log level, from ISARTOR_LOG_LEVEL. */

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * The log level ISARTOR_LOG_LEVEL asks for; a value that is none of them is said, not silently
 * read as `info` (a user who typed "DEBUG" or "verbose" would otherwise wonder where the lines went).
 *
 * @example logLevelFrom('verbose') // { level: 'info', problem: 'ISARTOR_LOG_LEVEL="verbose" is not …' }
 */
export function logLevelFrom(value: string | undefined): { level: (typeof LOG_LEVELS)[number]; problem?: string } {
  if (value === undefined || value === '') return { level: 'info' };
  const level = LOG_LEVELS.find((name) => name === value.trim().toLowerCase());
  if (level) return { level };
  return { level: 'info', problem: `ISARTOR_LOG_LEVEL="${value}" is not one of ${LOG_LEVELS.join(', ')}; logging at info` };
}
