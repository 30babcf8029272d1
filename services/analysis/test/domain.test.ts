import { status } from '@grpc/grpc-js';
import { DomainError } from '@charge/errors';
import type { ChargingReport } from '@charge/gbt27930';
import { STATUS_BY_KIND } from '@charge/service-kit';
import { decodeCursor, encodeCursor, pageSize } from '../src/domain/page-cursor';
import { resultRows } from '../src/domain/result-rows';
import { minMaxDownsample } from '../src/domain/series';
import { isTerminal, parsingProgress } from '../src/domain/status';
import { checkUploadMetadata } from '../src/domain/upload-rules';
import { LocalBlobStore } from '../src/storage/blob-store';

const kindOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return { code: STATUS_BY_KIND[(e as DomainError).kind], field: (e as DomainError).field };
  }
  throw new Error('expected a DomainError');
};

describe('analysis domain', () => {
  test('upload metadata: names, sizes and the limit', () => {
    const ok = { name: ' Log ', description: '', fileName: 'a\u0000b.blf', declaredSize: '10' };
    expect(checkUploadMetadata(ok, 100)).toEqual({
      name: 'Log',
      description: '',
      fileName: 'ab.blf',
      declaredSize: 10,
    });
    expect(kindOf(() => checkUploadMetadata({ ...ok, name: '' }, 100))).toEqual({
      code: status.INVALID_ARGUMENT,
      field: 'metadata.name',
    });
    expect(kindOf(() => checkUploadMetadata({ ...ok, declaredSize: '0' }, 100)).field).toBe(
      'metadata.declared_size',
    );
    expect(kindOf(() => checkUploadMetadata({ ...ok, declaredSize: '-5' }, 100)).field).toBe(
      'metadata.declared_size',
    );
    expect(kindOf(() => checkUploadMetadata({ ...ok, declaredSize: '101' }, 100)).code).toBe(
      status.RESOURCE_EXHAUSTED,
    );
    expect(kindOf(() => checkUploadMetadata({ ...ok, fileName: 'x'.repeat(256) }, 100)).field).toBe(
      'metadata.file_name',
    );
  });

  test('statuses and parsing progress', () => {
    expect(
      ['completed', 'failed', 'cancelled', 'validation_failed', 'max_iterations_reached'].every((s) =>
        isTerminal(s as never),
      ),
    ).toBe(true);
    expect(isTerminal('pending') || isTerminal('processing')).toBe(false);
    const steps = [undefined, 0, 0.25, 0.5, 1, 2].map(parsingProgress);
    expect(steps).toEqual([0.05, 0.05, 0.2625, 0.475, 0.9, 0.9]);
  });

  test('page cursors round-trip and reject garbage', () => {
    const c = { createdAt: new Date('2026-12-03T10:00:00.123Z'), id: 42 };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor('')).toBeUndefined();
    expect(kindOf(() => decodeCursor('not-a-cursor')).field).toBe('page.page_token');
    expect([pageSize(undefined), pageSize(0), pageSize(10), pageSize(10_000)]).toEqual([50, 50, 10, 200]);
  });

  test('result rows: one summary, then one row per finding with its evidence', () => {
    const finding = (code: string, severity: 'info' | 'warning' | 'critical') => ({
      code,
      severity,
      startTime: 't0',
      endTime: 't1',
      message: `${code} message`,
      evidence: [{ message: 'CST', time: 't0', canId: '0x101AF456', data: '04000000' }],
    });
    const report = {
      file: { format: 'blf', canFrames: 10, errorFrames: 0 },
      sessions: [
        {
          index: 0,
          edition: '2015',
          lastPhase: 'ending',
          stopInitiator: 'charger',
          stats: { socStart: 50, socEnd: 60 },
          findings: [finding('CHARGER_MANUAL_STOP', 'info'), finding('CHARGER_FAULT_STOP', 'critical')],
        },
      ],
    } as unknown as ChargingReport;
    const rows = resultRows(report);
    expect(rows.map((r) => [r.resultType, r.title])).toEqual([
      ['summary', 'BLF log: 1 session(s), 1 problem(s)'],
      ['finding', 'CHARGER_MANUAL_STOP (session 0)'],
      ['finding', 'CHARGER_FAULT_STOP (session 0)'],
    ]);
    expect(rows[0].metaInfo).toMatchObject({ findings: 2, problems: 1 });
    expect(rows[2].metaInfo).toMatchObject({ code: 'CHARGER_FAULT_STOP', severity: 'critical', session: 0 });
    expect((rows[2].metaInfo as { evidence: unknown[] }).evidence).toHaveLength(1);
  });

  test('blob keys are server-made; anything else is refused as a path', () => {
    const store = new LocalBlobStore('/tmp/blobs');
    expect(store.pathOf('logs/0b0c7a2e-52a1-4a3e-9a65-3f1f0b9e2c11')).toBe(
      '/tmp/blobs/logs/0b0c7a2e-52a1-4a3e-9a65-3f1f0b9e2c11',
    );
    for (const bad of ['../etc/passwd', 'logs/../../etc/passwd', '/etc/passwd', 'logs/x', 'tmp/abc']) {
      expect(() => store.pathOf(bad)).toThrow();
    }
  });

  test('min/max downsampling keeps peaks and time order within the budget', () => {
    const points = Array.from(
      { length: 1000 },
      (_, i) => [i / 10, Math.sin(i / 50) * 10] as [number, number],
    );
    points[777] = [77.7, 99];
    points[333] = [33.3, -99];
    const down = minMaxDownsample(points, 50);
    expect(down.length).toBeLessThanOrEqual(50);
    expect(Math.max(...down.map((p) => p[1]))).toBe(99);
    expect(Math.min(...down.map((p) => p[1]))).toBe(-99);
    const times = down.map((p) => p[0]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(minMaxDownsample(points.slice(0, 10), 50)).toHaveLength(10);
  });
});
