import { DomainError } from '@charge/errors';

/** Page size of list RPCs when the request says 0 (see charge.common.v1.PageRequest). */
export const DEFAULT_PAGE_SIZE = 50;
/** Larger requested page sizes are clamped to this. */
export const MAX_PAGE_SIZE = 200;

/** Page size from a request: 0 means the default, values above the maximum are clamped. */
export function pageSize(requested: number | undefined, field = 'page.page_size'): number {
  const size = requested ?? 0;
  if (!Number.isInteger(size) || size < 0) throw DomainError.invalidArgument(field, 'must not be negative');
  return size === 0 ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE);
}

/** Position after the last row of a page ordered by (timestamp desc, id desc) or by id desc. */
export interface PageCursor {
  id: number;
  timestamp?: Date;
}

/** Opaque page token for a cursor. */
export function encodePageToken(cursor: PageCursor): string {
  const body = cursor.timestamp ? { i: cursor.id, t: cursor.timestamp.toISOString() } : { i: cursor.id };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** Decodes a page token (empty = first page); anything malformed is INVALID_ARGUMENT. */
export function decodePageToken(
  token: string | undefined,
  field = 'page.page_token',
): PageCursor | undefined {
  if (!token) return undefined;
  try {
    const { i, t } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      i: unknown;
      t?: unknown;
    };
    if (typeof i === 'number' && Number.isSafeInteger(i) && i > 0) {
      if (t === undefined) return { id: i };
      const timestamp = new Date(String(t));
      if (typeof t === 'string' && !Number.isNaN(timestamp.getTime())) return { id: i, timestamp };
    }
  } catch {
    // fall through to the error below
  }
  throw DomainError.invalidArgument(field, 'is not a valid page token');
}

/** Validates an optional [start, end) range. */
export function checkTimeRange(start?: Date, end?: Date, field = 'time_range'): void {
  if (start && end && start.getTime() >= end.getTime()) {
    throw DomainError.invalidArgument(field, 'start_time must be before end_time');
  }
}

/** A LIKE pattern matching `text` literally anywhere (wildcards escaped). */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
