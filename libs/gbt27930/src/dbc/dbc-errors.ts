/** Typed errors of the DBC parser. */

/** Machine codes of {@link DbcParseError}. */
export type DbcErrorCode = 'DBC_SYNTAX' | 'DBC_INVALID_VALUE' | 'DBC_DUPLICATE' | 'DBC_UNKNOWN_REFERENCE';

/** A DBC file could not be parsed; `line`/`column` are 1-based. */
export class DbcParseError extends Error {
  override readonly name = 'DbcParseError';

  constructor(
    readonly code: DbcErrorCode,
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}:${column}: ${message}`);
  }
}

/** True when `e` is a {@link DbcParseError}. */
export function isDbcParseError(e: unknown): e is DbcParseError {
  return e instanceof DbcParseError;
}
