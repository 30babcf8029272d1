import {
  credentials,
  InterceptingCall,
  Metadata,
  type Interceptor,
  type ChannelOptions,
  type Client,
} from '@grpc/grpc-js';
import { context, propagation } from '@opentelemetry/api';

/** A generated grpc-js client constructor (ts-proto `outputServices=grpc-js`). */
export type ClientConstructor<T extends Client> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Partial<ChannelOptions>,
) => T;

/** Injects the active trace context (`traceparent`) into every outgoing call. */
export const traceInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      propagation.inject(context.active(), metadata, { set: (carrier: Metadata, k, v) => carrier.set(k, v) });
      next(metadata, listener);
    },
  });

/** Creates a client for a sibling service over plaintext (mTLS is the mesh's job). */
export function createGrpcClient<T extends Client>(Ctor: ClientConstructor<T>, address: string): T {
  return new Ctor(address, credentials.createInsecure(), {
    interceptors: [traceInterceptor],
  } as Partial<ChannelOptions>);
}

/** Metadata carrying the caller's bearer token and request id to a downstream call. */
export function forwardMetadata(token: string | undefined, requestId?: string): Metadata {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  if (requestId) md.set('x-request-id', requestId);
  return md;
}
