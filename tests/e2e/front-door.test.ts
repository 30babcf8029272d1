/**
 * End to end through the gateway only: auth, audit and the gateway as separate processes
 * (their real main.ts, config from the environment), fresh database, own NATS.
 */
import { authV1 } from '@charge/contracts';
import { E2ePlatform } from './platform';

describe('e2e: the front door', () => {
  const platform = new E2ePlatform();
  const rest = async (method: string, route: string, body?: unknown, token?: string) => {
    const res = await fetch(`${platform.gatewayUrl}${route}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    await platform.start(['auth', 'audit']);
  }, 180_000);

  afterAll(async () => {
    const codes = await platform.stop();
    expect(codes).toEqual({ auth: 0, audit: 0, gateway: 0 });
  }, 60_000);

  test('register, log in, read the profile; the admin finds both actions in the audit trail', async () => {
    const registered = await rest('POST', '/v1/auth/register', {
      email: 'e2e-user@example.com',
      password: 'correct horse battery',
      username: 'e2e-user',
    });
    expect(registered.status).toBe(200);
    const login = await rest('POST', '/v1/auth/login', {
      email: 'e2e-user@example.com',
      password: 'correct horse battery',
    });
    expect(login.status).toBe(200);
    const me = await rest('GET', '/v1/auth/me', undefined, login.body.accessToken as string);
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email: 'e2e-user@example.com', role: 'ROLE_USER' });

    const admin = await rest('POST', '/v1/auth/login', platform.admin);
    const userId = String((registered.body.user as { id: number }).id);
    let actions: string[] = [];
    for (let i = 0; i < 150 && !(actions.includes('created') && actions.includes('logged_in')); i++) {
      const logs = await rest(
        'GET',
        `/v1/audit/logs?resource_id=${userId}&service=auth`,
        undefined,
        admin.body.accessToken as string,
      );
      expect(logs.status).toBe(200);
      actions = ((logs.body.logs as { action: string }[] | undefined) ?? []).map((l) => l.action);
      if (!(actions.includes('created') && actions.includes('logged_in')))
        await new Promise((r) => setTimeout(r, 100));
    }
    expect(actions).toEqual(expect.arrayContaining(['created', 'logged_in']));
  });

  test('refusals: no token → 401, not an admin → 403, oversize → 413, malformed JSON → 400 naming the field', async () => {
    expect((await rest('GET', '/v1/auth/me')).status).toBe(401);
    const user = await rest('POST', '/v1/auth/login', {
      email: 'e2e-user@example.com',
      password: 'correct horse battery',
    });
    expect((await rest('GET', '/v1/audit/logs', undefined, user.body.accessToken as string)).status).toBe(
      403,
    );
    const big = await rest('POST', '/v1/auth/login', {
      email: 'x@example.com',
      password: 'p'.repeat(100_000),
    });
    expect(big.status).toBe(413);
    const wrong = await rest('POST', '/v1/auth/login', { email: ['not', 'a', 'string'], password: 'x' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toEqual(expect.stringContaining('email'));
  });

  test('gRPC-web: GetMe with a bearer token', async () => {
    const login = await rest('POST', '/v1/auth/login', {
      email: 'e2e-user@example.com',
      password: 'correct horse battery',
    });
    const message = authV1.GetMeRequest.encode({}).finish();
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    Buffer.from(message).copy(frame, 5);
    const res = await fetch(`${platform.gatewayUrl}/charge.auth.v1.AuthService/GetMe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/grpc-web-text',
        'x-grpc-web': '1',
        authorization: `Bearer ${login.body.accessToken as string}`,
      },
      body: frame.toString('base64'),
    });
    expect(res.status).toBe(200);
    const chunks = (await res.text()).match(/[A-Za-z0-9+/]+={0,2}/g) ?? [];
    const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c, 'base64')));
    const length = bytes.readUInt32BE(1);
    expect(bytes[0]).toBe(0);
    expect(authV1.GetMeResponse.decode(bytes.subarray(5, 5 + length)).user?.email).toBe(
      'e2e-user@example.com',
    );
    expect(bytes.subarray(5 + length + 5).toString()).toContain('grpc-status: 0');
  });
});
