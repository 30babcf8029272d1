export { STREAMS, ensureStream, type StreamName } from './streams';
export { redactSecrets } from './redact';
export { OutboxMessageEntity, outboxTableSql, type OutboxMessage } from './outbox.entity';
export {
  buildAuditEvent,
  auditSubject,
  enqueueAudit,
  enqueueMessage,
  type Actor,
  type AuditInput,
} from './audit-event';
export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay';
export {
  startDurableConsumer,
  PoisonMessageError,
  type DurableConsumerOptions,
  type RunningConsumer,
} from './consumer';
export { createSyslogSink, type LogRecordLike } from './syslog-sink';
export { connectNats, natsConfigSchema } from './nats';
export {
  onUsersDeleted,
  parseUsersDeleted,
  USERS_DELETED_SUBJECT,
  type UsersDeletedOptions,
} from './users-deleted';
