import { EntitySchema } from '@mikro-orm/core';

/** A message waiting to be relayed to NATS, written in the same transaction as the change. */
export interface OutboxMessage {
  id: string;
  subject: string;
  payload: Buffer;
  createdAt: Date;
  attempts: number;
  lastError?: string | null;
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
  },
});

/** DDL for a service's initial migration. */
export function outboxTableSql(schema: string): string[] {
  return [
    `create table "${schema}"."outbox_messages" ("id" uuid not null primary key, "subject" varchar(200) not null, "payload" bytea not null, "created_at" timestamptz not null default now(), "attempts" int not null default 0, "last_error" text null);`,
    `create index "outbox_messages_created_at_index" on "${schema}"."outbox_messages" ("created_at");`,
  ];
}
