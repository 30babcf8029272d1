import type { EntityName, FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { decodePageToken, encodePageToken, pageSize } from './paging';

/** One page of a list ordered by id, with the cursor to the next and the filter's total. */
export interface IdPage<T> {
  items: T[];
  nextPageToken: string;
  totalSize: number;
}

/**
 * Keyset pagination by id: rows matching `filter` after the request's page token, newest
 * (`desc`, the default) or oldest (`asc`) first. Fetches one extra row to know whether a
 * next page exists; `totalSize` counts the whole filter.
 */
export async function findIdPage<T extends { id: number }>(
  em: EntityManager,
  entity: EntityName<T>,
  filter: FilterQuery<T>,
  page: { pageSize?: number; pageToken?: string },
  order: 'asc' | 'desc' = 'desc',
): Promise<IdPage<T>> {
  const limit = pageSize(page.pageSize);
  const after = decodePageToken(page.pageToken)?.id;
  const where = after
    ? ({ $and: [filter, { id: { [order === 'desc' ? '$lt' : '$gt']: after } }] } as FilterQuery<T>)
    : filter;
  const rows = (await em.find(entity, where, {
    orderBy: { id: order } as QueryOrderMap<T>,
    limit: limit + 1,
  })) as T[];
  const items = rows.slice(0, limit);
  return {
    items,
    nextPageToken: rows.length > limit ? encodePageToken({ id: items[items.length - 1].id }) : '',
    totalSize: await em.count(entity, filter),
  };
}
