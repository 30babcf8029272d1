import { DomainError } from '@charge/errors';
import {
  checkTimeRange,
  decodePageToken,
  encodePageToken,
  likeContains,
  pageSize,
} from '@charge/service-kit';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof DomainError && error.kind === 'invalidArgument'
      ? error.field
      : 'not invalidArgument';
  }
  return undefined;
}

describe('paging', () => {
  test('id and (timestamp, id) cursors round-trip through opaque tokens', () => {
    expect(decodePageToken(encodePageToken({ id: 42 }))).toEqual({ id: 42 });
    const timestamp = new Date('2026-12-03T10:00:00.123Z');
    expect(decodePageToken(encodePageToken({ id: 7, timestamp }))).toEqual({ id: 7, timestamp });
    expect(decodePageToken('')).toBeUndefined();
    expect(decodePageToken(undefined)).toBeUndefined();
  });

  test('malformed tokens are INVALID_ARGUMENT naming the field', () => {
    for (const bad of [
      'bm9wZQ',
      'garbage!',
      Buffer.from('{"i":-1}').toString('base64url'),
      Buffer.from('{"i":3,"t":"soon"}').toString('base64url'),
    ]) {
      expect(fieldOf(() => decodePageToken(bad))).toBe('page.page_token');
    }
  });

  test('page sizes default, clamp and reject negatives', () => {
    expect(pageSize(0)).toBe(50);
    expect(pageSize(undefined)).toBe(50);
    expect(pageSize(7)).toBe(7);
    expect(pageSize(1000)).toBe(200);
    expect(fieldOf(() => pageSize(-1))).toBe('page.page_size');
  });

  test('time ranges must be ordered; LIKE patterns are literal', () => {
    const now = new Date();
    expect(fieldOf(() => checkTimeRange(now, new Date(now.getTime() - 1)))).toBe('time_range');
    expect(fieldOf(() => checkTimeRange(now, undefined))).toBeUndefined();
    expect(likeContains('50%_a\\b')).toBe('%50\\%\\_a\\\\b%');
  });
});
