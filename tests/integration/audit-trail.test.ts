/**
 * The audit trail end to end: a real auth service and a real audit service sharing one
 * database (one schema each) and a test-owned NATS JetStream.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { authV1, auditV1 } from '@charge/contracts';
import { createOrm, migrateOrm, type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  startTestService,
  TestNatsServer,
  unary,
  withClient,
  withToken,
  type TestDatabase,
  eventually,
  migrateSchemas,
} from '@charge/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as authApp from '../../services/auth/src/app';
import * as authConfig from '../../services/auth/src/config';
import * as authSchema from '../../services/auth/src/persistence/schema';
import * as auditApp from '../../services/audit/src/app';
import * as auditConfig from '../../services/audit/src/config';
import * as auditSchema from '../../services/audit/src/persistence/schema';

describe('platform: auth + audit', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let auth: RunningService;
  let audit: RunningService;
  let keyDir: string;
  const rows = (sql: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(sql, params).then((r) => r.rows));

  beforeAll(async () => {
    db = await createTestDatabase('platform');
    nats = await TestNatsServer.start();
    keyDir = mkdtempSync(path.join(tmpdir(), 'ct-key-'));
    await migrateSchemas(db.url, auditSchema, authSchema);
    auth = await startTestService(
      { name: 'auth', loadConfig: authConfig.loadConfig, build: authApp.build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_SIGNING_KEY_FILE: path.join(keyDir, 'signing.pem'),
          AUTH_DEV_GENERATE_KEY: '1',
          ADMIN_EMAIL: 'root@example.com',
          ADMIN_PASSWORD: 'root-password-123',
        },
      },
    );
    audit = await startTestService(
      { name: 'audit', loadConfig: auditConfig.loadConfig, build: auditApp.build },
      {
        env: { DATABASE_URL: db.url, NATS_URL: nats.url, AUTH_GRPC_ADDR: auth.address },
      },
    );
  });

  afterAll(async () => {
    await audit?.stop();
    await auth?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  test('one auth mutation → exactly one audit_logs row with no secrets; admins read it through audit with an auth token', async () => {
    const authClient = clientFor(authV1.AuthServiceClient, auth);
    const registered = await unary<authV1.RegisterRequest, authV1.RegisterResponse>(
      authClient.register.bind(authClient),
      authV1.RegisterRequest.fromPartial({
        email: 'Trail@Example.com',
        password: 'correct horse battery',
        username: 'trail',
      }),
      withToken(undefined, { 'x-request-id': 'req-trail-1', 'user-agent-extra': 'jest' }),
    );
    const userId = registered.user!.id;
    const stored = await eventually(
      () =>
        rows(`select * from audit.audit_logs where resource_type = 'user' and resource_id = $1`, [
          String(userId),
        ]),
      (r) => r.length > 0,
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ service: 'auth', action: 'created', request_id: 'req-trail-1' });
    const text = JSON.stringify(stored[0]);
    expect(text).not.toContain('correct horse battery');
    expect(text).not.toMatch(/\$argon2/);
    expect(stored[0].new_values.email).toBe('trail@example.com');

    const login = await unary<authV1.LoginRequest, authV1.LoginResponse>(authClient.login.bind(authClient), {
      email: 'root@example.com',
      password: 'root-password-123',
    });
    const auditClient = clientFor(auditV1.AuditServiceClient, audit);
    const listed = await unary<auditV1.ListAuditLogsRequest, auditV1.ListAuditLogsResponse>(
      auditClient.listAuditLogs.bind(auditClient),
      auditV1.ListAuditLogsRequest.fromPartial({ resourceType: 'user', resourceId: String(userId) }),
      withToken(login.accessToken),
    );
    expect(listed.logs.map((l) => l.action)).toEqual(['created']);
    authClient.close();
    auditClient.close();
  });

  test('migration isolation: re-migrating and diffing one service leaves the other service’s tables and rows intact', async () => {
    const before = await rows(`select count(*)::int as n from audit.audit_logs`);
    expect(before[0].n).toBeGreaterThan(0);
    for (const mod of [authSchema, auditSchema]) {
      const orm: MikroORM = await createOrm({
        schema: mod.SCHEMA,
        entities: mod.entities,
        migrations: mod.migrations,
        databaseUrl: db.url,
      });
      try {
        expect(await migrateOrm(orm, mod.SCHEMA)).toEqual([]);
        const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
        const other = mod.SCHEMA === 'auth' ? 'audit' : 'auth';
        expect(diff).not.toMatch(new RegExp(`drop table[^;]*"${other}"`, 'i'));
        expect(diff).not.toMatch(new RegExp(`"${other}"\\.`, 'i'));
      } finally {
        await orm.close();
      }
    }
    expect((await rows(`select count(*)::int as n from audit.audit_logs`))[0].n).toBe(before[0].n);
    expect((await rows(`select count(*)::int as n from auth.users`))[0].n).toBe(2);
  });
});
