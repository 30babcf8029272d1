import { Metadata, status } from '@grpc/grpc-js';

/** gRPC status → HTTP status, the standard mapping (google.rpc.Code, as Envoy applies it). */
export const HTTP_STATUS_BY_GRPC: Readonly<Record<number, number>> = Object.freeze({
  [status.OK]: 200,
  [status.CANCELLED]: 499,
  [status.UNKNOWN]: 500,
  [status.INVALID_ARGUMENT]: 400,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.FAILED_PRECONDITION]: 400,
  [status.ABORTED]: 409,
  [status.OUT_OF_RANGE]: 400,
  [status.UNIMPLEMENTED]: 501,
  [status.INTERNAL]: 500,
  [status.UNAVAILABLE]: 503,
  [status.DATA_LOSS]: 500,
  [status.UNAUTHENTICATED]: 401,
});

export function httpStatusOf(code: number): number {
  return HTTP_STATUS_BY_GRPC[code] ?? 500;
}

/** The JSON error body: google.rpc.Status in proto3 JSON (what Envoy's convert_grpc_status emits). */
export interface ErrorBody {
  code: number;
  message: string;
  details: Array<Record<string, unknown>>;
}

/**
 * Builds the error body. The services put their machine reason and field in `error-*`
 * trailers; they become one google.rpc.ErrorInfo detail.
 */
export function errorBody(code: number, message: string, trailers?: Metadata, domain?: string): ErrorBody {
  const details: ErrorBody['details'] = [];
  if (trailers) {
    const meta: Record<string, string> = {};
    let reason: string | undefined;
    for (const [key, values] of Object.entries(trailers.getMap())) {
      if (!key.startsWith('error-') || key.endsWith('-bin')) continue;
      if (key === 'error-reason') reason = String(values);
      else meta[key.slice('error-'.length)] = String(values);
    }
    if (reason || Object.keys(meta).length)
      details.push({
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: reason ?? '',
        domain: domain ?? '',
        metadata: meta,
      });
  }
  return { code, message, details };
}
