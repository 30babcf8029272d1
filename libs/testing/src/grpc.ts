import { Metadata, type ServiceError } from '@grpc/grpc-js';

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, callback: Callback<Res>) => unknown;

/** Calls a ts-proto grpc-js unary method and returns a promise. */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: Metadata = new Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, metadata, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/** Metadata with a bearer token (and optional extra pairs). */
export function withToken(token: string | undefined, extra: Record<string, string> = {}): Metadata {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  for (const [k, v] of Object.entries(extra)) md.set(k, v);
  return md;
}

/** Resolves to the gRPC status code a promise rejects with (fails the test if it resolves). */
export async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    return (error as ServiceError).code;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
