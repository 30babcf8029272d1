import { DomainError } from '@charge/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** Page size from a request: 0 means the default, values above the maximum are clamped. */
export function pageSize(requested: number | undefined, field = 'page.page_size'): number {
  const size = requested ?? 0;
  if (!Number.isInteger(size) || size < 0) throw DomainError.invalidArgument(field, 'must not be negative');
  return size === 0 ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE);
}

/** Cursor over a list ordered by id descending: the id of the last item returned. */
export function encodePageToken(lastId: number): string {
  return Buffer.from(JSON.stringify({ v: 1, before: lastId })).toString('base64url');
}

/** Decodes a page token; empty means the first page. */
export function decodePageToken(token: string | undefined, field = 'page.page_token'): number | undefined {
  if (!token) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'before' in parsed) {
      const before = (parsed as { before: unknown }).before;
      if (typeof before === 'number' && Number.isSafeInteger(before) && before > 0) return before;
    }
  } catch {
    // fall through
  }
  throw DomainError.invalidArgument(field, 'is not a valid page token');
}

/** Escapes LIKE wildcards so a search text matches literally. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
