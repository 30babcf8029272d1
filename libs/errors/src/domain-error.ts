/**
 * The closed set of failure kinds a use case may report. Each maps to exactly one gRPC
 * status in service-kit's table; anything that is not a DomainError becomes INTERNAL.
 *
 * - retryable as-is → `unavailable`
 * - retry at a higher level (e.g. a lost race) → `aborted`
 * - do not retry until state changes → `failedPrecondition`
 */
export type ErrorKind =
  | 'invalidArgument'
  | 'notFound'
  | 'alreadyExists'
  | 'failedPrecondition'
  | 'aborted'
  | 'permissionDenied'
  | 'unauthenticated'
  | 'resourceExhausted'
  | 'unavailable'
  | 'cancelled'
  | 'deadlineExceeded';

export interface DomainErrorOptions {
  /** Stable machine-readable reason, e.g. `LOG_TOO_LARGE`. */
  reason?: string;
  /** The request field at fault, for invalidArgument. */
  field?: string;
  /** Extra machine-readable details safe to show the caller. */
  metadata?: Record<string, string>;
  cause?: unknown;
}

/** A failure whose message is safe to show the caller. */
export class DomainError extends Error {
  readonly kind: ErrorKind;
  readonly reason?: string;
  readonly field?: string;
  readonly metadata?: Record<string, string>;

  constructor(kind: ErrorKind, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.kind = kind;
    this.reason = options.reason;
    this.field = options.field;
    this.metadata = options.metadata;
  }

  /** Bad input; `field` names the offending request field. */
  static invalidArgument(field: string, message: string, reason?: string): DomainError {
    return new DomainError('invalidArgument', `${field}: ${message}`, { field, reason });
  }
  static notFound(resource: string, id: string | number): DomainError {
    return new DomainError('notFound', `${resource} ${id} not found`, { reason: 'NOT_FOUND' });
  }
  static alreadyExists(message: string, reason?: string): DomainError {
    return new DomainError('alreadyExists', message, { reason });
  }
  static failedPrecondition(message: string, reason?: string): DomainError {
    return new DomainError('failedPrecondition', message, { reason });
  }
  static permissionDenied(message = 'permission denied', reason?: string): DomainError {
    return new DomainError('permissionDenied', message, { reason });
  }
  static unauthenticated(message = 'authentication required', reason?: string): DomainError {
    return new DomainError('unauthenticated', message, { reason });
  }
  static resourceExhausted(message: string, reason?: string): DomainError {
    return new DomainError('resourceExhausted', message, { reason });
  }
  static unavailable(message: string, reason?: string): DomainError {
    return new DomainError('unavailable', message, { reason });
  }
  static aborted(message: string, reason?: string): DomainError {
    return new DomainError('aborted', message, { reason });
  }
}

/** Type guard that also works across duplicated module instances. */
export function isDomainError(error: unknown): error is DomainError {
  return (
    error instanceof DomainError ||
    (error instanceof Error && error.name === 'DomainError' && 'kind' in error)
  );
}
