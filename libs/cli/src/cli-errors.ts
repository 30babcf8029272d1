/** Errors that map to the CLI's exit codes. */

/** Exit codes of `charge-analysis`. */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  UnreadableInput: 3,
} as const;

/** Bad command line (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An input file that cannot be read or parsed (exit 3). */
export class InputError extends Error {
  override readonly name = 'InputError';
}
