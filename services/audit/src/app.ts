import { auditV1 } from '@charge/contracts';
import { startDurableConsumer } from '@charge/events';
import {
  jwksVerifierFromAuth,
  Rpc,
  startBackbone,
  type BuildContext,
  type BuiltService,
} from '@charge/service-kit';
import type { AuditConfig } from './config';
import { EventIngest } from './consumers/event-ingest';
import { auditHandlers } from './grpc/audit.handlers';
import * as persistence from './persistence/schema';

/** Composition root of the audit service. */
export async function build(ctx: BuildContext<AuditConfig>): Promise<BuiltService> {
  const { config, logger, lifecycle, inflight, metrics } = ctx;
  // Read-only over gRPC: nothing of its own to audit, so no outbox relay.
  const { orm, nc } = await startBackbone(ctx, persistence, { outbox: false });

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
  const rpc = new Rpc({ logger, verifier, orm, inflight, metrics });
  return { services: [{ definition: auditV1.AuditServiceService, implementation: auditHandlers(rpc) }] };
}
