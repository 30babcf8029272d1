import { DomainError } from '@charge/errors';

/** Position after the last row of a page, for newest-first keyset pagination. */
export interface PageCursor {
  createdAt: Date;
  id: number;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), i: cursor.id })).toString(
    'base64url',
  );
}

/** Parses a page token; an empty token means the first page. */
export function decodeCursor(token: string): PageCursor | undefined {
  if (!token) return undefined;
  try {
    const { t, i } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const createdAt = new Date(t);
    if (typeof t !== 'string' || Number.isNaN(createdAt.getTime()) || !Number.isInteger(i))
      throw new Error('shape');
    return { createdAt, id: i };
  } catch {
    throw DomainError.invalidArgument('page.page_token', 'malformed page token');
  }
}

export function pageSize(requested: number | undefined): number {
  if (!requested || requested <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

/** Validates an optional [start, end) range. */
export function checkRange(start?: Date, end?: Date): void {
  if (start && end && start.getTime() >= end.getTime()) {
    throw DomainError.invalidArgument('created', 'start_time must be before end_time');
  }
}
