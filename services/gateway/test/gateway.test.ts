/**
 * The gateway in front of real auth + audit services (fresh database, test-owned NATS) and
 * a stub analysis server for the streaming paths; the gateway on 127.0.0.1:0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authV1 } from '@charge/contracts';
import { type RunningService } from '@charge/service-kit';
import {
  createTestDatabase,
  startTestService,
  TestNatsServer,
  type TestDatabase,
  migrateSchemas,
} from '@charge/testing';
import * as authApp from '../../auth/src/app';
import * as authConfig from '../../auth/src/config';
import * as authSchema from '../../auth/src/persistence/schema';
import * as auditApp from '../../audit/src/app';
import * as auditConfig from '../../audit/src/config';
import * as auditSchema from '../../audit/src/persistence/schema';
import { build, type GatewayHandle } from '../src/app';
import { loadConfig, type GatewayConfig } from '../src/config';
import { StubAnalysis } from './support/stub-analysis';

const ADMIN = { email: 'root@example.com', password: 'root-password-123' };
const ORIGIN = 'https://app.example';

describe('gateway over real auth + audit', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let auth: RunningService;
  let audit: RunningService;
  let gateway: RunningService<GatewayConfig>;
  let stub: StubAnalysis;
  let keyDir: string;
  const handle: Partial<GatewayHandle> = {};

  const call = (
    method: string,
    route: string,
    init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${handle.url}${route}`, {
      method,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...init.headers,
      },
      body:
        init.body === undefined
          ? undefined
          : typeof init.body === 'string'
            ? init.body
            : JSON.stringify(init.body),
    });
  const json = async (res: Response) => ({
    status: res.status,
    // Response bodies are asserted field by field; `any` keeps those assertions short.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    body: (await res.json()) as Record<string, any>,
  });
  const login = async (email: string, password: string) => {
    const r = await json(await call('POST', '/v1/auth/login', { body: { email, password } }));
    expect(r.status).toBe(200);
    return r.body.accessToken as string;
  };

  beforeAll(async () => {
    db = await createTestDatabase('gateway');
    nats = await TestNatsServer.start();
    stub = await StubAnalysis.start();
    keyDir = mkdtempSync(path.join(tmpdir(), 'ct-gw-key-'));
    await migrateSchemas(db.url, auditSchema, authSchema);
    auth = await startTestService(
      { name: 'auth', loadConfig: authConfig.loadConfig, build: authApp.build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_SIGNING_KEY_FILE: path.join(keyDir, 'signing.pem'),
          AUTH_DEV_GENERATE_KEY: '1',
          ADMIN_EMAIL: ADMIN.email,
          ADMIN_PASSWORD: ADMIN.password,
        },
      },
    );
    audit = await startTestService(
      { name: 'audit', loadConfig: auditConfig.loadConfig, build: auditApp.build },
      { env: { DATABASE_URL: db.url, NATS_URL: nats.url, AUTH_GRPC_ADDR: auth.address } },
    );
    gateway = await startTestService(
      { name: 'gateway', loadConfig, build: (ctx) => build(ctx, handle) },
      {
        env: {
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          AUTH_GRPC_ADDR: auth.address,
          AUDIT_GRPC_ADDR: audit.address,
          ANALYSIS_GRPC_ADDR: stub.address,
          CORS_ALLOWED_ORIGINS: ORIGIN,
          MAX_BODY_BYTES: '4096',
          REQUEST_TIMEOUT_MS: '10000',
        },
      },
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await audit?.stop();
    await auth?.stop();
    await stub?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  test('register → login → GetMe with the bearer token, in canonical proto3 JSON', async () => {
    const registered = await json(
      await call('POST', '/v1/auth/register', {
        body: {
          email: 'Alice@Example.com',
          password: 'correct horse battery',
          username: 'alice',
          first_name: 'Al',
        },
      }),
    );
    expect(registered.status).toBe(200);
    expect(registered.body.user).toMatchObject({
      email: 'alice@example.com',
      username: 'alice',
      firstName: 'Al',
      role: 'ROLE_USER',
      isActive: true,
    });
    expect(typeof registered.body.user.id).toBe('number');
    expect(registered.body.user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    const token = await login('alice@example.com', 'correct horse battery');
    const me = await json(await call('GET', '/v1/auth/me', { token }));
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ id: registered.body.user.id, email: 'alice@example.com' });
    expect(me.body.user.password).toBeUndefined();
  });

  test('gRPC errors become HTTP statuses with a {code, message, details} body', async () => {
    const noToken = await json(await call('GET', '/v1/auth/me'));
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual({ code: 16, message: expect.any(String), details: expect.any(Array) });

    await call('POST', '/v1/auth/register', {
      body: { email: 'bob@example.com', password: 'correct horse battery', username: 'bob' },
    });
    const bob = await login('bob@example.com', 'correct horse battery');
    const forbidden = await json(await call('GET', '/v1/users', { token: bob }));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe(7);

    const admin = await login(ADMIN.email, ADMIN.password);
    const missing = await json(await call('DELETE', '/v1/users/987654', { token: admin }));
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe(5);

    const invalid = await json(
      await call('POST', '/v1/auth/register', {
        body: { email: 'not-an-email', password: 'correct horse battery' },
      }),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe(3);

    const duplicate = await json(
      await call('POST', '/v1/auth/register', {
        body: { email: 'bob@example.com', password: 'correct horse battery', username: 'bob2' },
      }),
    );
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe(6);
  });

  test('request JSON that does not fit the message: 400 naming the field; malformed JSON: 400', async () => {
    const wrongType = await json(
      await call('POST', '/v1/auth/login', { body: { email: 42, password: 'x' } }),
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.code).toBe(3);
    expect(wrongType.body.message).toContain('email');
    expect(wrongType.body.details[0]).toMatchObject({ metadata: { field: 'email' } });

    const unknownField = await json(await call('POST', '/v1/auth/login', { body: { emial: 'a@b.c' } }));
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toContain('emial');

    const malformed = await json(await call('POST', '/v1/auth/login', { body: '{"email": ' }));
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe(3);
  });

  test('path variables and query parameters bind request fields', async () => {
    const admin = await login(ADMIN.email, ADMIN.password);
    await call('POST', '/v1/auth/register', {
      body: { email: 'carol@example.com', password: 'correct horse battery', username: 'carol' },
    });
    const firstPage = await json(await call('GET', '/v1/users?page.page_size=1', { token: admin }));
    expect(firstPage.status).toBe(200);
    expect(firstPage.body.users).toHaveLength(1);
    expect(firstPage.body.page.nextPageToken).toEqual(expect.any(String));

    const carol = await json(await call('GET', '/v1/users?query=carol&role=ROLE_USER', { token: admin }));
    expect(carol.status).toBe(200);
    expect(carol.body.users.map((u: { email: string }) => u.email)).toEqual(['carol@example.com']);
    const carolId = carol.body.users[0].id as number;

    const promoted = await json(
      await call('PUT', `/v1/users/${carolId}/role`, { token: admin, body: { role: 'ROLE_ADMIN' } }),
    );
    expect(promoted.status).toBe(200);
    expect(promoted.body.user).toMatchObject({ id: carolId, role: 'ROLE_ADMIN' });

    const admins = await json(
      await call('GET', '/v1/users?role=ROLE_ADMIN&page.pageSize=50', { token: admin }),
    );
    expect(admins.body.users.map((u: { email: string }) => u.email).sort()).toEqual([
      'carol@example.com',
      ADMIN.email,
    ]);

    const unknownParam = await json(await call('GET', '/v1/users?colour=blue', { token: admin }));
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.body.message).toContain('colour');
    const badBool = await json(await call('GET', '/v1/users?is_active=yes', { token: admin }));
    expect(badBool.status).toBe(400);
    const badEnum = await json(await call('GET', '/v1/users?role=ROLE_KING', { token: admin }));
    expect(badEnum.status).toBe(400);
  });

  test('admins list the audit trail through the gateway (audit service, query filters)', async () => {
    const admin = await login(ADMIN.email, ADMIN.password);
    let actions: string[] = [];
    for (let i = 0; i < 100 && !actions.includes('created'); i++) {
      const r = await json(
        await call('GET', '/v1/audit/logs?resource_type=user&service=auth', { token: admin }),
      );
      expect(r.status).toBe(200);
      actions = (r.body.logs ?? []).map((l: { action: string }) => l.action);
      if (!actions.includes('created')) await new Promise((res) => setTimeout(res, 100));
    }
    expect(actions).toContain('created');
    const asUser = await json(
      await call('GET', '/v1/audit/logs', { token: await login('bob@example.com', 'correct horse battery') }),
    );
    expect(asUser.status).toBe(403);
  });

  test('unknown route → 404; wrong verb → 404; oversized body → 413', async () => {
    const unknown = await json(await call('GET', '/v1/nothing-here'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 5, details: [] });
    expect((await call('DELETE', '/v1/auth/login')).status).toBe(404);

    const big = await call('POST', '/v1/auth/register', {
      body: { email: 'big@example.com', password: 'x'.repeat(20_000) },
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: number }).code).toBe(8);
  });

  test('forwards authorization, x-request-id, traceparent, x-forwarded-for and user-agent as metadata', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await call('GET', '/v1/analyses/1', {
      token: 'tok-123',
      headers: {
        'x-request-id': 'req-gw-1',
        traceparent,
        'user-agent': 'gateway-test/1.0',
        'x-forwarded-for': '203.0.113.9',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-gw-1');
    const body = (await res.json()) as { analysis: Record<string, unknown> };
    expect(body.analysis).toEqual({
      id: 1,
      name: 'session',
      fileSize: '12345678901',
      status: 'ANALYSIS_STATUS_COMPLETED',
      progress: 1,
      createdAt: '2026-12-01T10:00:00Z',
    });
    expect(stub.seen.authorization).toBe('Bearer tok-123');
    expect(stub.seen.requestId).toBe('req-gw-1');
    expect(stub.seen.traceparent?.split('-')[1]).toBe('0af7651916cd43dd8448eb211c80319c');
    // The client's own X-Forwarded-For is not trusted (TRUST_FORWARDED_FOR off): the peer only.
    expect(stub.seen.forwardedFor).toBe('127.0.0.1');
    expect(stub.seen.userAgent).toBe('gateway-test/1.0');

    const missing = await json(await call('GET', '/v1/analyses/7'));
    expect(missing.status).toBe(404);
    expect(missing.body.details).toEqual([
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'ANALYSIS_NOT_FOUND',
        domain: 'analysis',
        metadata: {},
      },
    ]);
  });

  test('server streaming as NDJSON: every event a line; an error before the first event is an HTTP status, after it a final error line', async () => {
    const ok = await call('GET', '/v1/analyses/1:watch');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await ok.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.status, l.progress ?? 0])).toEqual([
      ['ANALYSIS_STATUS_PENDING', 0],
      ['ANALYSIS_STATUS_PROCESSING', 0.5],
      ['ANALYSIS_STATUS_COMPLETED', 1],
    ]);

    const late = await call('GET', '/v1/analyses/2:watch');
    expect(late.status).toBe(200);
    const lateLines = (await late.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lateLines).toHaveLength(2);
    expect(lateLines[0]).toMatchObject({ analysisId: 2, status: 'ANALYSIS_STATUS_PENDING' });
    expect(lateLines[1]).toEqual({ error: { code: 9, message: 'worker lost', details: [] } });

    const early = await json(await call('GET', '/v1/analyses/3:watch'));
    expect(early.status).toBe(404);
    expect(early.body.code).toBe(5);
  });

  test('a client that leaves a stream cancels the upstream call', async () => {
    const abort = new AbortController();
    const res = await fetch(`${handle.url}/v1/analyses/4:watch`, { signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(JSON.parse(Buffer.from(first.value!).toString())).toMatchObject({ analysisId: 4, progress: 0.1 });
    abort.abort();
    const deadline = Date.now() + 10_000;
    while (stub.cancelledWatches === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stub.cancelledWatches).toBe(1);
  });

  test('CORS: preflight for an allowed origin, refusal for another, headers on responses', async () => {
    const preflight = await call('OPTIONS', '/v1/auth/login', {
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');

    const other = await call('OPTIONS', '/v1/auth/login', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const simple = await call('GET', '/v1/auth/jwks', { headers: { origin: ORIGIN } });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(simple.headers.get('access-control-expose-headers')).toContain('grpc-status');
  });

  test('gRPC-web, binary and text: unary GetJwks and the server-streaming watch', async () => {
    const frame = (bytes: Uint8Array) => {
      const out = Buffer.alloc(5 + bytes.length);
      out.writeUInt32BE(bytes.length, 1);
      Buffer.from(bytes).copy(out, 5);
      return out;
    };
    const frames = (buf: Buffer) => {
      const out: { flag: number; payload: Buffer }[] = [];
      for (let i = 0; i < buf.length;) {
        const len = buf.readUInt32BE(i + 1);
        out.push({ flag: buf[i], payload: buf.subarray(i + 5, i + 5 + len) });
        i += 5 + len;
      }
      return out;
    };
    const request = frame(authV1.GetJwksRequest.encode({}).finish());

    const binary = await fetch(`${handle.url}/charge.auth.v1.AuthService/GetJwks`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' },
      body: request,
    });
    expect(binary.status).toBe(200);
    expect(binary.headers.get('content-type')).toBe('application/grpc-web+proto');
    const got = frames(Buffer.from(await binary.arrayBuffer()));
    expect(got.map((f) => f.flag)).toEqual([0x00, 0x80]);
    const jwks = authV1.GetJwksResponse.decode(got[0].payload);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(got[1].payload.toString()).toContain('grpc-status: 0');

    const text = await fetch(`${handle.url}/charge.auth.v1.AuthService/GetJwks`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1' },
      body: request.toString('base64'),
    });
    expect(text.headers.get('content-type')).toBe('application/grpc-web-text+proto');
    // Each frame is base64-encoded on its own (as Envoy does): decode them one by one.
    const chunks = (await text.text()).match(/[A-Za-z0-9+/]+={0,2}/g) ?? [];
    const textFrames = chunks.flatMap((c) => frames(Buffer.from(c, 'base64')));
    expect(authV1.GetJwksResponse.decode(textFrames[0].payload).keys).toHaveLength(jwks.keys.length);
    expect(textFrames[textFrames.length - 1].payload.toString()).toContain('grpc-status: 0');

    const unauth = await fetch(`${handle.url}/charge.auth.v1.AuthService/GetMe`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto' },
      body: frame(authV1.GetMeRequest.encode({}).finish()),
    });
    const unauthFrames = frames(Buffer.from(await unauth.arrayBuffer()));
    expect(unauthFrames.map((f) => f.flag)).toEqual([0x80]);
    expect(unauthFrames[0].payload.toString()).toContain('grpc-status: 16');

    const { analysisV1 } = await import('@charge/contracts');
    const watch = await fetch(`${handle.url}/charge.analysis.v1.AnalysisService/WatchAnalysis`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto' },
      body: frame(analysisV1.WatchAnalysisRequest.encode({ analysisId: 1 }).finish()),
    });
    const watchFrames = frames(Buffer.from(await watch.arrayBuffer()));
    expect(watchFrames.map((f) => f.flag)).toEqual([0, 0, 0, 0x80]);
    expect(analysisV1.WatchAnalysisResponse.decode(watchFrames[2].payload).progress).toBe(1);
  });

  test('/metrics counts requests by route template, method, HTTP status and gRPC code', async () => {
    await call('GET', '/v1/auth/me');
    await call('GET', '/v1/users/7/nothing');
    const text = await (await call('GET', '/metrics')).text();
    const counts = new Map(
      text
        .split('\n')
        .filter((l) => l.startsWith('gateway_requests_total{'))
        .map((l) => [
          l.slice('gateway_requests_total{'.length, l.lastIndexOf('}')),
          Number(l.split(' ').pop()),
        ]),
    );
    const count = (labels: string) => counts.get(labels) ?? 0;
    expect(count('route="/v1/auth/login",method="POST",status="200",grpc_code="0"')).toBeGreaterThanOrEqual(
      4,
    );
    expect(count('route="/v1/auth/me",method="GET",status="401",grpc_code="16"')).toBeGreaterThanOrEqual(1);
    expect(count('route="(unmatched)",method="GET",status="404",grpc_code="5"')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(
      /^gateway_request_duration_seconds_count\{route="\/v1\/auth\/login",method="POST"\} \d+$/m,
    );
  });

  test('/healthz answers SERVING', async () => {
    const health = await json(await call('GET', '/healthz'));
    expect(health).toEqual({ status: 200, body: { status: 'SERVING' } });
  });
});
