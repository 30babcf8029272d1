import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DescMethod } from '@bufbuild/protobuf';
import { Metadata, status, type Client, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { passBytes } from './upstreams';

export const GRPC_WEB_CONTENT_TYPES = new Set([
  'application/grpc-web',
  'application/grpc-web+proto',
  'application/grpc-web-text',
  'application/grpc-web-text+proto',
]);

export interface GrpcWebCall {
  contentType: string;
  grpcPath: string;
  method: DescMethod;
  client: Client | undefined;
  metadata: Metadata;
  readBody: () => Promise<Buffer>;
  /** Deadline of unary calls without a `grpc-timeout` header. */
  unaryTimeoutMs: number;
}

/**
 * gRPC-web (binary and base64 text) for unary and server-streaming methods: the request is
 * one length-prefixed message; responses are data frames and a final trailer frame.
 */
export async function handleGrpcWeb(
  req: IncomingMessage,
  res: ServerResponse,
  call: GrpcWebCall,
): Promise<void> {
  const text = call.contentType.startsWith('application/grpc-web-text');
  const responseType = text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto';
  const writeFrame = (flag: number, payload: Buffer) => {
    const frame = Buffer.alloc(5 + payload.length);
    frame[0] = flag;
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    return res.write(text ? frame.toString('base64') : frame);
  };
  const finish = (code: number, message: string, trailers?: Metadata) => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': responseType });
    const lines = [`grpc-status: ${code}`, `grpc-message: ${encodeURIComponent(message)}`];
    for (const [key, value] of Object.entries(trailers?.getMap() ?? {}))
      if (!key.startsWith('grpc-') && !key.endsWith('-bin')) lines.push(`${key}: ${String(value)}`);
    writeFrame(0x80, Buffer.from(`${lines.join('\r\n')}\r\n`));
    res.end();
  };

  let body: Buffer;
  try {
    body = await call.readBody();
  } catch {
    // readBody drains the rest (bounded): no `connection: close`, so the client reads this.
    res.writeHead(413, { 'content-type': 'text/plain' });
    res.end('request body too large');
    return;
  }
  if (text) body = Buffer.from(body.toString('ascii'), 'base64');
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5)
    return finish(status.INTERNAL, 'malformed gRPC-web request: expected one uncompressed message frame');
  const message = body.subarray(5);
  if (!call.client) return finish(status.UNAVAILABLE, `no upstream for ${call.grpcPath}`);
  const kind = call.method.methodKind;
  const timeout =
    grpcTimeout(req.headers['grpc-timeout']) ?? (kind === 'unary' ? call.unaryTimeoutMs : undefined);
  const options = timeout ? { deadline: Date.now() + timeout } : {};

  if (kind === 'unary') {
    await new Promise<void>((resolve) => {
      let trailers: Metadata | undefined;
      const c = call.client!.makeUnaryRequest<Buffer, Buffer>(
        call.grpcPath,
        passBytes,
        passBytes,
        message,
        call.metadata,
        options,
        (error: ServiceError | null, response?: Buffer) => {
          if (error) finish(error.code, error.details, error.metadata);
          else {
            res.writeHead(200, { 'content-type': responseType });
            writeFrame(0x00, response ?? Buffer.alloc(0));
            finish(status.OK, '', trailers);
          }
          resolve();
        },
      );
      c.on('status', (s: StatusObject) => (trailers = s.metadata));
      res.once('close', () => {
        if (!res.writableFinished) c.cancel();
      });
    });
    return;
  }
  if (kind === 'server_streaming') {
    await new Promise<void>((resolve) => {
      const c = call.client!.makeServerStreamRequest<Buffer, Buffer>(
        call.grpcPath,
        passBytes,
        passBytes,
        message,
        call.metadata,
        options,
      );
      c.on('data', (bytes: Buffer) => {
        if (!res.headersSent) res.writeHead(200, { 'content-type': responseType });
        if (!writeFrame(0x00, bytes)) {
          c.pause();
          res.once('drain', () => c.resume());
        }
      });
      c.on('error', () => undefined);
      c.on('status', (s: StatusObject) => {
        finish(s.code, s.details, s.metadata);
        resolve();
      });
      res.once('close', () => {
        if (!res.writableFinished) {
          c.cancel();
          resolve();
        }
      });
    });
    return;
  }
  finish(status.UNIMPLEMENTED, 'gRPC-web carries unary and server-streaming calls only');
}

/** `grpc-timeout` header (`100m`, `5S`, …) in milliseconds. */
function grpcTimeout(header: string | string[] | undefined): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(Array.isArray(header) ? header[0] : (header ?? ''));
  if (!m) return undefined;
  const n = Number(m[1]);
  const factor = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }[m[2] as 'H'];
  return Math.max(1, Math.ceil(n * factor));
}
