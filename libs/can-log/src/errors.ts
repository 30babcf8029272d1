/**
 * Typed failures of the CAN log readers and writers.
 *
 * Every error that leaves this library is a {@link CanLogError} with a stable
 * {@link CanLogErrorCode}, and where it makes sense the byte offset (binary formats) or
 * line number (text formats) at which it happened.
 */

/** Stable machine-readable error codes. */
export type CanLogErrorCode =
  /** The content matches none of the supported formats. */
  | 'UNKNOWN_FORMAT'
  /** A BLF file does not start with `LOGG`, or a header field is impossible. */
  | 'BAD_HEADER'
  /** The file ends inside its header. */
  | 'TRUNCATED_HEADER'
  /** A top-level object declares a size above the configured cap. */
  | 'OBJECT_TOO_LARGE'
  /** A container inflates past the per-container or per-file cap (zip bomb guard). */
  | 'INFLATE_LIMIT'
  /** A text line exceeds the configured maximum length too often / a text limit was hit. */
  | 'LIMIT_EXCEEDED'
  /** The caller's AbortSignal fired. */
  | 'ABORTED'
  /** Reading or writing the underlying file failed. */
  | 'IO_ERROR'
  /** `batches()` was called a second time on a single-pass reader. */
  | 'ALREADY_CONSUMED'
  /** A caller passed an invalid argument (bad option, frame field out of range, closed writer). */
  | 'INVALID_ARGUMENT'
  /** An unexpected internal failure (a bug); wrapped so that callers only ever see CanLogError. */
  | 'INTERNAL';

/** Where in the input an error happened. */
export interface CanLogErrorLocation {
  /** Byte offset in the file. */
  offset?: number;
  /** 1-based line number (text formats). */
  line?: number;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** The only error type thrown by `@charge/can-log`. */
export class CanLogError extends Error {
  override readonly name = 'CanLogError';
  /** Stable code, safe to switch on. */
  readonly code: CanLogErrorCode;
  /** Byte offset in the file, when known. */
  readonly offset?: number;
  /** 1-based line number for text formats, when known. */
  readonly line?: number;

  constructor(code: CanLogErrorCode, message: string, location: CanLogErrorLocation = {}) {
    super(message, location.cause === undefined ? undefined : { cause: location.cause });
    this.code = code;
    if (location.offset !== undefined) this.offset = location.offset;
    if (location.line !== undefined) this.line = location.line;
  }
}

/** True when `e` is a {@link CanLogError} (optionally with the given code). */
export function isCanLogError(e: unknown, code?: CanLogErrorCode): e is CanLogError {
  return e instanceof CanLogError && (code === undefined || e.code === code);
}

/** Converts anything thrown into a {@link CanLogError}; CanLogErrors pass through unchanged. */
export function toCanLogError(e: unknown, location: CanLogErrorLocation = {}): CanLogError {
  if (e instanceof CanLogError) return e;
  const err = e as { code?: unknown; name?: unknown; message?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  if (err?.name === 'AbortError') return new CanLogError('ABORTED', message, { ...location, cause: e });
  if (typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    return new CanLogError('IO_ERROR', message, { ...location, cause: e });
  }
  return new CanLogError('INTERNAL', message, { ...location, cause: e });
}
