import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { AuditLogEntity, type AuditLogRow } from './audit-log.entity';
import { SystemLogEntity, type SystemLogRow } from './system-log.entity';
import type { PageCursor } from '@charge/service-kit';

export interface AuditFilter {
  userId?: number;
  resourceType?: string;
  resourceId?: string;
  action?: string;
  service?: string;
  start?: Date;
  end?: Date;
}

export interface SystemLogFilter {
  level?: string;
  module?: string;
  start?: Date;
  end?: Date;
}

type Timed = { timestamp: Date; id: number };

function keyset<T extends Timed>(
  cursor: (PageCursor & { timestamp: Date }) | undefined,
  start?: Date,
  end?: Date,
): FilterQuery<T>[] {
  const conditions: Record<string, unknown>[] = [];
  if (start) conditions.push({ timestamp: { $gte: start } });
  if (end) conditions.push({ timestamp: { $lt: end } });
  if (cursor) {
    conditions.push({
      $or: [
        { timestamp: { $lt: cursor.timestamp } },
        { timestamp: cursor.timestamp, id: { $lt: cursor.id } },
      ],
    });
  }
  return conditions as FilterQuery<T>[];
}

/** Idempotent writes (by event id) and newest-first keyset reads of the audit schema. */
export class LogStoreRepository {
  constructor(private readonly em: EntityManager) {}

  /** Inserts unless the event id is already stored; returns whether a row was written. */
  async insertAudit(row: Omit<AuditLogRow, 'id'>): Promise<boolean> {
    const res = await this.em
      .createQueryBuilder(AuditLogEntity)
      .insert(row)
      .onConflict('event_id')
      .ignore()
      .execute('run');
    return (res.affectedRows ?? 0) > 0;
  }

  async insertSystemLog(row: Omit<SystemLogRow, 'id'>): Promise<boolean> {
    const qb = this.em.createQueryBuilder(SystemLogEntity).insert(row);
    const res = await (row.eventId ? qb.onConflict('event_id').ignore() : qb).execute('run');
    return (res.affectedRows ?? 0) > 0;
  }

  listAudit(
    filter: AuditFilter,
    cursor: (PageCursor & { timestamp: Date }) | undefined,
    limit: number,
  ): Promise<AuditLogRow[]> {
    const where: Record<string, unknown> = {};
    if (filter.userId) where.userId = filter.userId;
    if (filter.resourceType) where.resourceType = filter.resourceType;
    if (filter.resourceId) where.resourceId = filter.resourceId;
    if (filter.action) where.action = filter.action;
    if (filter.service) where.service = filter.service;
    return this.em.find(
      AuditLogEntity,
      { $and: [where as FilterQuery<AuditLogRow>, ...keyset<AuditLogRow>(cursor, filter.start, filter.end)] },
      { orderBy: { timestamp: 'desc', id: 'desc' }, limit },
    );
  }

  listSystem(
    filter: SystemLogFilter,
    cursor: (PageCursor & { timestamp: Date }) | undefined,
    limit: number,
  ): Promise<SystemLogRow[]> {
    const where: Record<string, unknown> = {};
    if (filter.level) where.level = filter.level;
    if (filter.module) where.module = filter.module;
    return this.em.find(
      SystemLogEntity,
      {
        $and: [where as FilterQuery<SystemLogRow>, ...keyset<SystemLogRow>(cursor, filter.start, filter.end)],
      },
      { orderBy: { timestamp: 'desc', id: 'desc' }, limit },
    );
  }
}
