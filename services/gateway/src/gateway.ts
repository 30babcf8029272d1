import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromBinary, toJson, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import {
  Metadata,
  status,
  type ClientReadableStream,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from '@charge/service-kit';
import type { GatewayConfig } from './config';
import { errorBody, httpStatusOf } from './errors';
import { GRPC_WEB_CONTENT_TYPES, handleGrpcWeb } from './grpc-web';
import { GatewayMetrics } from './metrics';
import { HTTP_BODY_TYPE, type Api, type Route } from './routes';
import { BadRequest, buildRequest, httpBodyChunk } from './transcode';
import { passBytes, type Upstreams } from './upstreams';

/** Request headers forwarded to the services as metadata, as they are. */
const FORWARDED_HEADERS = ['authorization', 'traceparent', 'tracestate'];

export const CORS_ALLOWED_HEADERS =
  'authorization, content-type, x-request-id, traceparent, tracestate, x-grpc-web, x-user-agent, grpc-timeout';
export const CORS_EXPOSED_HEADERS = 'x-request-id, grpc-status, grpc-message, grpc-status-details-bin';

/** The gRPC code each error response carried (for metrics and spans). */
const grpcCodes = new WeakMap<ServerResponse, number>();

/** Answers with 413 after the body grew past its limit. */
class TooLarge extends Error {}

/** The REST + gRPC-web front door over the routes of one descriptor set. */
export class Gateway {
  private readonly routes: Route[];
  private serving = true;
  readonly metrics = new GatewayMetrics();
  private readonly tracer = trace.getTracer('gateway');

  constructor(
    private readonly api: Api,
    private readonly upstreams: Upstreams,
    private readonly config: GatewayConfig,
    private readonly logger: Logger,
  ) {
    // Routes with a custom verb first (`/x/{id}:start` before `/x/{id}`), then the most literal.
    this.routes = [...api.routes].sort(
      (a, b) =>
        Number(b.template.verb !== undefined) - Number(a.template.verb !== undefined) ||
        literalCount(b) - literalCount(a),
    );
  }

  /** Health endpoint answers 503 from here on (drain before the listener closes). */
  stopServing(): void {
    this.serving = false;
  }

  /**
   * One HTTP request: a server span (child of the caller's `traceparent`) that is active
   * while the upstream call starts, so the trace continues into the services; metrics by
   * route template once the response is done.
   */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = (req.method ?? 'GET').toUpperCase();
    const label = { route: '(unmatched)' };
    const finish = this.metrics.start();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = this.tracer.startSpan(`${method} gateway`, { kind: SpanKind.SERVER }, parent);
    res.once('close', () => {
      const code =
        grpcCodes.get(res) ?? (res.writableFinished && res.statusCode < 400 ? status.OK : status.CANCELLED);
      finish(label.route, method, res.statusCode, code);
      span.updateName(`${method} ${label.route}`);
      span.setAttribute('http.response.status_code', res.statusCode);
      span.setAttribute('rpc.grpc.status_code', code);
      if (code !== status.OK) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () =>
      this.dispatch(req, res, label).catch((error: unknown) => {
        this.logger.error({ err: error }, 'gateway request failed');
        if (!res.headersSent) sendError(res, status.INTERNAL, 'internal error');
        else res.destroy();
      }),
    );
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse, label: { route: string }): Promise<void> {
    const requestId = headerValue(req, 'x-request-id')?.slice(0, 100) || randomUUID();
    res.setHeader('x-request-id', requestId);
    if (this.applyCors(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = (req.method ?? 'GET').toUpperCase();

    if (url.pathname === '/metrics' && method === 'GET') {
      label.route = '/metrics';
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(this.metrics.render());
      return;
    }
    if (url.pathname === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      label.route = '/healthz';
      res.writeHead(this.serving ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: this.serving ? 'SERVING' : 'NOT_SERVING' }));
      return;
    }
    const contentType = (headerValue(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (method === 'POST' && GRPC_WEB_CONTENT_TYPES.has(contentType)) {
      const target = this.api.methods.get(url.pathname);
      if (target) label.route = url.pathname;
      if (!target) return sendError(res, status.UNIMPLEMENTED, `unknown method ${url.pathname}`, 404);
      return handleGrpcWeb(req, res, {
        contentType,
        grpcPath: url.pathname,
        method: target.method,
        client: this.upstreams.get(target.upstream),
        metadata: this.metadataFor(req, requestId),
        readBody: () => readBody(req, this.config.MAX_BODY_BYTES),
        unaryTimeoutMs: this.config.REQUEST_TIMEOUT_MS,
      });
    }

    let route: Route | undefined;
    let bindings: Map<string, string> | undefined;
    for (const r of this.routes) {
      if (r.verb !== method) continue;
      bindings = r.template.match(url.pathname);
      if (bindings) {
        route = r;
        break;
      }
    }
    if (!route || !bindings)
      return sendError(res, status.NOT_FOUND, `no route for ${method} ${url.pathname}`);
    label.route = route.template.source;
    const client = this.upstreams.get(route.upstream);
    if (!client) return sendError(res, status.UNAVAILABLE, `no upstream configured for ${route.upstream}`);
    const metadata = this.metadataFor(req, requestId);

    if (route.streaming === 'client') return this.upload(req, res, route, bindings, url, metadata);

    let body: JsonValue | undefined;
    if (route.body) {
      let raw: Buffer;
      try {
        raw = await readBody(req, this.config.MAX_BODY_BYTES);
      } catch (error) {
        if (error instanceof TooLarge)
          return sendError(
            res,
            status.RESOURCE_EXHAUSTED,
            `request body exceeds ${this.config.MAX_BODY_BYTES} bytes`,
            413,
          );
        throw error;
      }
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8')) as JsonValue;
        } catch (error) {
          return sendError(res, status.INVALID_ARGUMENT, `malformed JSON body: ${(error as Error).message}`);
        }
      }
    } else req.resume();

    let request: Uint8Array;
    try {
      request = buildRequest(route, this.api.registry, body, bindings, url.searchParams);
    } catch (error) {
      if (error instanceof BadRequest) {
        const trailers = new Metadata();
        if (error.field) trailers.set('error-field', error.field);
        return sendError(res, status.INVALID_ARGUMENT, error.message, undefined, trailers);
      }
      throw error;
    }
    if (route.streaming === 'server') return this.serverStream(res, route, request, metadata, client);
    await new Promise<void>((resolve) => {
      const call = client.makeUnaryRequest<Buffer, Buffer>(
        route.grpcPath,
        passBytes,
        passBytes,
        Buffer.from(request),
        metadata,
        { deadline: Date.now() + this.config.REQUEST_TIMEOUT_MS },
        (error: ServiceError | null, response?: Buffer) => {
          if (error) sendGrpcError(res, error, route.upstream);
          else this.sendMessage(res, route, response ?? Buffer.alloc(0));
          resolve();
        },
      );
      res.once('close', () => {
        if (!res.writableFinished) call.cancel();
      });
    });
  }

  private sendMessage(res: ServerResponse, route: Route, bytes: Uint8Array): void {
    const output = route.method.output;
    if (output.typeName === HTTP_BODY_TYPE) {
      const body = fromBinary(output, bytes) as unknown as { contentType: string; data: Uint8Array };
      res.writeHead(200, { 'content-type': body.contentType || 'application/octet-stream' });
      res.end(body.data);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(this.toJsonBody(route, output, bytes)));
  }

  private toJsonBody(route: Route, output: DescMessage, bytes: Uint8Array): JsonValue {
    const json = toJson(output, fromBinary(output, bytes), { registry: this.api.registry });
    if (!route.responseBody) return json;
    return (json as Record<string, JsonValue>)[route.responseBody.jsonName] ?? null;
  }

  /** Server streaming as newline-delimited JSON; a late error becomes a final `{"error": …}` line. */
  private serverStream(
    res: ServerResponse,
    route: Route,
    request: Uint8Array,
    metadata: Metadata,
    client: NonNullable<ReturnType<Upstreams['get']>>,
  ): Promise<void> {
    return new Promise<void>((resolve) => {
      const call: ClientReadableStream<Buffer> = client.makeServerStreamRequest<Buffer, Buffer>(
        route.grpcPath,
        passBytes,
        passBytes,
        Buffer.from(request),
        metadata,
        {},
      );
      const rawBody = route.method.output.typeName === HTTP_BODY_TYPE;
      const output = route.method.output;
      call.on('data', (bytes: Buffer) => {
        let chunk: string | Uint8Array;
        if (rawBody) {
          const body = fromBinary(output, bytes) as unknown as { contentType: string; data: Uint8Array };
          if (!res.headersSent)
            res.writeHead(200, { 'content-type': body.contentType || 'application/octet-stream' });
          chunk = body.data;
        } else {
          if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          chunk = `${JSON.stringify(this.toJsonBody(route, output, bytes))}\n`;
        }
        if (!res.write(chunk)) {
          call.pause();
          res.once('drain', () => call.resume());
        }
      });
      call.on('error', () => {
        // Reported through 'status'.
      });
      call.on('status', (s: StatusObject) => {
        if (s.code === status.OK) {
          if (!res.headersSent)
            res.writeHead(200, {
              'content-type': rawBody ? 'application/octet-stream' : 'application/x-ndjson',
            });
          res.end();
        } else if (!res.headersSent) sendGrpcError(res, s, route.upstream);
        else if (!rawBody && !res.destroyed) {
          grpcCodes.set(res, s.code);
          res.end(`${JSON.stringify({ error: errorBody(s.code, s.details, s.metadata, route.upstream) })}\n`);
        } else res.destroy();
        resolve();
      });
      res.once('close', () => {
        if (!res.writableFinished) {
          call.cancel();
          resolve();
        }
      });
    });
  }

  /** Client-streaming HttpBody upload: the request body is streamed as chunks, never held whole. */
  private upload(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    bindings: Map<string, string>,
    url: URL,
    metadata: Metadata,
  ): Promise<void> {
    const limit = this.config.MAX_UPLOAD_BYTES;
    const declared = Number(headerValue(req, 'content-length') ?? NaN);
    if (declared > limit) {
      discardBody(req, drainCap(limit));
      sendError(res, status.RESOURCE_EXHAUSTED, `upload exceeds ${limit} bytes`, 413);
      return Promise.resolve();
    }
    let first: Uint8Array | undefined;
    try {
      first = route.bodyField
        ? buildRequest(route, this.api.registry, undefined, bindings, url.searchParams)
        : undefined;
    } catch (error) {
      if (error instanceof BadRequest) {
        req.resume();
        sendError(res, status.INVALID_ARGUMENT, error.message);
        return Promise.resolve();
      }
      throw error;
    }
    const contentType = headerValue(req, 'content-type') ?? 'application/octet-stream';
    const client = this.upstreams.get(route.upstream)!;
    return new Promise<void>((resolve) => {
      let received = 0;
      let sentFirst = false;
      let tooLarge = false;
      const call = client.makeClientStreamRequest<Buffer, Buffer>(
        route.grpcPath,
        passBytes,
        passBytes,
        metadata,
        {},
        (error: ServiceError | null, response?: Buffer) => {
          if (tooLarge) sendError(res, status.RESOURCE_EXHAUSTED, `upload exceeds ${limit} bytes`, 413);
          else if (error) sendGrpcError(res, error, route.upstream);
          else this.sendMessage(res, route, response ?? Buffer.alloc(0));
          resolve();
        },
      );
      const send = (data: Uint8Array): boolean => {
        const message = httpBodyChunk(
          route,
          this.api.registry,
          sentFirst ? undefined : first,
          contentType,
          data,
        );
        sentFirst = true;
        return call.write(Buffer.from(message));
      };
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (tooLarge) {
          if (received > drainCap(limit)) req.destroy();
          return;
        }
        if (received > limit) {
          tooLarge = true;
          call.cancel();
          return;
        }
        if (!send(chunk)) {
          req.pause();
          call.once('drain', () => req.resume());
        }
      });
      req.on('end', () => {
        if (tooLarge) return;
        if (!sentFirst) send(new Uint8Array(0));
        call.end();
      });
      req.on('error', () => call.cancel());
      res.once('close', () => {
        if (!res.writableFinished) call.cancel();
      });
    });
  }

  private metadataFor(req: IncomingMessage, requestId: string): Metadata {
    const md = new Metadata();
    for (const name of FORWARDED_HEADERS) {
      const value = headerValue(req, name);
      if (value) md.set(name, value);
    }
    md.set('x-request-id', requestId);
    const peer = req.socket.remoteAddress?.replace(/^::ffff:/, '');
    const forwarded = this.config.TRUST_FORWARDED_FOR ? headerValue(req, 'x-forwarded-for') : undefined;
    const chain = [forwarded, peer].filter(Boolean).join(', ');
    if (chain) md.set('x-forwarded-for', chain);
    const agent = headerValue(req, 'user-agent');
    if (agent) md.set('x-forwarded-user-agent', agent.slice(0, 512));
    return md;
  }

  /** CORS headers for allowed origins; answers preflight requests. Returns true when answered. */
  private applyCors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = headerValue(req, 'origin');
    const allowed = this.config.CORS_ALLOWED_ORIGINS;
    const ok = origin !== undefined && (allowed.includes('*') || allowed.includes(origin));
    if (ok) {
      res.setHeader('access-control-allow-origin', allowed.includes('*') ? '*' : origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS);
    }
    if (req.method === 'OPTIONS' && headerValue(req, 'access-control-request-method')) {
      req.resume();
      if (!ok) {
        res.writeHead(403).end();
        return true;
      }
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
        'access-control-allow-headers': CORS_ALLOWED_HEADERS,
        'access-control-max-age': '600',
      });
      res.end();
      return true;
    }
    return false;
  }
}

function literalCount(route: Route): number {
  return route.template.source.split('/').filter((s) => s && !s.includes('{') && !s.includes('*')).length;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** How much of a refused body is read and dropped before the connection is cut: 8× the limit, at most 64 MiB. */
const drainCap = (limit: number) => Math.min(limit * 8, 64 * 1024 * 1024);

/**
 * Reads and drops what is left of a refused request body, so that a client still sending it
 * is not cut off (EPIPE) before it reads the error, up to `cap` bytes; past that the
 * connection is dropped.
 */
function discardBody(req: IncomingMessage, cap: number): void {
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > cap) req.destroy();
  });
  req.resume();
}

/**
 * Reads a whole (small) body, refusing more than `limit` bytes. An oversized body is
 * drained (up to 8× the limit) so the client can read the 413 (the connection stays open
 * meanwhile); past that the connection is dropped.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const refuse = () => {
      over = true;
      chunks.length = 0;
      reject(new TooLarge());
    };
    if (declared > limit) refuse();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > limit * 8) req.destroy();
        return;
      }
      if (size > limit) return refuse();
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!over) reject(error);
    });
  });
}

export function sendError(
  res: ServerResponse,
  code: number,
  message: string,
  httpStatus?: number,
  trailers?: Metadata,
  domain?: string,
): void {
  grpcCodes.set(res, code);
  if (res.headersSent) return void res.destroy();
  // No `connection: close` on a 413: closing while the client still sends its body would
  // cut it off (EPIPE) before it reads the answer; callers drain the body, bounded.
  res.writeHead(httpStatus ?? httpStatusOf(code), { 'content-type': 'application/json' });
  res.end(JSON.stringify(errorBody(code, message, trailers, domain)));
}

function sendGrpcError(
  res: ServerResponse,
  error: Pick<StatusObject, 'code' | 'details' | 'metadata'>,
  domain: string,
) {
  sendError(res, error.code, error.details, undefined, error.metadata, domain);
}
