import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream } from '@nats-io/jetstream';
import { auditV1 } from '@charge/contracts';

/** A warn/error record to ship (shape of service-kit's ShippedRecord). */
export interface LogRecordLike {
  level: 'warn' | 'error' | 'fatal';
  time: number;
  msg: string;
  fields: Record<string, unknown>;
}

const pick = (fields: Record<string, unknown>, key: string): string =>
  typeof fields[key] === 'string' ? (fields[key] as string) : '';

/**
 * Returns a sink that publishes warn/error records on `syslog.<service>.<level>`.
 * Best effort: a record that cannot be published is counted and dropped (the record is
 * still in the service's own log output), so logging never blocks a request.
 */
export function createSyslogSink(
  nc: NatsConnection,
  service: string,
  onDrop?: (error: unknown) => void,
): (r: LogRecordLike) => void {
  const js = jetstream(nc, { timeout: 2000 });
  return (record) => {
    const { fields } = record;
    const event: auditV1.SystemLogEvent = {
      eventId: randomUUID(),
      level: record.level,
      module: pick(fields, 'module') || service,
      message: record.msg.slice(0, 10_000),
      loggerName: service,
      functionName: pick(fields, 'rpc'),
      lineNumber: 0,
      filePath: '',
      userId: typeof fields.user_id === 'number' ? fields.user_id : 0,
      requestId: pick(fields, 'request_id'),
      sessionId: '',
      metaInfo: JSON.stringify(fields).slice(0, 50_000),
      ipAddress: '',
      userAgent: '',
      timestamp: new Date(record.time),
    };
    js.publish(`syslog.${service}.${record.level}`, auditV1.SystemLogEvent.encode(event).finish(), {
      msgID: event.eventId,
    }).catch((error) => onDrop?.(error));
  };
}
