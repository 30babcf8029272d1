import { auditV1 } from '@charge/contracts';
import { connectNats, createSyslogSink, startDurableConsumer } from '@charge/events';
import {
  createOrm,
  jwksVerifierFromAuth,
  Rpc,
  type BuildContext,
  type BuiltService,
} from '@charge/service-kit';
import type { AuditConfig } from './config';
import { EventIngest } from './consumers/event-ingest';
import { auditHandlers } from './grpc/audit.handlers';
import { entities, migrations, SCHEMA } from './persistence/schema';

/** Composition root of the audit service. */
export async function build({
  config,
  logger,
  lifecycle,
  shipper,
  inflight,
}: BuildContext<AuditConfig>): Promise<BuiltService> {
  const orm = await createOrm({
    schema: SCHEMA,
    entities,
    migrations,
    databaseUrl: config.DATABASE_URL,
    poolMax: config.DB_POOL_MAX,
  });
  lifecycle.onStop('orm', () => orm.close());

  const nc = await connectNats(config.NATS_URL, 'audit');
  lifecycle.onStop('nats', () => nc.drain());
  shipper.attach(createSyslogSink(nc, 'audit'));
  lifecycle.onStop('syslog', () => shipper.detach());

  const ingest = new EventIngest(orm);
  const auditConsumer = await startDurableConsumer({
    nc,
    stream: 'AUDIT',
    durable: config.AUDIT_CONSUMER,
    handler: (msg) => ingest.onAudit(msg),
    logger,
  });
  lifecycle.onStop('audit-consumer', () => auditConsumer.stop());
  const syslogConsumer = await startDurableConsumer({
    nc,
    stream: 'SYSLOG',
    durable: config.SYSLOG_CONSUMER,
    handler: (msg) => ingest.onSystemLog(msg),
    logger,
  });
  lifecycle.onStop('syslog-consumer', () => syslogConsumer.stop());

  const verifier = jwksVerifierFromAuth(config.AUTH_GRPC_ADDR, lifecycle);
  const rpc = new Rpc({ logger, verifier, orm, inflight });
  return { services: [{ definition: auditV1.AuditServiceService, implementation: auditHandlers(rpc) }] };
}
