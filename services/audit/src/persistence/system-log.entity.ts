import { EntitySchema } from '@mikro-orm/core';

export interface SystemLogRow {
  id: number;
  eventId?: string | null;
  level: string;
  module: string;
  message: string;
  loggerName?: string | null;
  functionName?: string | null;
  lineNumber?: number | null;
  filePath?: string | null;
  userId?: number | null;
  requestId?: string | null;
  sessionId?: string | null;
  metaInfo?: unknown;
  ipAddress?: string | null;
  userAgent?: string | null;
  timestamp: Date;
}

export const SystemLogEntity = new EntitySchema<SystemLogRow>({
  name: 'SystemLog',
  tableName: 'system_logs',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    eventId: { type: 'uuid', fieldName: 'event_id', nullable: true, unique: true },
    level: { type: 'string', length: 20 },
    module: { type: 'string', length: 50 },
    message: { type: 'text' },
    loggerName: { type: 'string', length: 100, nullable: true, fieldName: 'logger_name' },
    functionName: { type: 'string', length: 100, nullable: true, fieldName: 'function_name' },
    lineNumber: { type: 'integer', nullable: true, fieldName: 'line_number' },
    filePath: { type: 'string', length: 255, nullable: true, fieldName: 'file_path' },
    userId: { type: 'integer', nullable: true, fieldName: 'user_id' },
    requestId: { type: 'string', length: 100, nullable: true, fieldName: 'request_id' },
    sessionId: { type: 'string', length: 100, nullable: true, fieldName: 'session_id' },
    metaInfo: { type: 'json', nullable: true, fieldName: 'meta_info' },
    ipAddress: { type: 'string', length: 45, nullable: true, fieldName: 'ip_address' },
    userAgent: { type: 'text', nullable: true, fieldName: 'user_agent' },
    timestamp: { type: 'Date', columnType: 'timestamptz' },
  },
});
