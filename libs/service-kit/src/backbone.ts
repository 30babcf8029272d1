import type { EntitySchema, MigrationObject } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import {
  bindEventMetrics,
  connectNats,
  createSyslogSink,
  ensureStream,
  EventMetrics,
  OutboxRelay,
  STREAMS,
  type StreamName,
} from '@charge/events';
import type { BaseConfig } from './config';
import { createOrm, type ServiceSchema } from './orm';
import type { BuildContext } from './run-service';

/** Config keys the backbone reads (databaseConfigSchema + natsConfigSchema). */
export interface BackboneConfig extends BaseConfig {
  DATABASE_URL: string;
  DB_POOL_MAX: number;
  NATS_URL: string;
}

/** What a service's `persistence/schema.ts` exports. */
export interface PersistenceModule {
  SCHEMA: ServiceSchema;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MikroORM's own entity list type
  entities: EntitySchema<any, any>[];
  migrations: MigrationObject[];
}

export interface BackboneOptions {
  /** JetStream streams this service publishes to or consumes (AUDIT, SYSLOG and USERS are always ensured). */
  streams?: StreamName[];
  /** Relay this service's outbox (every service that audits its changes). Default true. */
  outbox?: boolean;
}

export interface Backbone {
  orm: MikroORM;
  nc: NatsConnection;
  /** Present when `outbox` is on; call `relay.kick()` after committing staged events. */
  relay?: OutboxRelay;
  /** Messaging metrics on the service's /metrics (every durable consumer on `nc` records here). */
  events: EventMetrics;
}

/**
 * What every stateful service needs, wired once: its ORM (confined to its schema), a NATS
 * connection, the platform streams, warn/error logs shipped to SYSLOG, and its outbox
 * relay. Stop hooks are registered so shutdown runs relay → log shipping → NATS drain →
 * ORM close, after the service's own later hooks (consumers) have stopped.
 *
 * Messaging metrics come with it on the service's registry (`ctx.metrics`): handling time
 * and queue depth of every durable consumer started on `nc`, the depth of every consumer of
 * the work-queue streams in `streams` (wherever those consumers run), and the outbox backlog.
 */
export function startBackbone<C extends BackboneConfig>(
  ctx: BuildContext<C>,
  persistence: PersistenceModule,
  options?: BackboneOptions & { outbox?: true },
): Promise<Backbone & { relay: OutboxRelay }>;
export function startBackbone<C extends BackboneConfig>(
  ctx: BuildContext<C>,
  persistence: PersistenceModule,
  options: BackboneOptions & { outbox: false },
): Promise<Backbone>;
export async function startBackbone<C extends BackboneConfig>(
  { name, config, logger, lifecycle, shipper, metrics }: BuildContext<C>,
  persistence: PersistenceModule,
  options: BackboneOptions = {},
): Promise<Backbone> {
  const orm = await createOrm({
    schema: persistence.SCHEMA,
    entities: persistence.entities,
    migrations: persistence.migrations,
    databaseUrl: config.DATABASE_URL,
    poolMax: config.DB_POOL_MAX,
  });
  lifecycle.onStop('orm', () => orm.close());

  const nc = await connectNats(config.NATS_URL, name);
  lifecycle.onStop('nats', () => nc.drain());
  const jsm = await jetstreamManager(nc);
  for (const stream of new Set<StreamName>(['AUDIT', 'SYSLOG', 'USERS', ...(options.streams ?? [])])) {
    await ensureStream(jsm, stream);
  }
  shipper.attach(createSyslogSink(nc, name));
  lifecycle.onStop('syslog', () => shipper.detach());

  const events = new EventMetrics(nc);
  bindEventMetrics(nc, events);
  for (const stream of options.streams ?? [])
    if (STREAMS[stream].retention === RetentionPolicy.Workqueue) events.watchStream(STREAMS[stream].name);
  metrics.addCollector(events);

  if (options.outbox === false) return { orm, nc, events };
  const relay = new OutboxRelay({ orm, nc, schema: persistence.SCHEMA, logger });
  events.watchOutbox(persistence.SCHEMA, relay);
  relay.start();
  lifecycle.onStop('outbox-relay', () => relay.stop());
  return { orm, nc, relay, events };
}
