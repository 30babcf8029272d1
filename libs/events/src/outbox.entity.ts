import { EntitySchema } from '@mikro-orm/core';

/** A message waiting to be relayed to NATS, written in the same transaction as the change. */
export interface OutboxMessage {
  id: string;
  subject: string;
  payload: Buffer;
  createdAt: Date;
  attempts: number;
  lastError?: string | null;
  /** W3C trace context of the span that staged it (`traceparent`, `tracestate`); null outside a trace. */
  traceContext?: Record<string, string> | null;
}

/** The outbox table, in the owning service's schema (the ORM's default schema). */
export const OutboxMessageEntity = new EntitySchema<OutboxMessage>({
  name: 'OutboxMessage',
  tableName: 'outbox_messages',
  indexes: [{ name: 'outbox_messages_created_at_index', properties: ['createdAt'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    subject: { type: 'string', length: 200 },
    payload: { type: 'blob', columnType: 'bytea' },
    createdAt: { type: 'Date', columnType: 'timestamptz', defaultRaw: 'now()', fieldName: 'created_at' },
    attempts: { type: 'integer', default: 0 },
    lastError: { type: 'text', nullable: true, fieldName: 'last_error' },
    traceContext: { type: 'json', columnType: 'jsonb', nullable: true, fieldName: 'trace_context' },
  },
});

/**
 * DDL for a service's initial migration. Frozen: applied migrations must not change, so
 * later columns come as their own functions (below), each used by a new migration.
 */
export function outboxTableSql(schema: string): string[] {
  return [
    `create table "${schema}"."outbox_messages" ("id" uuid not null primary key, "subject" varchar(200) not null, "payload" bytea not null, "created_at" timestamptz not null default now(), "attempts" int not null default 0, "last_error" text null);`,
    `create index "outbox_messages_created_at_index" on "${schema}"."outbox_messages" ("created_at");`,
  ];
}

/** DDL of the migration that adds the staged message's trace context (ADR 0009). */
export function outboxTraceContextSql(schema: string): string[] {
  return [`alter table "${schema}"."outbox_messages" add column "trace_context" jsonb null;`];
}

/** The outbox table as it stands after every migration above (for tests and hand-built schemas). */
export function outboxSchemaSql(schema: string): string[] {
  return [...outboxTableSql(schema), ...outboxTraceContextSql(schema)];
}
