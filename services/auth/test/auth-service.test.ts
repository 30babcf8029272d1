import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import jwt from 'jsonwebtoken';
import { auditV1, authV1 } from '@charge/contracts';
import { JwksTokenVerifier, TOKEN_AUDIENCE, TOKEN_ISSUER, type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  sharedNatsUrl,
  startTestService,
  statusOf,
  unary,
  withClient,
  withToken,
  type TestDatabase,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig, type AuthConfig } from '../src/config';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';

const ADMIN_EMAIL = 'Root.Admin@Example.com';
const ADMIN_PASSWORD = 'admin-password-0001';
const PASSWORD = 'correct horse battery';
const spec = { name: 'auth', loadConfig, build };

describe('auth service', () => {
  let db: TestDatabase;
  let keyDir: string;
  let env: Record<string, string>;
  let svc: RunningService<AuthConfig>;
  let client: authV1.AuthServiceClient;
  let nc: NatsConnection;
  let seq = 0;

  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(text, params).then((r) => r.rows as T[]));
  const call = {
    register: (req: Partial<authV1.RegisterRequest>, md?: Metadata) =>
      unary<authV1.RegisterRequest, authV1.RegisterResponse>(
        client.register.bind(client),
        { email: '', password: '', username: '', firstName: '', lastName: '', ...req },
        md,
      ),
    login: (email: string, password: string, md?: Metadata) =>
      unary<authV1.LoginRequest, authV1.LoginResponse>(client.login.bind(client), { email, password }, md),
    refresh: (refreshToken: string) =>
      unary<authV1.RefreshRequest, authV1.RefreshResponse>(client.refresh.bind(client), { refreshToken }),
    logout: (token: string, refreshToken = '') =>
      unary<authV1.LogoutRequest, authV1.LogoutResponse>(
        client.logout.bind(client),
        { refreshToken },
        withToken(token),
      ),
    getMe: (token: string) =>
      unary<authV1.GetMeRequest, authV1.GetMeResponse>(client.getMe.bind(client), {}, withToken(token)),
    updateMe: (token: string, req: authV1.UpdateMeRequest) =>
      unary<authV1.UpdateMeRequest, authV1.UpdateMeResponse>(
        client.updateMe.bind(client),
        req,
        withToken(token),
      ),
    changePassword: (token: string, currentPassword: string, newPassword: string, md = withToken(token)) =>
      unary<authV1.ChangePasswordRequest, authV1.ChangePasswordResponse>(
        client.changePassword.bind(client),
        { currentPassword, newPassword },
        md,
      ),
    getJwks: () => unary<authV1.GetJwksRequest, authV1.GetJwksResponse>(client.getJwks.bind(client), {}),
    listUsers: (token: string, req: Partial<authV1.ListUsersRequest>) =>
      unary<authV1.ListUsersRequest, authV1.ListUsersResponse>(
        client.listUsers.bind(client),
        { page: undefined, role: authV1.Role.ROLE_UNSPECIFIED, query: '', ...req },
        withToken(token),
      ),
    setUserRole: (token: string, userId: number, role: authV1.Role) =>
      unary<authV1.SetUserRoleRequest, authV1.SetUserRoleResponse>(
        client.setUserRole.bind(client),
        { userId, role },
        withToken(token),
      ),
    setUserActive: (token: string, userId: number, isActive: boolean) =>
      unary<authV1.SetUserActiveRequest, authV1.SetUserActiveResponse>(
        client.setUserActive.bind(client),
        { userId, isActive },
        withToken(token),
      ),
    deleteUser: (token: string, userId: number) =>
      unary<authV1.DeleteUserRequest, authV1.DeleteUserResponse>(
        client.deleteUser.bind(client),
        { userId },
        withToken(token),
      ),
  };

  /** A fresh registered user with a logged-in session. */
  async function newUser(prefix = 'user') {
    const email = `${prefix}${++seq}@example.com`;
    const { user } = await call.register({ email, password: PASSWORD });
    const login = await call.login(email, PASSWORD);
    return { email, id: user!.id, token: login.accessToken, refreshToken: login.refreshToken };
  }

  async function failure(promise: Promise<unknown>): Promise<ServiceError> {
    try {
      await promise;
    } catch (error) {
      return error as ServiceError;
    }
    throw new Error('expected the call to fail');
  }

  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

  beforeAll(async () => {
    db = await createTestDatabase('auth');
    // Another service's table, which migrating auth must leave alone.
    await sql(
      'create schema audit; create table audit.sentinel (id int); insert into audit.sentinel values (1)',
    );
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    keyDir = mkdtempSync(path.join(tmpdir(), 'auth-key-'));
    env = {
      DATABASE_URL: db.url,
      NATS_URL: sharedNatsUrl(),
      AUTH_SIGNING_KEY_FILE: path.join(keyDir, 'keys', 'signing.pem'),
      AUTH_DEV_GENERATE_KEY: '1',
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
    };
    svc = await startTestService(spec, { env });
    client = clientFor(authV1.AuthServiceClient, svc);
    nc = await connect({ servers: sharedNatsUrl() });
  });

  afterAll(async () => {
    client?.close();
    await nc?.close();
    await svc?.stop();
    await db?.drop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  describe('start', () => {
    it('leaves other schemas intact when migrating', async () => {
      expect(await sql('select id from audit.sentinel')).toEqual([{ id: 1 }]);
      const tables = await sql<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = 'auth' order by table_name`,
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'login_throttles',
        'mikro_orm_migrations',
        'outbox_messages',
        'rotated_refresh_tokens',
        'user_sessions',
        'users',
      ]);
      const types = await sql(
        `select column_name, data_type from information_schema.columns where table_schema = 'auth' and table_name = 'users' and column_name like '%_at'`,
      );
      expect(types).toEqual(
        expect.arrayContaining([{ column_name: 'created_at', data_type: 'timestamp with time zone' }]),
      );
    });

    it('generated the signing key file (0600) and creates the first admin idempotently', async () => {
      expect(statSync(env.AUTH_SIGNING_KEY_FILE).mode & 0o777).toBe(0o600);
      const second = await startTestService(spec, { env });
      try {
        const a = await call.getJwks();
        const secondClient = clientFor(authV1.AuthServiceClient, second);
        const b = await unary<authV1.GetJwksRequest, authV1.GetJwksResponse>(
          secondClient.getJwks.bind(secondClient),
          {},
        );
        secondClient.close();
        expect(b.keys[0].kid).toBe(a.keys[0].kid);
      } finally {
        await second.stop();
      }
      const admins = await sql(
        `select email, role, is_active, password_hash from auth.users where role = 'admin'`,
      );
      expect(admins).toHaveLength(1);
      expect(admins[0]).toMatchObject({ email: 'root.admin@example.com', role: 'admin', is_active: true });
      expect(String(admins[0].password_hash)).toMatch(/^\$argon2id\$/);
      const login = await call.login(ADMIN_EMAIL, ADMIN_PASSWORD);
      expect(login.user?.role).toBe(authV1.Role.ROLE_ADMIN);
    });
  });

  describe('Register', () => {
    it('creates a user with an argon2id hash and a derived username', async () => {
      const { user } = await call.register({
        email: '  New.Person@Example.COM ',
        password: PASSWORD,
        firstName: 'Ada',
        lastName: 'Lovelace',
      });
      expect(user).toMatchObject({
        email: 'new.person@example.com',
        username: 'new.person',
        firstName: 'Ada',
        lastName: 'Lovelace',
        role: authV1.Role.ROLE_USER,
        isActive: true,
        lastLogin: undefined,
      });
      expect(user!.createdAt).toBeInstanceOf(Date);
      const [row] = await sql(`select * from auth.users where id = $1`, [user!.id]);
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$/);
      expect(row.password_hash).not.toContain(PASSWORD);
    });

    it('rejects a duplicate email or username case-insensitively with ALREADY_EXISTS', async () => {
      await call.register({ email: 'dup@example.com', password: PASSWORD, username: 'Dupe_Name' });
      const byEmail = await failure(call.register({ email: 'DUP@Example.com', password: PASSWORD }));
      expect(byEmail.code).toBe(status.ALREADY_EXISTS);
      expect(byEmail.metadata.get('error-field')).toEqual(['email']);
      const byName = await failure(
        call.register({ email: 'other-dup@example.com', password: PASSWORD, username: 'dupe_name' }),
      );
      expect(byName.code).toBe(status.ALREADY_EXISTS);
      expect(byName.metadata.get('error-field')).toEqual(['username']);
      expect(
        await sql(`select count(*)::int as n from auth.users where lower(email) like '%dup@example.com'`),
      ).toEqual([{ n: 1 }]);
    });

    it('derives a distinct username when the local part is taken', async () => {
      const a = await call.register({ email: 'same@one.example', password: PASSWORD });
      const b = await call.register({ email: 'same@two.example', password: PASSWORD });
      expect(a.user!.username).toBe('same');
      expect(b.user!.username).toMatch(/^same-[0-9a-f]{6}$/);
    });

    it.each([
      [{ email: 'not-an-email', password: PASSWORD }, 'email'],
      [{ email: '', password: PASSWORD }, 'email'],
      [{ email: 'short@example.com', password: 'short' }, 'password'],
      [{ email: 'baduser@example.com', password: PASSWORD, username: 'a b' }, 'username'],
    ])('rejects bad input %o with INVALID_ARGUMENT naming %s', async (req, field) => {
      const error = await failure(call.register(req));
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.metadata.get('error-field')).toEqual([field]);
      expect(error.details.startsWith(`${field}:`)).toBe(true);
    });
  });

  describe('Login', () => {
    it('issues an ES256 access token and a stored-only-as-hash refresh token', async () => {
      const email = `login${++seq}@example.com`;
      const { user } = await call.register({ email, password: PASSWORD });
      const res = await call.login(
        email.toUpperCase(),
        PASSWORD,
        withToken(undefined, { 'x-forwarded-user-agent': 'jest-agent/1.0' }),
      );
      expect(res.expiresIn).toBe(900);
      expect(res.tokens).toMatchObject({
        accessToken: res.accessToken,
        refreshToken: res.refreshToken,
        expiresIn: 900,
        tokenType: 'Bearer',
      });
      expect(res.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(res.user).toMatchObject({ id: user!.id, email });
      expect(res.user!.lastLogin).toBeInstanceOf(Date);

      const decoded = jwt.decode(res.accessToken, { complete: true })!;
      const payload = decoded.payload as jwt.JwtPayload;
      const { keys } = await call.getJwks();
      expect(decoded.header).toMatchObject({ alg: 'ES256', kid: keys[0].kid });
      expect(payload).toMatchObject({
        sub: String(user!.id),
        role: 'user',
        iss: TOKEN_ISSUER,
        aud: TOKEN_AUDIENCE,
      });
      expect(payload.exp! - payload.iat!).toBe(900);

      const sessions = await sql(`select * from auth.user_sessions where user_id = $1`, [user!.id]);
      expect(sessions).toHaveLength(1);
      expect(String(sessions[0].id)).toBe(payload.sid);
      expect(sessions[0].token_hash).toBe(sha256(res.refreshToken));
      expect(sessions[0].ip_address).toBe('127.0.0.1');
      expect(sessions[0].user_agent).toBe('jest-agent/1.0');
      const ttl = (sessions[0].expires_at as Date).getTime() - Date.now();
      expect(ttl).toBeGreaterThan(604_800_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(604_800_000);
    });

    it('answers UNAUTHENTICATED for a wrong password or an unknown email', async () => {
      const { email } = await newUser();
      expect(await statusOf(call.login(email, 'wrong password!!'))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.login('nobody@example.com', PASSWORD))).toBe(status.UNAUTHENTICATED);
    });

    it('locks an account for 15 minutes after 5 failures, in PostgreSQL, even for the right password', async () => {
      const { email } = await newUser('locked');
      for (let i = 0; i < 5; i++)
        expect(await statusOf(call.login(email, `wrong password ${i}`))).toBe(status.UNAUTHENTICATED);
      const sixth = await failure(call.login(email, PASSWORD));
      expect(sixth.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(Number(sixth.metadata.get('error-retry-after-s')[0])).toBeGreaterThan(14 * 60);
      const [row] = await sql<{ locked_for: number }>(
        `select extract(epoch from locked_until - now())::int as locked_for from auth.login_throttles where email = $1`,
        [email],
      );
      expect(row.locked_for).toBeGreaterThan(14 * 60);
      expect(row.locked_for).toBeLessThanOrEqual(15 * 60);
      // Another account is unaffected.
      const other = await newUser();
      expect(await call.login(other.email, PASSWORD)).toHaveProperty('accessToken');
    });
  });

  describe('tokens', () => {
    it('rotates the refresh token and revokes the session when a rotated token is reused', async () => {
      const u = await newUser();
      const first = await call.refresh(u.refreshToken);
      expect(first.tokens!.refreshToken).not.toBe(u.refreshToken);
      expect(first.user!.id).toBe(u.id);
      const [session] = await sql(`select id, token_hash from auth.user_sessions where user_id = $1`, [u.id]);
      expect(session.token_hash).toBe(sha256(first.tokens!.refreshToken));
      expect(
        await sql(`select session_id from auth.rotated_refresh_tokens where token_hash = $1`, [
          sha256(u.refreshToken),
        ]),
      ).toEqual([{ session_id: session.id }]);
      expect((await call.getMe(first.tokens!.accessToken)).user!.id).toBe(u.id);

      const reuse = await failure(call.refresh(u.refreshToken));
      expect(reuse.code).toBe(status.UNAUTHENTICATED);
      expect(reuse.metadata.get('error-reason')).toEqual(['REFRESH_TOKEN_REUSED']);
      expect(await statusOf(call.refresh(first.tokens!.refreshToken))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.getMe(first.tokens!.accessToken))).toBe(status.UNAUTHENTICATED);
      expect(await sql(`select id from auth.user_sessions where user_id = $1`, [u.id])).toEqual([]);
    });

    it('rejects expired, tampered and garbage tokens with UNAUTHENTICATED', async () => {
      const u = await newUser();
      const key = createPrivateKey(readFileSync(env.AUTH_SIGNING_KEY_FILE));
      const { sid, sub } = jwt.decode(u.token) as jwt.JwtPayload;
      const { kid } = jwt.decode(u.token, { complete: true })!.header;
      const expired = jwt.sign({ role: 'user', sid, exp: Math.floor(Date.now() / 1000) - 60 }, key, {
        algorithm: 'ES256',
        keyid: kid,
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        subject: sub,
      });
      const expiredError = await failure(call.getMe(expired));
      expect(expiredError.code).toBe(status.UNAUTHENTICATED);
      expect(expiredError.metadata.get('error-reason')).toEqual(['TOKEN_EXPIRED']);

      const [h, p, s] = u.token.split('.');
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      const tampered = [
        h,
        Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url'),
        s,
      ].join('.');
      expect(await statusOf(call.getMe(tampered))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.listUsers(tampered, {}))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.getMe('not.a.jwt'))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.getMe(''))).toBe(status.UNAUTHENTICATED);
      expect((await call.getMe(u.token)).user!.id).toBe(u.id);

      await sql(`update auth.user_sessions set expires_at = now() - interval '1 second' where user_id = $1`, [
        u.id,
      ]);
      const refreshError = await failure(call.refresh(u.refreshToken));
      expect(refreshError.code).toBe(status.UNAUTHENTICATED);
      expect(refreshError.metadata.get('error-reason')).toEqual(['REFRESH_TOKEN_EXPIRED']);
      expect(await statusOf(call.refresh('x'.repeat(43)))).toBe(status.UNAUTHENTICATED);
    });

    it('verifies its tokens in another service via JWKS and rejects another key', async () => {
      const u = await newUser();
      const verifier = new JwksTokenVerifier(async () => (await call.getJwks()).keys);
      const claims = await verifier.verify(u.token);
      expect(claims).toMatchObject({ userId: u.id, role: 'user', token: u.token });
      expect(claims.sessionId).toMatch(/^\d+$/);

      const { keys } = await call.getJwks();
      expect(keys).toEqual([
        {
          kty: 'EC',
          crv: 'P-256',
          x: expect.any(String),
          y: expect.any(String),
          kid: keys[0].kid,
          alg: 'ES256',
          use: 'sig',
        },
      ]);
      const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const options = {
        algorithm: 'ES256' as const,
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        subject: String(u.id),
        expiresIn: 60,
      };
      const sameKid = jwt.sign({ role: 'admin', sid: claims.sessionId }, foreign, {
        ...options,
        keyid: keys[0].kid,
      });
      const otherKid = jwt.sign({ role: 'admin', sid: claims.sessionId }, foreign, {
        ...options,
        keyid: 'someone-else',
      });
      await expect(verifier.verify(sameKid)).rejects.toMatchObject({ kind: 'unauthenticated' });
      await expect(verifier.verify(otherKid)).rejects.toMatchObject({ kind: 'unauthenticated' });
      expect(await statusOf(call.getMe(sameKid))).toBe(status.UNAUTHENTICATED);
    });
  });

  describe('self service', () => {
    it('Logout deletes the session; its access and refresh tokens stop working', async () => {
      const u = await newUser();
      const other = await call.login(u.email, PASSWORD);
      await call.logout(u.token);
      expect(await statusOf(call.getMe(u.token))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.refresh(u.refreshToken))).toBe(status.UNAUTHENTICATED);
      // Ending another of one's sessions by its refresh token.
      const third = await call.login(u.email, PASSWORD);
      await call.logout(third.accessToken, other.refreshToken);
      expect(await statusOf(call.getMe(other.accessToken))).toBe(status.UNAUTHENTICATED);
      expect(
        await sql(`select count(*)::int as n from auth.user_sessions where user_id = $1`, [u.id]),
      ).toEqual([{ n: 1 }]);
      // Someone else's refresh token is not yours to end.
      const stranger = await newUser();
      expect(await statusOf(call.logout(third.accessToken, stranger.refreshToken))).toBe(status.NOT_FOUND);
      expect(await statusOf(call.logout(''))).toBe(status.UNAUTHENTICATED);
    });

    it('GetMe and UpdateMe read and change the profile', async () => {
      const u = await newUser();
      const taken = await newUser();
      const before = (await call.getMe(u.token)).user!;
      const { user } = await call.updateMe(u.token, {
        username: `Renamed${seq}`,
        firstName: 'Grace',
        avatarUrl: 'https://img.example/a.png',
      });
      expect(user).toMatchObject({
        username: `Renamed${seq}`,
        firstName: 'Grace',
        lastName: '',
        avatarUrl: 'https://img.example/a.png',
      });
      expect(user!.updatedAt!.getTime()).toBeGreaterThan(before.updatedAt!.getTime());
      const [row] = await sql(`select username, first_name, avatar_url from auth.users where id = $1`, [
        u.id,
      ]);
      expect(row).toEqual({
        username: `Renamed${seq}`,
        first_name: 'Grace',
        avatar_url: 'https://img.example/a.png',
      });
      const cleared = await call.updateMe(u.token, { firstName: '' });
      expect(cleared.user!.firstName).toBe('');

      const takenName = (await call.getMe(taken.token)).user!.username.toUpperCase();
      expect(await statusOf(call.updateMe(u.token, { username: takenName }))).toBe(status.ALREADY_EXISTS);
      const bad = await failure(call.updateMe(u.token, { avatarUrl: 'javascript:alert(1)' }));
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      expect(bad.metadata.get('error-field')).toEqual(['avatar_url']);
      expect(await statusOf(call.getMe(''))).toBe(status.UNAUTHENTICATED);
    });

    it('ChangePassword checks the current password and ends the other sessions', async () => {
      const u = await newUser();
      const other = await call.login(u.email, PASSWORD);
      expect(await statusOf(call.changePassword(u.token, 'not my password', 'a brand new password'))).toBe(
        status.UNAUTHENTICATED,
      );
      const short = await failure(call.changePassword(u.token, PASSWORD, 'short'));
      expect(short.code).toBe(status.INVALID_ARGUMENT);
      expect(short.metadata.get('error-field')).toEqual(['new_password']);

      await call.changePassword(u.token, PASSWORD, 'a brand new password');
      expect((await call.getMe(u.token)).user!.id).toBe(u.id);
      expect(await statusOf(call.getMe(other.accessToken))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.login(u.email, PASSWORD))).toBe(status.UNAUTHENTICATED);
      expect(await call.login(u.email, 'a brand new password')).toHaveProperty('accessToken');
    });
  });

  describe('admin', () => {
    let admin: string;
    beforeAll(async () => {
      admin = (await call.login(ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
    });

    it('refuses admin RPCs to a user with PERMISSION_DENIED and to anonymous callers with UNAUTHENTICATED', async () => {
      const u = await newUser();
      expect(await statusOf(call.listUsers(u.token, {}))).toBe(status.PERMISSION_DENIED);
      expect(await statusOf(call.setUserRole(u.token, u.id, authV1.Role.ROLE_ADMIN))).toBe(
        status.PERMISSION_DENIED,
      );
      expect(await statusOf(call.setUserActive(u.token, u.id, false))).toBe(status.PERMISSION_DENIED);
      expect(await statusOf(call.deleteUser(u.token, u.id))).toBe(status.PERMISSION_DENIED);
      expect(await statusOf(call.listUsers('', {}))).toBe(status.UNAUTHENTICATED);
      expect(await sql(`select role from auth.users where id = $1`, [u.id])).toEqual([{ role: 'user' }]);
    });

    it('ListUsers pages newest first with cursor tokens and filters', async () => {
      for (let i = 0; i < 3; i++)
        await call.register({ email: `pager${i}@list.example`, password: PASSWORD, firstName: 'Pager' });
      const [{ n }] = await sql<{ n: number }>(`select count(*)::int as n from auth.users`);
      const seen: number[] = [];
      let token = '';
      for (let guard = 0; guard < 100; guard++) {
        const res = await call.listUsers(admin, { page: { pageSize: 4, pageToken: token } });
        expect(res.users.length).toBeLessThanOrEqual(4);
        expect(res.page!.totalSize).toBe(n);
        seen.push(...res.users.map((u) => u.id));
        token = res.page!.nextPageToken;
        if (!token) break;
      }
      expect(seen).toHaveLength(n);
      expect([...seen].sort((a, b) => b - a)).toEqual(seen);

      const byText = await call.listUsers(admin, { query: 'LIST.EXAMPLE' });
      expect(byText.users.map((u) => u.email)).toEqual([
        'pager2@list.example',
        'pager1@list.example',
        'pager0@list.example',
      ]);
      expect(byText.page).toEqual({ nextPageToken: '', totalSize: 3 });
      const admins = await call.listUsers(admin, { role: authV1.Role.ROLE_ADMIN });
      expect(admins.users.map((u) => u.email)).toEqual(['root.admin@example.com']);
      const wildcard = await call.listUsers(admin, { query: '%' });
      expect(wildcard.users).toEqual([]);
      const bad = await failure(call.listUsers(admin, { page: { pageSize: 1, pageToken: 'garbage' } }));
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      expect(bad.metadata.get('error-field')).toEqual(['page.page_token']);
    });

    it('SetUserRole changes the role; an admin cannot demote themself', async () => {
      const u = await newUser();
      const { user } = await call.setUserRole(admin, u.id, authV1.Role.ROLE_ADMIN);
      expect(user!.role).toBe(authV1.Role.ROLE_ADMIN);
      expect(await sql(`select role from auth.users where id = $1`, [u.id])).toEqual([{ role: 'admin' }]);
      // Auth reads the current role, so the promotion applies to the existing session.
      expect((await call.listUsers(u.token, { page: { pageSize: 1, pageToken: '' } })).users).toHaveLength(1);
      const adminId = Number((jwt.decode(admin) as jwt.JwtPayload).sub);
      expect(await statusOf(call.setUserRole(admin, adminId, authV1.Role.ROLE_USER))).toBe(
        status.FAILED_PRECONDITION,
      );
      expect(await statusOf(call.setUserRole(admin, u.id, authV1.Role.ROLE_UNSPECIFIED))).toBe(
        status.INVALID_ARGUMENT,
      );
      expect(await statusOf(call.setUserRole(admin, 999_999, authV1.Role.ROLE_USER))).toBe(status.NOT_FOUND);
    });

    it('SetUserActive(false) revokes every session and blocks login', async () => {
      const u = await newUser();
      const second = await call.login(u.email, PASSWORD);
      const { user } = await call.setUserActive(admin, u.id, false);
      expect(user!.isActive).toBe(false);
      expect(await sql(`select id from auth.user_sessions where user_id = $1`, [u.id])).toEqual([]);
      expect(await statusOf(call.refresh(u.refreshToken))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.refresh(second.refreshToken))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.getMe(u.token))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.login(u.email, PASSWORD))).toBe(status.UNAUTHENTICATED);
      await call.setUserActive(admin, u.id, true);
      expect(await call.login(u.email, PASSWORD)).toHaveProperty('accessToken');
    });

    it('DeleteUser removes the user and publishes users.deleted', async () => {
      const u = await newUser();
      const sub = nc.subscribe('users.deleted');
      const received = collect(sub);
      await call.deleteUser(admin, u.id);
      const msg = await waitFor(received, (m) => JSON.parse(Buffer.from(m).toString()).user_id === u.id);
      sub.unsubscribe();
      const payload = JSON.parse(Buffer.from(msg).toString());
      expect(Object.keys(payload).sort()).toEqual(['deleted_at', 'user_id']);
      expect(Math.abs(Date.parse(payload.deleted_at) - Date.now())).toBeLessThan(60_000);
      expect(await sql(`select id from auth.users where id = $1`, [u.id])).toEqual([]);
      expect(await sql(`select id from auth.user_sessions where user_id = $1`, [u.id])).toEqual([]);
      expect(await statusOf(call.getMe(u.token))).toBe(status.UNAUTHENTICATED);
      expect(await statusOf(call.deleteUser(admin, u.id))).toBe(status.NOT_FOUND);
    });
  });

  describe('audit', () => {
    it('stages exactly one AuditEvent per mutation, without password material', async () => {
      const sub = nc.subscribe('audit.auth.>');
      const received = collect(sub);
      const requestId = `req-${Date.now()}-${Math.random()}`;
      const email = `audited${++seq}@example.com`;
      const password = 'Sup3r-secret-passphrase';
      const { user } = await call.register(
        { email, password },
        withToken(undefined, { 'x-request-id': requestId }),
      );
      const raw = await waitFor(received, (m) => auditV1.AuditEvent.decode(m).requestId === requestId);
      await new Promise((r) => setTimeout(r, 700)); // any duplicate would arrive by now
      sub.unsubscribe();
      const mine = received.items
        .map((m) => auditV1.AuditEvent.decode(m))
        .filter((e) => e.requestId === requestId);
      expect(mine).toHaveLength(1);
      const event = auditV1.AuditEvent.decode(raw);
      expect(event).toMatchObject({
        service: 'auth',
        action: 'created',
        resourceType: 'user',
        resourceId: String(user!.id),
        userId: user!.id,
        ipAddress: '127.0.0.1',
      });
      expect(JSON.parse(event.newValues)).toMatchObject({ email, role: 'user', is_active: true });
      const text = Buffer.from(raw).toString('latin1');
      expect(text).not.toContain(password);
      expect(text).not.toContain('$argon2');
      expect(await sql(`select id from auth.outbox_messages where id = $1`, [event.eventId])).toEqual([]);
    });

    it('audits ChangePassword and Login once each, with secrets absent', async () => {
      const u = await newUser();
      const sub = nc.subscribe('audit.auth.>');
      const received = collect(sub);
      const requestId = `req-pw-${Date.now()}`;
      await call.changePassword(
        u.token,
        PASSWORD,
        'another long password',
        withToken(u.token, { 'x-request-id': requestId }),
      );
      const loginRequestId = `req-login-${Date.now()}`;
      const login = await call.login(
        u.email,
        'another long password',
        withToken(undefined, { 'x-request-id': loginRequestId }),
      );
      await waitFor(received, (m) => auditV1.AuditEvent.decode(m).requestId === loginRequestId);
      await new Promise((r) => setTimeout(r, 500));
      sub.unsubscribe();
      const events = received.items.map((m) => auditV1.AuditEvent.decode(m));
      const pw = events.filter((e) => e.requestId === requestId);
      expect(pw).toHaveLength(1);
      expect(pw[0]).toMatchObject({
        action: 'password_changed',
        resourceType: 'user',
        resourceId: String(u.id),
        userId: u.id,
      });
      expect(JSON.stringify(pw[0])).not.toMatch(/another long password|correct horse|\$argon2/);
      const logins = events.filter((e) => e.requestId === loginRequestId);
      expect(logins).toHaveLength(1);
      const sid = (jwt.decode(login.accessToken) as jwt.JwtPayload).sid;
      expect(logins[0]).toMatchObject({
        action: 'logged_in',
        resourceType: 'session',
        resourceId: sid,
        userId: u.id,
      });
      expect(JSON.stringify(logins[0])).not.toContain(login.refreshToken);
    });
  });
});

interface Collected {
  items: Uint8Array[];
  waiters: (() => void)[];
}

function collect(sub: Subscription): Collected {
  const c: Collected = { items: [], waiters: [] };
  void (async () => {
    for await (const m of sub) {
      c.items.push(m.data);
      for (const w of c.waiters.splice(0)) w();
    }
  })();
  return c;
}

async function waitFor(
  c: Collected,
  match: (m: Uint8Array) => boolean,
  timeoutMs = 10_000,
): Promise<Uint8Array> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = c.items.find(match);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error('timed out waiting for a NATS message');
    await new Promise<void>((resolve) => {
      c.waiters.push(resolve);
      setTimeout(resolve, 200);
    });
  }
}
