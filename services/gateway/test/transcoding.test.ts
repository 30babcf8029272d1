/**
 * Transcoding features beyond the platform's current contracts, on a test-only contract
 * (test/fixtures/gwtest/v1/files.proto, built with buf) served by a real gRPC server.
 */
import { connect } from 'node:net';
import type { RunningService } from '@charge/service-kit';
import { startTestService } from '@charge/testing';
import { build, type GatewayHandle } from '../src/app';
import { loadConfig, type GatewayConfig } from '../src/config';
import { buildFixtureDescriptor, FixtureFileService, tempDir } from './support/fixture-api';

describe('gateway transcoding (fixture contract)', () => {
  const tmp = tempDir();
  let files: FixtureFileService;
  let gateway: RunningService<GatewayConfig>;
  const handle: Partial<GatewayHandle> = {};
  const MAX_UPLOAD = 4 * 1024 * 1024;

  beforeAll(async () => {
    const descriptor = buildFixtureDescriptor(tmp.dir);
    files = await FixtureFileService.start(descriptor);
    gateway = await startTestService(
      { name: 'gateway', loadConfig, build: (ctx) => build(ctx, handle) },
      {
        env: {
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          DESCRIPTOR_SET_PATH: descriptor,
          GWTEST_GRPC_ADDR: files.address,
          MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
          REQUEST_TIMEOUT_MS: '2000',
        },
      },
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await files?.stop();
    tmp.remove();
  });

  test('HttpBody upload: the body is streamed to the client-streaming RPC in chunks, path fields in the first', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const res = await fetch(`${handle.url}/v1/buckets/b1/files/logs/2026/run.blf:upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(size, 7),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { name: string; size: string; chunks: number; contentType: string };
    expect(body).toMatchObject({
      name: 'buckets/b1/files/logs/2026/run.blf',
      size: String(size),
      contentType: 'application/octet-stream',
    });
    expect(body.chunks).toBeGreaterThan(1);
  });

  test('uploads over MAX_UPLOAD_BYTES get 413, declared or streamed', async () => {
    const declared = await fetch(`${handle.url}/v1/buckets/b1/files/big:upload`, {
      method: 'POST',
      body: Buffer.alloc(MAX_UPLOAD + 1),
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { code: number }).code).toBe(8);

    const chunk = new Uint8Array(256 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_UPLOAD + chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const streamed = await fetch(`${handle.url}/v1/buckets/b1/files/big:upload`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  test('a refused upload is drained, not cut off: the client keeps sending, reads the 413, and the connection lives on', async () => {
    const { port } = new URL(handle.url!);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    const errors: Error[] = [];
    socket.on('error', (e) => errors.push(e));
    const size = 3 * MAX_UPLOAD;
    socket.write(
      `POST /v1/buckets/b1/files/big:upload HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: ${size}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(64 * 1024));
    // The answer comes while most of the body is still to be sent.
    const until = async (pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => received.includes('}'));
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received.toLowerCase()).not.toContain('connection: close');
    for (let sent = 64 * 1024; sent < size; sent += 256 * 1024) {
      socket.write(Buffer.alloc(Math.min(256 * 1024, size - sent)));
      await new Promise((r) => setTimeout(r, 1));
    }
    // The same connection then serves the next request.
    received = '';
    socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => received.includes('SERVING'));
    socket.destroy();
    expect(errors).toEqual([]);
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
  });

  test('HttpBody download: the content type and bytes of the response message, `**` bindings', async () => {
    const res = await fetch(`${handle.url}/v1/buckets/b1/files/a/b/c.txt`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('contents of buckets/b1/files/a/b/c.txt');
  });

  test('body: "<field>" and response_body, and an additional binding with body: "*"', async () => {
    const renamed = await fetch(`${handle.url}/v1/buckets/b1/files/x.txt:rename`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ newName: 'y.txt' }),
    });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toEqual({ name: 'y.txt' });

    const viaPost = await fetch(`${handle.url}/v1/rename`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'buckets/b1/files/x.txt', target: { new_name: 'z.txt' } }),
    });
    expect(viaPost.status).toBe(200);
    // An additional binding has its own response_body (none here): the whole response.
    expect(await viaPost.json()).toEqual({ file: { name: 'z.txt' }, note: 'from buckets/b1/files/x.txt' });
  });

  test('nested, repeated, enum and bool query parameters; refusals name the parameter', async () => {
    const res = await fetch(
      `${handle.url}/v1/buckets/b%201/search?filter.min_size=10&filter.tags=a&filter.tags=b&order=ORDER_NEWEST&deep=true`,
    );
    expect(res.status).toBe(200);
    const { echo } = (await res.json()) as { echo: string };
    expect(JSON.parse(echo)).toEqual({
      bucket: 'b 1',
      filter: { minSize: 10, tags: ['a', 'b'] },
      order: 'ORDER_NEWEST',
      deep: true,
    });
    const bound = await fetch(`${handle.url}/v1/buckets/b1/search?bucket=other`);
    expect(bound.status).toBe(400);
    const notRepeated = await fetch(`${handle.url}/v1/buckets/b1/search?order=1&order=0`);
    expect(notRepeated.status).toBe(400);
    const notANumber = await fetch(`${handle.url}/v1/buckets/b1/search?filter.min_size=ten`);
    expect(notANumber.status).toBe(400);
    expect(((await notANumber.json()) as { message: string }).message).toContain('min_size');
  });

  test('a unary call past REQUEST_TIMEOUT_MS ends with 504 / DEADLINE_EXCEEDED', async () => {
    const res = await fetch(`${handle.url}/v1/buckets/slow/search`);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { code: number }).code).toBe(4);
  });

  test('gRPC-web unary calls get the same deadline when the client sends no grpc-timeout', async () => {
    const message = Buffer.from([0x0a, 4, ...Buffer.from('slow')]); // SearchRequest{bucket: "slow"}
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
    const res = await fetch(`${handle.url}/gwtest.v1.FileService/Search`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto' },
      body: frame,
    });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body[0]).toBe(0x80);
    expect(body.subarray(5).toString()).toContain('grpc-status: 4');
  });
});
