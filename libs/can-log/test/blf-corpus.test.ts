/** Every BLF sample in shared/data/blf reads to the counts and frames in EXPECTED.json. */
import {
  blfObjectTypeName,
  openLog,
  readLogInfo,
  toFrame,
  type CanFrame,
  type LogReader,
} from '@charge/can-log';
import { hex, sharedJson, sharedPath } from './shared-data';

interface ExpectedFrame {
  objectType: number;
  timestampSeconds: number;
  channel: number;
  dlc: number;
  id: number;
  extended: boolean;
  dir: 'Rx' | 'Tx';
  rtr: boolean;
  edl?: boolean;
  brs?: boolean;
  esi?: boolean;
  data: string;
}

interface ExpectedFile {
  header: Record<string, unknown> & { measurementStartTime: Record<string, number> };
  containers: { count: number };
  objectTypes: Record<string, number>;
  canFrameCount: number;
  errorFrameCount: number;
  channels: number[];
  firstCanFrames: ExpectedFrame[];
  lastCanFrame: ExpectedFrame | null;
  warnings: string[];
}

const expected = sharedJson<Record<string, ExpectedFile>>('blf/EXPECTED.json');

/** Warning codes each file must produce (files not listed must produce none). */
const EXPECTED_WARNINGS: Record<string, string[]> = {
  'third_party/canview_sample.blf': ['CONTAINER_HEADER_SIZE'],
  'vector_blf/errors/FileWithTruncatedCanMessage.blf': ['TRUNCATED_OBJECT'],
  'vector_blf/errors/FileWithTruncatedCompressedLogContainer.blf': [
    'TRUNCATED_CONTAINER',
    'TRUNCATED_ZLIB',
    'TRUNCATED_OBJECT',
    'TRUNCATED_FILE',
  ],
  'vector_blf/errors/FileWithTruncatedUncompressedLogContainer.blf': [
    'TRUNCATED_CONTAINER',
    'TRUNCATED_OBJECT',
  ],
  'vector_blf/errors/FileWithoutLogContainers.blf': ['OBJECT_OUTSIDE_CONTAINER', 'OBJECT_OUTSIDE_CONTAINER'],
};

async function readAll(reader: LogReader): Promise<{ frames: CanFrame[]; errors: CanFrame[] }> {
  const frames: CanFrame[] = [];
  const errors: CanFrame[] = [];
  for await (const b of reader.batches()) {
    for (let i = 0; i < b.length; i++) {
      const f = toFrame(b, i);
      (f.error ? errors : frames).push(f);
    }
  }
  return { frames, errors };
}

function expectFrame(actual: CanFrame, e: ExpectedFrame): void {
  expect(actual.id).toBe(e.id);
  expect(actual.extended).toBe(e.extended);
  expect(actual.channel).toBe(e.channel);
  expect(actual.dlc).toBe(e.dlc);
  expect(actual.tx).toBe(e.dir === 'Tx');
  expect(actual.remote).toBe(e.rtr);
  expect(hex(actual.data)).toBe(e.data);
  expect(actual.timestamp).toBeCloseTo(e.timestampSeconds, 6);
  if (e.edl !== undefined) {
    expect(actual.fd).toBe(e.edl);
    expect(actual.brs).toBe(e.brs);
    expect(actual.esi).toBe(e.esi);
  }
}

describe('BLF corpus (EXPECTED.json)', () => {
  const files = Object.keys(expected);

  it('covers all 35 sample files', () => {
    expect(files).toHaveLength(35);
  });

  describe.each(files)('%s', (file) => {
    const exp = expected[file];

    it('reads the expected frames, object types and warnings', async () => {
      const reader = await openLog(sharedPath(`blf/${file}`));
      expect(reader.format).toBe('blf');
      const { frames, errors } = await readAll(reader);
      expect(frames).toHaveLength(exp.canFrameCount);
      expect(errors).toHaveLength(exp.errorFrameCount);

      exp.firstCanFrames.forEach((e, i) => expectFrame(frames[i], e));
      if (exp.lastCanFrame) expectFrame(frames[frames.length - 1], exp.lastCanFrame);

      const stats = reader.stats;
      const types: Record<string, number> = {};
      for (const [k, v] of Object.entries(exp.objectTypes)) {
        types[/^\d+$/.test(k) ? blfObjectTypeName(Number(k)) : k] = v;
      }
      expect(stats.objectsPerType).toEqual(types);
      expect(stats.frames).toBe(exp.canFrameCount);
      expect(stats.errorFrames).toBe(exp.errorFrameCount);
      expect(
        Object.keys(stats.framesPerChannel)
          .map(Number)
          .sort((a, b) => a - b),
      ).toEqual(exp.channels);
      expect(reader.warnings.map((w) => w.code)).toEqual(EXPECTED_WARNINGS[file] ?? []);
    });

    it('parses the header fields', async () => {
      const reader = await openLog(sharedPath(`blf/${file}`));
      const h = reader.blfHeader!;
      const e = exp.header;
      expect(h.headerSize).toBe(e.headerSize);
      expect(h.apiNumber).toBe(e.apiNumber);
      expect(h.applicationId).toBe(e.applicationId);
      expect(h.applicationMajor).toBe(e.applicationMajor);
      expect(h.applicationMinor).toBe(e.applicationMinor);
      expect(h.applicationBuild).toBe(e.applicationBuild);
      expect(h.compressionLevel).toBe(e.compressionLevel);
      expect(h.fileSize).toBe(e.fileSize);
      expect(h.uncompressedFileSize).toBe(e.uncompressedFileSize);
      expect(h.objectCount).toBe(e.objectCount);
      expect(h.restorePointsOffset).toBe(e.restorePointsOffset);
      expect(h.measurementStartTime).toEqual(e.measurementStartTime);
      expect(h.lastObjectTime).toEqual(e.lastObjectTime);
    });
  });
});

describe('BLF info (blfinfo-like)', () => {
  it('reports writer, start time, counts and span of a CANoe 10 capture', async () => {
    const info = await readLogInfo(sharedPath('blf/unlicensed/qqj1228_blf2csv_test.blf'));
    expect(info.format).toBe('blf');
    expect(info.blfHeader?.applicationName).toBe('CANoe');
    expect(info.blfHeader?.applicationVersion).toBe('10.0.63');
    expect(info.blfHeader?.apiVersion).toBe('4.6.2.0');
    expect(info.stats.writer).toBe('CANoe 10.0.63');
    // SYSTEMTIME read as UTC (SOURCES.md: epoch 1617889821.102).
    expect(info.stats.startTime?.getTime()).toBe(1617889821102);
    expect(info.containers).toBe(73);
    expect(info.stats.frames).toBe(196082);
    expect(info.stats.framesPerChannel).toEqual({ 1: 196082 });
    expect(info.stats.objectsPerType).toEqual({
      APP_TEXT: 3,
      CAN_MESSAGE: 196082,
      CAN_DRIVER_ERROR: 148,
      Unknown115: 3,
    });
    expect(info.stats.maxTimestamp! - info.stats.minTimestamp!).toBeCloseTo(147.19, 1);
    expect(info.stats.bytesRead).toBe(1797314);
    expect(info.warnings).toEqual([]);
  });

  it('reads the GB/T charging session BLF (40,206 CAN_MESSAGE2 frames, 16 extended ids)', async () => {
    const reader = await openLog(sharedPath('gbt/orange-gi_charge_Log_001.blf'));
    const ids = new Set<number>();
    let extended = 0;
    for await (const b of reader.batches()) {
      for (let i = 0; i < b.length; i++) {
        if (b.flags[i] & 1) {
          extended++;
          ids.add(b.ids[i]);
        }
      }
    }
    expect(reader.stats.frames).toBe(40206);
    expect(extended).toBe(40206);
    expect(ids.size).toBe(16);
    expect(reader.stats.objectsPerType.CAN_MESSAGE2).toBe(40206);
    expect(reader.stats.framesPerChannel).toEqual({ 1: 40206 });
    expect(reader.stats.lastTimestamp).toBeCloseTo(650.446375, 6);
  });

  it('zero-fills TSMaster CAN FD 64 payloads shorter than validDataBytes (issue 1905)', async () => {
    const reader = await openLog(sharedPath('blf/python-can/issue_1905.blf'));
    const frames: CanFrame[] = [];
    for await (const f of reader.frames()) frames.push(f);
    expect(frames).toHaveLength(22);
    for (const f of frames) {
      expect(f.data).toHaveLength(64);
      expect(hex(f.data)).toBe('ff'.repeat(48) + '00'.repeat(16));
      expect(f.channel).toBe(7);
      expect(f.fd && f.brs).toBe(true);
    }
  });
});

describe('BLF error frames', () => {
  async function errorFrames(file: string): Promise<CanFrame[]> {
    const out: CanFrame[] = [];
    for await (const f of (await openLog(sharedPath(`blf/${file}`))).frames()) if (f.error) out.push(f);
    return out;
  }

  it('decodes CAN_ERROR_EXT (73) id, dlc and data', async () => {
    const errs = await errorFrames('python-can/test_CanErrorFrameExt.blf');
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatchObject({ id: 0x19999999, extended: true, dlc: 102, channel: 4369, tx: false });
    expect(hex(errs[0].data)).toBe('ccddeeff11223344');
  });

  it('decodes CAN_ERROR (2) as an id-less error frame', async () => {
    const errs = await errorFrames('vector_blf/events_from_binlog/test_CanErrorFrame.blf');
    expect(errs.map((e) => [e.channel, e.id, e.data.length])).toEqual([
      [4369, 0, 0],
      [4369, 0, 0],
    ]);
    expect(errs[0].timestamp).toBeCloseTo(2459565876.494607, 6);
  });

  it('decodes CAN_FD_ERROR_64 (104) with FD flags and payload', async () => {
    const errs = await errorFrames('vector_blf/events_from_binlog/test_CanFdErrorFrame64.blf');
    expect(errs).toHaveLength(2);
    // extFlags 0x7777: FDF, BRS, ESI set; rawId 0xAAAAAAAA has the extended bit.
    expect(errs[0]).toMatchObject({
      id: 0xaaaaaaa,
      extended: true,
      channel: 17,
      dlc: 34,
      fd: true,
      brs: true,
      esi: true,
    });
    expect(errs[0].data).toHaveLength(64);
  });

  it('matches python-can on the old Vector logfile error frame (id 0x1FFFFFFF, dlc 0)', async () => {
    const errs = await errorFrames('python-can/logfile_2017_removed.blf');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ id: 0x1fffffff, extended: true, dlc: 0, channel: 1 });
    expect(errs[0].timestamp).toBeCloseTo(73, 9);
  });
});
