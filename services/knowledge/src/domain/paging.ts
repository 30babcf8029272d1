import { DomainError } from '@charge/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export function pageSize(requested: number | undefined): number {
  if (!requested || requested <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

/** Opaque cursor: the last id of the previous page. */
export function encodePageToken(id: number): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

export function decodePageToken(token: string | undefined): number | undefined {
  if (!token) return undefined;
  const m = /^id:(\d{1,10})$/.exec(Buffer.from(token, 'base64url').toString());
  if (!m) throw DomainError.invalidArgument('page.page_token', 'malformed page token');
  return Number(m[1]);
}
