import { randomUUID } from 'node:crypto';
import { openLog, type CanFrame } from '@charge/can-log';
import { DomainError } from '@charge/errors';
import { isChargerBmsId, pgnLabel, pgnOfId } from '@charge/gbt27930';

export const DEFAULT_TRACE_PAGE = 500;
export const MAX_TRACE_PAGE = 5000;

export interface TraceQuery {
  pageSize: number;
  pageToken: string;
  canIds: number[];
  fromSeconds: number;
  toSeconds: number;
  decode: boolean;
}

export interface TraceFrameOut {
  index: number;
  frame: CanFrame;
  message: string;
}

export interface TracePage {
  frames: TraceFrameOut[];
  nextPageToken: string;
}

interface Token {
  /** Analysis id. */
  a: number;
  /** Index of the next frame to read. */
  i: number;
  /** Key of the open reader continuing at `i`. */
  k: string;
  /** Filter fingerprint. */
  f: string;
}

interface OpenCursor {
  analysisId: number;
  next: number;
  iterator: AsyncIterator<CanFrame>;
  timer: NodeJS.Timeout;
}

function filterKey(q: TraceQuery): string {
  return JSON.stringify([[...q.canIds].sort((x, y) => x - y), q.fromSeconds, q.toSeconds, q.decode]);
}

function decodeToken(token: string): Token | undefined {
  if (!token) return undefined;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Token;
    if (
      !Number.isInteger(t.a) ||
      !Number.isInteger(t.i) ||
      t.i < 0 ||
      typeof t.k !== 'string' ||
      typeof t.f !== 'string'
    )
      throw new Error('shape');
    return t;
  } catch {
    throw DomainError.invalidArgument('page_token', 'malformed page token');
  }
}

/**
 * Pages through a log's frames. The reader behind a page stays open for `ttlMs` under a
 * key carried in the next page token, so sequential paging reads the file once; a token
 * whose reader has expired (or lives in another replica) falls back to reading from the
 * start and skipping to its position.
 */
export class TraceCursors {
  private readonly open = new Map<string, OpenCursor>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxOpen = 32,
  ) {}

  /** Readers opened so far (for tests and metrics). */
  opened = 0;

  async page(analysisId: number, file: string, q: TraceQuery): Promise<TracePage> {
    if (q.fromSeconds < 0 || q.toSeconds < 0 || (q.toSeconds > 0 && q.toSeconds < q.fromSeconds))
      throw DomainError.invalidArgument(
        'to_seconds',
        'the window must satisfy 0 <= from_seconds <= to_seconds',
      );
    const size = q.pageSize > 0 ? Math.min(q.pageSize, MAX_TRACE_PAGE) : DEFAULT_TRACE_PAGE;
    const fkey = filterKey(q);
    const token = decodeToken(q.pageToken);
    if (token && (token.a !== analysisId || token.f !== fkey))
      throw DomainError.invalidArgument('page_token', 'the token belongs to another analysis or filter');

    let index = token?.i ?? 0;
    let iterator: AsyncIterator<CanFrame>;
    const cached = token ? this.take(token.k) : undefined;
    if (cached && cached.next === index && cached.analysisId === analysisId) {
      iterator = cached.iterator;
    } else {
      if (cached) void cached.iterator.return?.();
      this.opened++;
      iterator = (await openLog(file)).frames()[Symbol.asyncIterator]();
      for (let skipped = 0; skipped < index; skipped++) {
        if ((await iterator.next()).done) return { frames: [], nextPageToken: '' };
      }
    }

    const ids = q.canIds.length ? new Set(q.canIds) : undefined;
    const to = q.toSeconds > 0 ? q.toSeconds : Infinity;
    const frames: TraceFrameOut[] = [];
    let ended = false;
    while (frames.length < size) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      const frame = next.value;
      const at = index++;
      if (frame.timestamp > to) {
        ended = true;
        break;
      }
      if (frame.timestamp < q.fromSeconds || (ids && !ids.has(frame.id))) continue;
      const message =
        q.decode && frame.extended && !frame.error && isChargerBmsId(frame.id)
          ? pgnLabel(pgnOfId(frame.id))
          : '';
      frames.push({ index: at, frame, message });
    }
    if (ended) {
      void iterator.return?.();
      return { frames, nextPageToken: '' };
    }
    const key = randomUUID();
    this.keep(key, { analysisId, next: index, iterator });
    const next: Token = { a: analysisId, i: index, k: key, f: fkey };
    return { frames, nextPageToken: Buffer.from(JSON.stringify(next)).toString('base64url') };
  }

  /** Closes every open reader. */
  close(): void {
    for (const key of [...this.open.keys()]) void this.take(key)?.iterator.return?.();
  }

  private keep(key: string, cursor: Omit<OpenCursor, 'timer'>): void {
    if (this.open.size >= this.maxOpen) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) void this.take(oldest)?.iterator.return?.();
    }
    const timer = setTimeout(() => void this.take(key)?.iterator.return?.(), this.ttlMs);
    timer.unref();
    this.open.set(key, { ...cursor, timer });
  }

  private take(key: string): OpenCursor | undefined {
    const cursor = this.open.get(key);
    if (!cursor) return undefined;
    clearTimeout(cursor.timer);
    this.open.delete(key);
    return cursor;
  }
}
