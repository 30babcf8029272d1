import { DomainError } from '@charge/errors';
import { checkTimeRange, decodePageToken, encodePageToken } from '@charge/service-kit';

export { pageSize } from '@charge/service-kit';

/** Position after the last row of a page ordered by (created_at desc, id desc). */
export interface PageCursor {
  createdAt: Date;
  id: number;
}

export function encodeCursor(cursor: PageCursor): string {
  return encodePageToken({ id: cursor.id, timestamp: cursor.createdAt });
}

/** Parses a page token; an empty token means the first page. */
export function decodeCursor(token: string): PageCursor | undefined {
  const cursor = decodePageToken(token);
  if (!cursor) return undefined;
  if (!cursor.timestamp) throw DomainError.invalidArgument('page.page_token', 'is not a valid page token');
  return { createdAt: cursor.timestamp, id: cursor.id };
}

/** Validates an optional [start, end) range of created_at. */
export function checkRange(start?: Date, end?: Date): void {
  checkTimeRange(start, end, 'created');
}
