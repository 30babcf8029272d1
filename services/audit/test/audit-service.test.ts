import { status } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { auditV1 } from '@charge/contracts';
import {
  connectNats,
  createSyslogSink,
  enqueueAudit,
  OutboxMessageEntity,
  OutboxRelay,
  outboxSchemaSql,
} from '@charge/events';
import { createOrm, type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  statusOf,
  startTestService,
  TestNatsServer,
  TestTokenIssuer,
  unary,
  withClient,
  withToken,
  type TestDatabase,
  eventually,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig, type AuditConfig } from '../src/config';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';

const silent = { warn: () => undefined, debug: () => undefined };

describe('audit service', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let issuer: TestTokenIssuer;
  let audit: RunningService<AuditConfig>;
  let producerOrm: MikroORM;
  let producerNc: NatsConnection;
  let relay: OutboxRelay;
  let client: auditV1.AuditServiceClient;
  let adminToken: string;

  const listAudit = (req: Partial<auditV1.ListAuditLogsRequest>, md = withToken(adminToken)) =>
    unary<auditV1.ListAuditLogsRequest, auditV1.ListAuditLogsResponse>(
      client.listAuditLogs.bind(client),
      auditV1.ListAuditLogsRequest.fromPartial(req),
      md,
    );
  const listSystem = (req: Partial<auditV1.ListSystemLogsRequest>, md = withToken(adminToken)) =>
    unary<auditV1.ListSystemLogsRequest, auditV1.ListSystemLogsResponse>(
      client.listSystemLogs.bind(client),
      auditV1.ListSystemLogsRequest.fromPartial(req),
      md,
    );
  const rows = (sql: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(sql, params).then((r) => r.rows));

  /** A producer change: one audit event staged in the same transaction, as a service does. */
  const produce = (i: number) =>
    producerOrm.em.fork().transactional(async (em) => {
      enqueueAudit(em, {
        service: 'auth',
        action: 'updated',
        resourceType: 'user',
        resourceId: i,
        oldValues: { email: `old${i}@example.com` },
        newValues: { email: `new${i}@example.com`, password: 'hunter2hunter2', password_hash: '$argon2id$x' },
        actor: { userId: 7, ipAddress: '10.0.0.1', userAgent: 'jest', requestId: `req-${i}` },
      });
    });

  beforeAll(async () => {
    db = await createTestDatabase('audit');
    nats = await TestNatsServer.start();
    issuer = await TestTokenIssuer.start();
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    // A stand-in producer owning an outbox in the "auth" schema of this test database.
    producerOrm = await createOrm({
      schema: 'auth',
      entities: [OutboxMessageEntity],
      migrations: [],
      databaseUrl: db.url,
    });
    await rows('create schema auth');
    for (const sql of outboxSchemaSql('auth')) await rows(sql);
    audit = await startTestService(
      { name: 'audit', loadConfig, build },
      {
        env: { DATABASE_URL: db.url, NATS_URL: nats.url, AUTH_GRPC_ADDR: issuer.address },
      },
    );
    producerNc = await connectNats(nats.url, 'audit-test-producer');
    relay = new OutboxRelay({
      orm: producerOrm,
      nc: producerNc,
      schema: 'auth',
      logger: silent,
      intervalMs: 100,
      publishTimeoutMs: 1000,
    });
    relay.start();
    client = clientFor(auditV1.AuditServiceClient, audit);
    adminToken = issuer.issue({ userId: 1, role: 'admin' });
  });

  afterAll(async () => {
    client?.close();
    await relay?.stop();
    await producerNc?.close();
    await producerOrm?.close();
    await audit?.stop();
    await issuer?.stop();
    await nats?.dispose();
    await db?.drop();
  });

  test('one change → exactly one audit_logs row, secrets redacted, readable by admins only', async () => {
    await produce(1);
    const stored = await eventually(
      () => rows(`select * from audit.audit_logs where resource_id = '1'`),
      (r) => r.length > 0,
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      service: 'auth',
      action: 'updated',
      resource_type: 'user',
      user_id: 7,
      ip_address: '10.0.0.1',
      request_id: 'req-1',
    });
    expect(stored[0].new_values).toEqual({
      email: 'new1@example.com',
      password: '[REDACTED]',
      password_hash: '[REDACTED]',
    });
    expect(await rows(`select * from auth.outbox_messages`)).toHaveLength(0);

    const res = await listAudit({ resourceId: '1', resourceType: 'user' });
    expect(res.logs).toHaveLength(1);
    expect(JSON.parse(res.logs[0].newValues).password).toBe('[REDACTED]');

    const userToken = issuer.issue({ userId: 2, role: 'user' });
    expect(await statusOf(listAudit({}, withToken(userToken)))).toBe(status.PERMISSION_DENIED);
    expect(await statusOf(listAudit({}, withToken(undefined)))).toBe(status.UNAUTHENTICATED);
    // A user's token with its payload swapped for an admin payload: the signature no longer matches.
    const [header, , signature] = userToken.split('.');
    const adminPayload = issuer.issue({ userId: 1, role: 'admin' }).split('.')[1];
    const forged = `${header}.${adminPayload}.${signature}`;
    expect(await statusOf(listAudit({}, withToken(forged)))).toBe(status.UNAUTHENTICATED);
  });

  test('events staged while NATS is down all arrive after it restarts, none lost, none duplicated', async () => {
    await nats.stop();
    let pendingWhileDown: number;
    try {
      for (let i = 100; i < 120; i++) await produce(i);
      await new Promise((r) => setTimeout(r, 1500));
      pendingWhileDown = Number((await rows(`select count(*) from auth.outbox_messages`))[0].count);
    } finally {
      await nats.restart();
    }
    expect(pendingWhileDown).toBe(20);
    const stored = await eventually(
      () => rows(`select resource_id from audit.audit_logs where resource_id::int between 100 and 119`),
      (r) => r.length >= 20,
      30_000,
    );
    expect(stored.map((r) => Number(r.resource_id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );
    // A redelivered copy of a stored event (same event id, new message id) is not stored twice.
    const [one] = await rows(`select event_id from audit.audit_logs where resource_id = '100'`);
    const dup = auditV1.AuditEvent.encode({
      ...auditV1.AuditEvent.fromPartial({
        eventId: one.event_id,
        service: 'auth',
        action: 'updated',
        resourceType: 'user',
        resourceId: '100',
      }),
    }).finish();
    await jetstream(producerNc).publish('audit.auth.user.updated', dup, { msgID: 'dup-of-100' });
    await produce(121);
    await eventually(
      () => rows(`select 1 from audit.audit_logs where resource_id = '121'`),
      (r) => r.length === 1,
    );
    expect(await rows(`select resource_id from audit.audit_logs where resource_id = '100'`)).toHaveLength(1);
  }, 60_000);

  test('a malformed event is recorded in system_logs and does not stop the consumer', async () => {
    const js = jetstream(producerNc);
    await js.publish('audit.rogue.thing.done', new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0x08]));
    await js.publish(
      'audit.rogue.thing.done',
      auditV1.AuditEvent.encode({
        ...auditV1.AuditEvent.fromPartial({ eventId: 'not-a-uuid', action: 'x' }),
      }).finish(),
    );
    await produce(200);
    const recorded = await eventually(
      () =>
        rows(
          `select message, meta_info from audit.system_logs where message like 'malformed AUDIT%' order by id`,
        ),
      (r) => r.length >= 2,
    );
    expect(recorded).toHaveLength(2);
    expect(recorded[0].message).toContain('undecodable protobuf');
    expect(recorded[1].message).toContain('event_id is not a UUID');
    expect(recorded[0].meta_info.subject).toBe('audit.rogue.thing.done');
    expect(
      await eventually(
        () => rows(`select 1 from audit.audit_logs where resource_id = '200'`),
        (r) => r.length === 1,
      ),
    ).toHaveLength(1);
  });

  test('warn/error records shipped on SYSLOG become system_logs rows, filterable by level', async () => {
    const sink = createSyslogSink(producerNc, 'analysis');
    sink({
      level: 'error',
      time: Date.now(),
      msg: 'worker crashed',
      fields: { request_id: 'r-9', user_id: 3, rpc: '/x/Y' },
    });
    sink({ level: 'warn', time: Date.now(), msg: 'slow query', fields: {} });
    await eventually(
      () => rows(`select 1 from audit.system_logs where module = 'analysis'`),
      (r) => r.length === 2,
    );
    const res = await listSystem({ level: 'error', module: 'analysis' });
    expect(res.logs).toHaveLength(1);
    expect(res.logs[0]).toMatchObject({
      level: 'error',
      message: 'worker crashed',
      requestId: 'r-9',
      userId: 3,
      functionName: '/x/Y',
    });
  });

  test('cursor pagination is newest first without overlap; bad tokens and ranges are INVALID_ARGUMENT', async () => {
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const res = await listAudit({
        page: { pageSize: 7, pageToken: token },
        userId: 7,
        resourceType: 'user',
        service: 'auth',
      });
      const times = res.logs.map((l) => l.timestamp!.getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      seen.push(...res.logs.map((l) => l.eventId));
      token = res.page!.nextPageToken;
      pages++;
    } while (token && pages < 20);
    const total = Number((await rows(`select count(*) from audit.audit_logs where user_id = 7`))[0].count);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(pages).toBe(Math.ceil(total / 7));

    expect(await statusOf(listAudit({ page: { pageSize: 5, pageToken: 'garbage!' } }))).toBe(
      status.INVALID_ARGUMENT,
    );
    const now = new Date();
    expect(
      await statusOf(listAudit({ timeRange: { startTime: now, endTime: new Date(now.getTime() - 1000) } })),
    ).toBe(status.INVALID_ARGUMENT);
  });
});
