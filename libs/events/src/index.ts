export { STREAMS, ensureStream, type StreamName } from './streams';
export { redactSecrets } from './redact';
export {
  OutboxMessageEntity,
  outboxTableSql,
  outboxTraceContextSql,
  outboxSchemaSql,
  type OutboxMessage,
} from './outbox.entity';
export {
  buildAuditEvent,
  auditSubject,
  enqueueAudit,
  enqueueMessage,
  type Actor,
  type AuditInput,
} from './audit-event';
export { OutboxRelay, type OutboxRelayOptions, type OutboxBacklog } from './outbox-relay';
export {
  EventMetrics,
  bindEventMetrics,
  eventMetricsOf,
  JOB_BUCKETS_S,
  type EventMetricsOptions,
  type JobOutcome,
  type OutboxBacklogSource,
} from './event-metrics';
export {
  producerTraceContext,
  traceHeaders,
  extractTraceContext,
  startConsumerSpan,
  jetStreamSpanOptions,
  failSpan,
  type ConsumerSpanOptions,
  type TraceCarrier,
} from './trace-context';
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
  usersDeletedDurable,
  type UsersDeletedOptions,
} from './users-deleted';
