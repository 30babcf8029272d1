import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { STATUS_BY_KIND } from '@charge/service-kit';
import type { DomainError } from '@charge/errors';
import { TraceCursors, type TraceQuery } from '../src/use-cases/trace-cursors';

const LOG_001 = path.resolve(__dirname, '../../../../shared/data/gbt/orange-gi_charge_Log_001.blf');
const FRAMES_001 = 40206;
const query = (q: Partial<TraceQuery> = {}): TraceQuery => ({
  pageSize: 5000,
  pageToken: '',
  canIds: [],
  fromSeconds: 0,
  toSeconds: 0,
  decode: false,
  ...q,
});

describe('trace cursors', () => {
  test('sequential pages continue one reader: the log is read once, frames contiguous', async () => {
    const cursors = new TraceCursors();
    let token = '';
    let expected = 0;
    let pages = 0;
    do {
      const page = await cursors.page(1, LOG_001, query({ pageToken: token }));
      for (const f of page.frames) expect(f.index).toBe(expected++);
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(expected).toBe(FRAMES_001);
    expect(pages).toBe(Math.ceil(FRAMES_001 / 5000));
    expect(cursors.opened).toBe(1);
    cursors.close();
  });

  test('a token whose reader is gone falls back to skipping from the start, with the same frames', async () => {
    const a = new TraceCursors();
    const first = await a.page(1, LOG_001, query({ pageSize: 100 }));
    const second = await a.page(1, LOG_001, query({ pageSize: 100, pageToken: first.nextPageToken }));
    a.close();
    const b = new TraceCursors();
    const again = await b.page(1, LOG_001, query({ pageSize: 100, pageToken: first.nextPageToken }));
    expect(b.opened).toBe(1);
    expect(again.frames.map((f) => [f.index, f.frame.timestamp, f.frame.id])).toEqual(
      second.frames.map((f) => [f.index, f.frame.timestamp, f.frame.id]),
    );
    b.close();
  });

  test('tokens are bound to their analysis and filter; malformed tokens and windows are refused', async () => {
    const cursors = new TraceCursors();
    const page = await cursors.page(1, LOG_001, query({ pageSize: 10 }));
    const codeOf = async (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: DomainError) => STATUS_BY_KIND[e.kind],
      );
    expect(await codeOf(cursors.page(2, LOG_001, query({ pageToken: page.nextPageToken })))).toBe(
      status.INVALID_ARGUMENT,
    );
    expect(
      await codeOf(cursors.page(1, LOG_001, query({ pageToken: page.nextPageToken, decode: true }))),
    ).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(cursors.page(1, LOG_001, query({ pageToken: 'garbage' })))).toBe(
      status.INVALID_ARGUMENT,
    );
    expect(await codeOf(cursors.page(1, LOG_001, query({ fromSeconds: 5, toSeconds: 1 })))).toBe(
      status.INVALID_ARGUMENT,
    );
    cursors.close();
  });
});
