import { status } from '@grpc/grpc-js';
import type { ErrorKind } from '@charge/errors';

/** The one table from domain error kinds to gRPC status codes. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, status>> = Object.freeze({
  invalidArgument: status.INVALID_ARGUMENT,
  notFound: status.NOT_FOUND,
  alreadyExists: status.ALREADY_EXISTS,
  failedPrecondition: status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  permissionDenied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  resourceExhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  cancelled: status.CANCELLED,
  deadlineExceeded: status.DEADLINE_EXCEEDED,
});
