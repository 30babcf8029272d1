import type { auditV1 } from '@charge/contracts';
import type { AuditLogRow } from '../persistence/audit-log.entity';
import type { SystemLogRow } from '../persistence/system-log.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why an event cannot be stored; undefined when it can. */
export function auditEventProblem(event: auditV1.AuditEvent): string | undefined {
  if (!UUID.test(event.eventId)) return 'event_id is not a UUID';
  if (!event.action) return 'action is empty';
  if (!event.resourceType) return 'resource_type is empty';
  if (!event.service) return 'service is empty';
  return undefined;
}

function jsonValue(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

const clip = (s: string, n: number) => (s ? s.slice(0, n) : null);

export function auditRow(event: auditV1.AuditEvent): Omit<AuditLogRow, 'id'> {
  return {
    eventId: event.eventId,
    service: event.service.slice(0, 50),
    action: event.action.slice(0, 50),
    resourceType: event.resourceType.slice(0, 50),
    resourceId: clip(event.resourceId, 100),
    oldValues: jsonValue(event.oldValues),
    newValues: jsonValue(event.newValues),
    userId: event.userId || null,
    ipAddress: clip(event.ipAddress, 45),
    userAgent: event.userAgent || null,
    requestId: clip(event.requestId, 100),
    timestamp: event.timestamp && !Number.isNaN(event.timestamp.getTime()) ? event.timestamp : new Date(),
  };
}

export function systemLogRow(event: auditV1.SystemLogEvent): Omit<SystemLogRow, 'id'> {
  return {
    eventId: UUID.test(event.eventId) ? event.eventId : null,
    level: (event.level || 'error').slice(0, 20),
    module: (event.module || 'unknown').slice(0, 50),
    message: event.message,
    loggerName: clip(event.loggerName, 100),
    functionName: clip(event.functionName, 100),
    lineNumber: event.lineNumber || null,
    filePath: clip(event.filePath, 255),
    userId: event.userId || null,
    requestId: clip(event.requestId, 100),
    sessionId: clip(event.sessionId, 100),
    metaInfo: jsonValue(event.metaInfo),
    ipAddress: clip(event.ipAddress, 45),
    userAgent: event.userAgent || null,
    timestamp: event.timestamp && !Number.isNaN(event.timestamp.getTime()) ? event.timestamp : new Date(),
  };
}

/** A system-log row recording a message the consumer could not understand. */
export function malformedEventRow(
  stream: string,
  subject: string,
  seq: number,
  problem: string,
  payload: Uint8Array,
): Omit<SystemLogRow, 'id'> {
  return {
    eventId: null,
    level: 'error',
    module: 'audit',
    message: `malformed ${stream} message on ${subject}: ${problem}`,
    loggerName: 'audit.consumer',
    functionName: null,
    lineNumber: null,
    filePath: null,
    userId: null,
    requestId: null,
    sessionId: null,
    metaInfo: {
      stream,
      subject,
      seq,
      payload_base64: Buffer.from(payload.subarray(0, 4096)).toString('base64'),
      bytes: payload.length,
    },
    ipAddress: null,
    userAgent: null,
    timestamp: new Date(),
  };
}
