/**
 * @module cli/errors — what a failed command tells its user: one error code from a closed list,
 * a message, and the exit code the help promises (1 failed, 2 usage or configuration).
 */
import { CommanderError } from 'commander';

export type CliErrorCode =
  | 'usage' // wrong arguments or options
  | 'invalid-config' // the config file or environment is wrong
  | 'no-database' // a read command found no database where the config points
  | 'store-unavailable' // the database cannot be opened or reached
  | 'failed'; // anything else

export interface CliError {
  code: CliErrorCode;
  message: string;
  exitCode: 1 | 2;
}

/** Maps a thrown error to its code and exit code. */
export function describeCliError(e: unknown): CliError {
  if (e instanceof CommanderError) {
    const exitCode = e.exitCode === 0 ? 2 : (Math.min(e.exitCode, 2) as 1 | 2);
    return { code: 'usage', message: e.message.replace(/^error: /, ''), exitCode: exitCode === 1 ? 2 : exitCode };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const named = err as Error & { code?: string };
  if (err.name === 'ConfigError' || err.name === 'DeliveryConfigError') return { code: 'invalid-config', message: err.message, exitCode: 2 };
  if (err.name === 'StoreError') {
    return named.code === 'no-database'
      ? { code: 'no-database', message: err.message, exitCode: 1 }
      : { code: 'store-unavailable', message: err.message, exitCode: 1 };
  }
  return { code: 'failed', message: err.message, exitCode: 1 };
}
