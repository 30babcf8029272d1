import { randomUUID } from 'node:crypto';
import {
  Metadata,
  status,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { RequestContext, type MikroORM } from '@mikro-orm/postgresql';
import { DomainError, isDomainError } from '@charge/errors';
import { assertAdmin, type AuthClaims, type TokenVerifier } from './auth';
import { firstValue, GrpcCallContext, type CallContext } from './call-context';
import type { Logger } from './logger';
import type { RpcMetrics } from './metrics';
import { STATUS_BY_KIND } from './status-map';

/** Who may call an RPC. `user` (the default) needs a valid token; `admin` also the admin role. */
export type AuthPolicy = 'public' | 'user' | 'admin';

export interface RpcOptions {
  auth?: AuthPolicy;
}

export interface RpcDeps {
  logger: Logger;
  /** Verifies bearer tokens; required unless every RPC is public. */
  verifier?: TokenVerifier;
  /** When given, every call gets its own forked EntityManager and RequestContext. */
  orm?: MikroORM;
  /** Counts in-flight calls so shutdown can wait for them. */
  inflight?: InflightCounter;
  /** Records every call's method, final gRPC code and latency (startService's `ctx.metrics`). */
  metrics?: RpcMetrics;
}

/** Tracks calls in progress (graceful shutdown waits for zero). */
export class InflightCounter {
  private count = 0;
  private waiters: (() => void)[] = [];
  enter(): void {
    this.count++;
  }
  leave(): void {
    this.count--;
    if (this.count === 0) for (const w of this.waiters.splice(0)) w();
  }
  get size(): number {
    return this.count;
  }
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

const metadataGetter = {
  keys: (carrier: Metadata) => Object.keys(carrier.getMap()),
  get: (carrier: Metadata, key: string) => carrier.get(key).map(String),
};

/**
 * Builds grpc-js handlers from plain async functions. Each call gets: token verification
 * by policy, a request id, a child logger, a server span continuing the caller's
 * `traceparent`, its own ORM context, an AbortSignal; DomainErrors map to their status and
 * anything else to INTERNAL with an opaque reference (the stack goes to the log only).
 */
export class Rpc {
  private readonly tracer = trace.getTracer('charge-service-kit');

  constructor(private readonly deps: RpcDeps) {}

  unary<Req, Res>(
    fn: (req: Req, ctx: CallContext) => Promise<Res>,
    options: RpcOptions = {},
  ): UntypedHandleCall {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      void this.run(call, call.getPath(), options, (ctx) => fn(call.request, ctx)).then(
        (res) => callback(null, res),
        (error: ServiceError) => callback(error),
      );
    };
  }

  /** Server streaming: `send` resolves when the message is buffered (backpressure honoured). */
  serverStream<Req, Res>(
    fn: (req: Req, send: (message: Res) => Promise<void>, ctx: CallContext) => Promise<void>,
    options: RpcOptions = {},
  ): UntypedHandleCall {
    return (call: ServerWritableStream<Req, Res>) => {
      const send = (message: Res) =>
        new Promise<void>((resolve) => {
          if (call.write(message)) resolve();
          else call.once('drain', () => resolve());
        });
      void this.run(call, call.getPath(), options, (ctx) => fn(call.request, send, ctx)).then(
        () => call.end(),
        // emit('error') sends the status to the client; destroy() would leave it waiting.
        (error: ServiceError) => call.emit('error', error),
      );
    };
  }

  /** Client streaming: the handler consumes the messages as an async iterable. */
  clientStream<Req, Res>(
    fn: (messages: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
    options: RpcOptions = {},
  ): UntypedHandleCall {
    return (call: ServerReadableStream<Req, Res>, callback: sendUnaryData<Res>) => {
      void this.run(call, call.getPath(), options, (ctx) => fn(call as AsyncIterable<Req>, ctx)).then(
        (res) => callback(null, res),
        (error: ServiceError) => callback(error),
      );
    };
  }

  private async run<T>(
    call: {
      metadata: Metadata;
      getPeer(): string;
      on(event: 'cancelled', l: () => void): unknown;
      sendMetadata(m: Metadata): void;
    },
    method: string,
    options: RpcOptions,
    body: (ctx: CallContext) => Promise<T>,
  ): Promise<T> {
    const { logger, inflight, metrics } = this.deps;
    const requestId = (firstValue(call.metadata, 'x-request-id') ?? randomUUID()).slice(0, 100);
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort(new DomainError('cancelled', 'call cancelled by the client')));
    const parent = propagation.extract(context.active(), call.metadata, metadataGetter);
    const started = process.hrtime.bigint();
    inflight?.enter();
    const finish = metrics?.start(method);
    return this.tracer.startActiveSpan(method, { kind: SpanKind.SERVER }, parent, async (span: Span) => {
      const log = logger.child({ rpc: method, request_id: requestId });
      try {
        const reply = new Metadata();
        reply.set('x-request-id', requestId);
        call.sendMetadata(reply);
        const claims = await this.authorize(call.metadata, options.auth ?? 'user');
        const orm = this.deps.orm;
        const ctx = new GrpcCallContext({
          method,
          requestId,
          logger: claims ? log.child({ user_id: claims.userId }) : log,
          metadata: call.metadata,
          peer: call.getPeer(),
          signal: abort.signal,
          claims,
          forkEm: orm ? () => orm.em.fork() : undefined,
        });
        const result = orm ? await RequestContext.create(ctx.em, () => body(ctx)) : await body(ctx);
        log.debug({ ms: elapsedMs(started) }, 'rpc ok');
        finish?.(status.OK);
        return result;
      } catch (error) {
        const serviceError = toServiceError(error, log);
        finish?.(serviceError.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: status[serviceError.code] });
        log.info({ ms: elapsedMs(started), code: status[serviceError.code] }, 'rpc failed');
        throw serviceError;
      } finally {
        span.end();
        inflight?.leave();
      }
    });
  }

  private async authorize(metadata: Metadata, policy: AuthPolicy): Promise<AuthClaims | undefined> {
    const header = firstValue(metadata, 'authorization');
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) {
      if (policy === 'public') return undefined;
      throw DomainError.unauthenticated(
        header ? 'malformed authorization header' : 'authentication required',
        'TOKEN_MISSING',
      );
    }
    if (!this.deps.verifier) throw new Error('no token verifier configured');
    let claims: AuthClaims;
    try {
      claims = await this.deps.verifier.verify(token);
    } catch (error) {
      if (policy === 'public' && isDomainError(error) && error.kind === 'unauthenticated') return undefined;
      throw error;
    }
    return policy === 'admin' ? assertAdmin(claims) : claims;
  }
}

function elapsedMs(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** DomainError → its status; anything else → INTERNAL with an opaque reference. */
export function toServiceError(error: unknown, logger: Logger): ServiceError {
  const metadata = new Metadata();
  if (isDomainError(error)) {
    if (error.reason) metadata.set('error-reason', error.reason);
    if (error.field) metadata.set('error-field', error.field);
    for (const [k, v] of Object.entries(error.metadata ?? {})) metadata.set(`error-${k}`, v);
    return Object.assign(new Error(error.message), {
      code: STATUS_BY_KIND[error.kind],
      details: error.message,
      metadata,
    });
  }
  const ref = randomUUID();
  logger.error({ err: error, error_ref: ref }, 'unhandled error');
  const message = `internal error (ref ${ref})`;
  metadata.set('error-ref', ref);
  return Object.assign(new Error(message), { code: status.INTERNAL, details: message, metadata });
}
