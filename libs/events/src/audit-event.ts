import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { auditV1 } from '@charge/contracts';
import { OutboxMessageEntity } from './outbox.entity';
import { redactSecrets } from './redact';
import { producerTraceContext } from './trace-context';

/** Who made a change, as the RPC saw it. */
export interface Actor {
  userId?: number;
  ipAddress?: string;
  userAgent?: string;
  requestId?: string;
}

export interface AuditInput {
  service: string;
  /** Past-tense verb: created, updated, deleted, logged_in, … */
  action: string;
  resourceType: string;
  resourceId?: string | number;
  oldValues?: Record<string, unknown> | null;
  newValues?: Record<string, unknown> | null;
  actor: Actor;
}

/** Builds an AuditEvent with secrets redacted from old and new values. */
export function buildAuditEvent(input: AuditInput): auditV1.AuditEvent {
  return {
    eventId: randomUUID(),
    service: input.service,
    action: input.action,
    resourceType: input.resourceType,
    resourceId: input.resourceId === undefined ? '' : String(input.resourceId),
    oldValues: input.oldValues ? JSON.stringify(redactSecrets(input.oldValues)) : '',
    newValues: input.newValues ? JSON.stringify(redactSecrets(input.newValues)) : '',
    userId: input.actor.userId ?? 0,
    ipAddress: input.actor.ipAddress ?? '',
    userAgent: input.actor.userAgent ?? '',
    requestId: input.actor.requestId ?? '',
    timestamp: new Date(),
  };
}

/** Subject of an audit event: `audit.<service>.<resource>.<action>`. */
export function auditSubject(event: auditV1.AuditEvent): string {
  const token = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
  return `audit.${token(event.service)}.${token(event.resourceType)}.${token(event.action)}`;
}

/**
 * Stages an audit event in the outbox. Call inside the transaction that makes the change
 * (`em.transactional(...)`), so the event exists exactly when the change does.
 */
export function enqueueAudit(em: EntityManager, input: AuditInput): auditV1.AuditEvent {
  const event = buildAuditEvent(input);
  enqueueMessage(
    em,
    auditSubject(event),
    Buffer.from(auditV1.AuditEvent.encode(event).finish()),
    event.eventId,
  );
  return event;
}

/**
 * Stages any message in the outbox (subject, bytes, id used as `Nats-Msg-Id`). A PRODUCER
 * span (child of the active span) is recorded and its trace context stored with the row;
 * the relay publishes it as message headers, and consumers continue the trace.
 */
export function enqueueMessage(
  em: EntityManager,
  subject: string,
  payload: Buffer,
  id: string = randomUUID(),
): void {
  const traceContext = producerTraceContext(subject, id);
  em.persist(
    em.create(OutboxMessageEntity, {
      id,
      subject,
      payload,
      createdAt: new Date(),
      attempts: 0,
      traceContext,
    }),
  );
}
