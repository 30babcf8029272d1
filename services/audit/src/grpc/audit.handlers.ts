import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { auditV1 } from '@charge/contracts';
import {
  checkTimeRange,
  decodePageToken,
  encodePageToken,
  pageSize,
  type PageCursor,
  type Rpc,
} from '@charge/service-kit';
import { DomainError } from '@charge/errors';
import type { AuditLogRow } from '../persistence/audit-log.entity';
import { LogStoreRepository } from '../persistence/log-store.repository';
import type { SystemLogRow } from '../persistence/system-log.entity';

const json = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));

function toAuditLog(row: AuditLogRow): auditV1.AuditLog {
  return {
    id: row.id,
    eventId: row.eventId,
    service: row.service,
    action: row.action,
    resourceType: row.resourceType,
    resourceId: row.resourceId ?? '',
    oldValues: json(row.oldValues),
    newValues: json(row.newValues),
    userId: row.userId ?? 0,
    ipAddress: row.ipAddress ?? '',
    userAgent: row.userAgent ?? '',
    requestId: row.requestId ?? '',
    timestamp: row.timestamp,
  };
}

function toSystemLog(row: SystemLogRow): auditV1.SystemLog {
  return {
    id: row.id,
    level: row.level,
    module: row.module,
    message: row.message,
    loggerName: row.loggerName ?? '',
    functionName: row.functionName ?? '',
    lineNumber: row.lineNumber ?? 0,
    filePath: row.filePath ?? '',
    userId: row.userId ?? 0,
    requestId: row.requestId ?? '',
    sessionId: row.sessionId ?? '',
    metaInfo: json(row.metaInfo),
    ipAddress: row.ipAddress ?? '',
    userAgent: row.userAgent ?? '',
    timestamp: row.timestamp,
  };
}

/** Audit lists are ordered by (timestamp, id): their tokens must carry both. */
function timeCursor(token: string | undefined): (PageCursor & { timestamp: Date }) | undefined {
  const cursor = decodePageToken(token);
  if (cursor && !cursor.timestamp)
    throw DomainError.invalidArgument('page.page_token', 'is not a valid page token');
  return cursor as (PageCursor & { timestamp: Date }) | undefined;
}

/** Fetches one extra row to know whether another page exists. */
function page<T extends { timestamp: Date; id: number }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextPageToken:
      rows.length > limit && last ? encodePageToken({ id: last.id, timestamp: last.timestamp }) : '',
  };
}

export function auditHandlers(rpc: Rpc): UntypedServiceImplementation {
  return {
    listAuditLogs: rpc.unary<auditV1.ListAuditLogsRequest, auditV1.ListAuditLogsResponse>(
      async (req, ctx) => {
        const limit = pageSize(req.page?.pageSize);
        const { startTime, endTime } = req.timeRange ?? {};
        checkTimeRange(startTime, endTime);
        const rows = await new LogStoreRepository(ctx.em).listAudit(
          {
            userId: req.userId,
            resourceType: req.resourceType,
            resourceId: req.resourceId,
            action: req.action,
            service: req.service,
            start: startTime,
            end: endTime,
          },
          timeCursor(req.page?.pageToken),
          limit + 1,
        );
        const { items, nextPageToken } = page(rows, limit);
        return { logs: items.map(toAuditLog), page: { nextPageToken, totalSize: 0 } };
      },
      { auth: 'admin' },
    ),
    listSystemLogs: rpc.unary<auditV1.ListSystemLogsRequest, auditV1.ListSystemLogsResponse>(
      async (req, ctx) => {
        const limit = pageSize(req.page?.pageSize);
        const { startTime, endTime } = req.timeRange ?? {};
        checkTimeRange(startTime, endTime);
        const rows = await new LogStoreRepository(ctx.em).listSystem(
          { level: req.level, module: req.module, start: startTime, end: endTime },
          timeCursor(req.page?.pageToken),
          limit + 1,
        );
        const { items, nextPageToken } = page(rows, limit);
        return { logs: items.map(toSystemLog), page: { nextPageToken, totalSize: 0 } };
      },
      { auth: 'admin' },
    ),
  };
}
