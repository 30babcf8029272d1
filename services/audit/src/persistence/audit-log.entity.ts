import { EntitySchema } from '@mikro-orm/core';

export interface AuditLogRow {
  id: number;
  eventId: string;
  service: string;
  action: string;
  resourceType: string;
  resourceId?: string | null;
  oldValues?: unknown;
  newValues?: unknown;
  userId?: number | null;
  ipAddress?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  timestamp: Date;
}

export const AuditLogEntity = new EntitySchema<AuditLogRow>({
  name: 'AuditLog',
  tableName: 'audit_logs',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    eventId: { type: 'uuid', fieldName: 'event_id', unique: true },
    service: { type: 'string', length: 50 },
    action: { type: 'string', length: 50 },
    resourceType: { type: 'string', length: 50, fieldName: 'resource_type' },
    resourceId: { type: 'string', length: 100, nullable: true, fieldName: 'resource_id' },
    oldValues: { type: 'json', nullable: true, fieldName: 'old_values' },
    newValues: { type: 'json', nullable: true, fieldName: 'new_values' },
    userId: { type: 'integer', nullable: true, fieldName: 'user_id' },
    ipAddress: { type: 'string', length: 45, nullable: true, fieldName: 'ip_address' },
    userAgent: { type: 'text', nullable: true, fieldName: 'user_agent' },
    requestId: { type: 'string', length: 100, nullable: true, fieldName: 'request_id' },
    timestamp: { type: 'Date', columnType: 'timestamptz' },
  },
});
