/** ASC, candump -L and ZLG CANTest readers: shared samples and inline edge cases. */
import { openLog, type CanFrame, type LogReader, type OpenLogOptions } from '@charge/can-log';
import { execFileSync } from 'node:child_process';
import { hex, sharedJson, sharedPath } from './shared-data';

const expectedGbt =
  sharedJson<Record<string, { frames: number; timeSpan_s: number }>>('gbt/EXPECTED_GBT.json');

async function readText(
  text: string | Uint8Array,
  options: OpenLogOptions = {},
): Promise<{ reader: LogReader; frames: CanFrame[] }> {
  const reader = await openLog(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, options);
  const frames: CanFrame[] = [];
  for await (const f of reader.frames()) frames.push(f);
  return { reader, frames };
}

async function readFile(file: string): Promise<{ reader: LogReader; frames: CanFrame[] }> {
  const reader = await openLog(file);
  const frames: CanFrame[] = [];
  for await (const f of reader.frames()) frames.push(f);
  return { reader, frames };
}

describe('shared GB/T text samples (EXPECTED_GBT.json)', () => {
  const formats: Record<string, string> = {
    'hybtalented_gbt27930_222222.utf8.txt': 'zlg',
    'hybtalented_gbt27930_input.utf8.txt': 'zlg',
    'ru5t_gbt27930-CAN-parser_candump2.log': 'candump',
    'ru5t_gbt27930-CAN-parser_candump3.log': 'candump',
    'sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log': 'candump',
  };

  it.each(Object.keys(expectedGbt))('%s: frame count and time span', async (key) => {
    const file = key.replace(/^unlicensed\//, '');
    const { reader, frames } = await readFile(sharedPath(`gbt/${file}`));
    expect(reader.format).toBe(formats[file]);
    expect(frames).toHaveLength(expectedGbt[key].frames);
    expect(reader.stats.maxTimestamp! - reader.stats.minTimestamp!).toBeCloseTo(
      expectedGbt[key].timeSpan_s,
      4,
    );
    expect(reader.warnings).toEqual([]);
    expect(frames.every((f) => f.extended && !f.remote && !f.error && !f.fd)).toBe(true);
  });

  it('decodes the ZLG export columns (222222): ids, DLC, data, 0.1 ms counter', async () => {
    const { reader, frames } = await readFile(sharedPath('gbt/hybtalented_gbt27930_222222.utf8.txt'));
    expect(reader.encoding).toBe('utf-8');
    expect(frames[0]).toMatchObject({ id: 0x1801f456, dlc: 8, channel: 0, tx: false, timestamp: 0 });
    expect(hex(frames[0].data)).toBe('00ffffffffffffff');
    expect(frames[1].timestamp).toBeCloseTo((0x00138d7e - 0x00138d78) / 10000, 9);
    expect(frames[12]).toMatchObject({ id: 0x1cec56f4 });
    expect(hex(frames[12].data)).toBe('10290006ff000200');
    const last = frames[frames.length - 1];
    expect(last).toMatchObject({ id: 0x181056f4, dlc: 5 });
    expect(hex(last.data)).toBe('740ea20e02');
    expect(frames.filter((f) => f.id === 0x1812f456)).toHaveLength(571); // CCS
    expect(frames.filter((f) => f.id === 0x181056f4)).toHaveLength(574); // BCL
  });

  it('reads the GBK original of a ZLG export exactly like its UTF-8 conversion', async () => {
    const utf8 = sharedPath('gbt/hybtalented_gbt27930_input.utf8.txt');
    const gbk = execFileSync('/usr/bin/python3', [
      '-c',
      'import sys; sys.stdout.buffer.write(open(sys.argv[1], encoding="utf-8").read().encode("gbk"))',
      utf8,
    ]);
    expect(gbk.includes(Buffer.from('序号', 'utf8'))).toBe(false);
    const a = await readFile(utf8);
    const b = await readText(gbk);
    expect(b.reader.format).toBe('zlg');
    expect(b.reader.encoding).toBe('gbk');
    expect(b.frames).toEqual(a.frames);
    expect(b.frames).toHaveLength(595);
  });

  it('reads candump timestamps relative to the first frame and keeps the epoch start', async () => {
    const { reader, frames } = await readFile(
      sharedPath('gbt/sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log'),
    );
    expect(reader.stats.startTime?.getTime()).toBe(1703560121247);
    expect(frames[0]).toMatchObject({ id: 0x0070f4b5, timestamp: 0, channel: 1, dlc: 3 });
    expect(frames[1].timestamp).toBeCloseTo(0.500612, 6);
    expect(reader.channelNames.get(1)).toBe('can0');
    expect(reader.stats.framesPerChannel).toEqual({ 1: 1857 });
  });
});

describe('Vector converter ASC sources match their BLF files', () => {
  it('test_CanMessage.asc ≡ test_CanMessage.blf', async () => {
    const asc = await readFile(
      sharedPath('blf/vector_blf/events_from_converter/sources/test_CanMessage.asc'),
    );
    const blf = await readFile(sharedPath('blf/vector_blf/events_from_converter/test_CanMessage.blf'));
    expect(asc.reader.format).toBe('asc');
    expect(asc.frames).toHaveLength(2);
    expect(asc.frames).toEqual(blf.frames);
  });

  it('test_CanErrorFrame.asc ≡ test_CanErrorFrame.blf (one error frame, channel 1, 2.501 s)', async () => {
    const asc = await readFile(
      sharedPath('blf/vector_blf/events_from_converter/sources/test_CanErrorFrame.asc'),
    );
    const blf = await readFile(sharedPath('blf/vector_blf/events_from_converter/test_CanErrorFrame.blf'));
    expect(asc.frames).toHaveLength(1);
    expect(asc.frames[0]).toMatchObject({ error: true, channel: 1, timestamp: 2.501 });
    expect(blf.frames.map((f) => [f.error, f.channel, f.timestamp])).toEqual([[true, 1, 2.501]]);
  });

  it('skips non-frame events (statistics, comments, markers) and counts them', async () => {
    const stat = await readFile(
      sharedPath('blf/vector_blf/events_from_converter/sources/test_CanDriverStatistic.asc'),
    );
    expect(stat.frames).toHaveLength(0);
    expect(stat.reader.stats.objectsPerType).toEqual({ Statistic: 1 });
    const comment = await readFile(
      sharedPath('blf/vector_blf/events_from_converter/sources/test_EventComment.asc'),
    );
    expect(comment.frames).toHaveLength(0);
    expect(comment.reader.stats.objectsPerType).toEqual({ Comment: 1 });
    expect(comment.reader.warnings).toEqual([]);
  });
});

describe('ASC reader edge cases', () => {
  const ASC = [
    'date Thu Apr 08 01:50:21.102 pm 2021',
    'base hex  timestamps absolute',
    'internal events logged',
    '// version 8.0.0',
    'Begin Triggerblock Thu Apr 08 01:50:21.102 pm 2021',
    '   0.000000 Start of measurement',
    '   1.000000 1  123             Rx   d 3 01 02 03',
    '   1.500000 2  1ABCDEFx        Tx   d 8 00 11 22 33 44 55 66 77  Length = 1704000 BitCount = 145 ID = 28036591x',
    '   2.000000 1  7FF             Rx   r',
    '   2.100000 1  7FF             Rx   r 4',
    '   2.500000 1  ErrorFrame\tECC: 10100010',
    '   3.000000 CANFD   1 Rx        100                                   1 0 9 12 00 01 02 03 04 05 06 07 08 09 0a 0b        0    0     3000        0        0        0        0        0',
    `   3.100000 CANFD   2 Tx   1ABx  EngineData  0 1 f 64 ${Array.from({ length: 64 }, (_, i) => i.toString(16).padStart(2, '0')).join(' ')}  0 0 5000 0 0 0 0 0`,
    '   3.150000 CANFD   1 Rx 55 0 0 8 8 01 02 03 04 05 06 07 08 0 0 0 0 0 0 0 0',
    '   3.200000 CANFD   1 Rx ErrorFrame 0 0 0',
    '   3.300000 1  Statistic: D 1000 R 15 XD 0 XR 0 E 0 O 0 B 0.0%',
    '   3.400000 1  123  Rx  d 8 01 02',
    '   3.500000 1  12G  Rx  d 1 01',
    'something unexpected',
    'End TriggerBlock',
  ].join('\r\n');

  it('parses classic, extended, remote, error and CAN FD lines with warnings for bad ones', async () => {
    const { reader, frames } = await readText(ASC);
    expect(reader.format).toBe('asc');
    expect(reader.stats.startTime?.toISOString()).toBe('2021-04-08T13:50:21.102Z');
    const rows = frames.map((f) => [
      f.timestamp,
      f.channel,
      f.id,
      f.extended,
      f.tx,
      f.remote,
      f.error,
      f.fd,
      f.brs,
      f.esi,
      f.dlc,
      hex(f.data),
    ]);
    expect(rows).toEqual([
      [1, 1, 0x123, false, false, false, false, false, false, false, 3, '010203'],
      [1.5, 2, 0x1abcdef, true, true, false, false, false, false, false, 8, '0011223344556677'],
      [2, 1, 0x7ff, false, false, true, false, false, false, false, 0, ''],
      [2.1, 1, 0x7ff, false, false, true, false, false, false, false, 4, ''],
      [2.5, 1, 0, false, false, false, true, false, false, false, 0, ''],
      [3, 1, 0x100, false, false, false, false, true, true, false, 9, '000102030405060708090a0b'],
      [
        3.1,
        2,
        0x1ab,
        true,
        true,
        false,
        false,
        true,
        false,
        true,
        15,
        Buffer.from(Array.from({ length: 64 }, (_, i) => i)).toString('hex'),
      ],
      [3.15, 1, 0x55, false, false, false, false, false, false, false, 8, '0102030405060708'],
      [3.2, 1, 0, false, false, false, true, true, false, false, 0, ''],
    ]);
    expect(reader.warnings.map((w) => [w.code, w.line])).toEqual([
      ['MALFORMED_LINE', 17],
      ['MALFORMED_LINE', 18],
      ['UNRECOGNIZED_LINE', 19],
    ]);
    expect(reader.stats.objectsPerType).toMatchObject({ CAN: 5, CAN_FD: 2, ERROR_FRAME: 2, Statistic: 1 });
  });

  it('handles base dec and relative timestamps', async () => {
    const text = [
      'base dec  timestamps relative',
      '   0.500000 1  291             Rx   d 2 255 16',
      '   0.250000 1  100000x         Tx   d 1 7',
      '   0.250000 1  291             Rx   d 1 256',
    ].join('\n');
    const { frames, reader } = await readText(text);
    expect(frames.map((f) => [f.timestamp, f.id, f.extended, hex(f.data)])).toEqual([
      [0.5, 291, false, 'ff10'],
      [0.75, 100000, true, '07'],
    ]);
    expect(reader.warnings.map((w) => w.line)).toEqual([4]);
  });
});

describe('candump reader edge cases', () => {
  it('parses standard, extended, remote, FD, error and len8_dlc frames; warns on bad lines', async () => {
    const text = [
      '(1.000000) can0 123#DEADBEEF',
      '(1.500000) can1 12345678#',
      '(2.000000) can0 123#R',
      '(2.050000) can0 123#R5',
      '(2.100000) can0 123##1DEADBEEF00112233AABBCCDD',
      '(2.200000) can0 123##3',
      '(2.300000) can0 20000080#0000000000000000',
      '(2.400000) can0 123#1122334455667788_C',
      '(2.500000) vcan7 7FF#01.02.03 T',
      'garbage',
      '(x) can0 123#11',
      '(3.000000) can0 123#1',
      '(3.000000) can0 800#11',
      '(3.100000) can0 123###0011',
      '(3.200000) can0 123##10011223',
      '',
    ].join('\n');
    const { reader, frames } = await readText(text);
    expect(reader.format).toBe('candump');
    expect(
      frames.map((f) => [
        f.timestamp,
        f.channel,
        f.id,
        f.extended,
        f.remote,
        f.error,
        f.fd,
        f.brs,
        f.esi,
        f.tx,
        f.dlc,
        hex(f.data),
      ]),
    ).toEqual(
      [
        [0, 1, 0x123, false, false, false, false, false, false, false, 4, 'deadbeef'],
        [0.5, 2, 0x12345678, true, false, false, false, false, false, false, 0, ''],
        [1, 1, 0x123, false, true, false, false, false, false, false, 0, ''],
        [1.05, 1, 0x123, false, true, false, false, false, false, false, 5, ''],
        [1.1, 1, 0x123, false, false, false, true, true, false, false, 9, 'deadbeef00112233aabbccdd'],
        [1.2, 1, 0x123, false, false, false, true, true, true, false, 0, ''],
        [1.3, 1, 0x80, false, false, true, false, false, false, false, 8, '0000000000000000'],
        [1.4, 1, 0x123, false, false, false, false, false, false, false, 12, '1122334455667788'],
        [1.5, 3, 0x7ff, false, false, false, false, false, false, true, 3, '010203'],
      ].map((r) => [expect.closeTo(r[0] as number, 9), ...r.slice(1)]),
    );
    expect(reader.warnings.map((w) => [w.code, w.line])).toEqual([
      ['MALFORMED_LINE', 10],
      ['MALFORMED_LINE', 11],
      ['MALFORMED_LINE', 12],
      ['MALFORMED_LINE', 13],
      ['UNSUPPORTED_FRAME', 14],
      ['MALFORMED_LINE', 15],
    ]);
    expect(Object.fromEntries(reader.channelNames)).toEqual({ 1: 'can0', 2: 'can1', 3: 'vcan7' });
    expect(reader.stats.startTime?.getTime()).toBe(1000);
  });

  it('bounds the number of warnings kept', async () => {
    const text = Array.from({ length: 50 }, () => 'bad line').join('\n') + '\n(1.0) can0 123#00\n';
    const { reader, frames } = await readText(text, { format: 'candump', maxWarnings: 5 });
    expect(frames).toHaveLength(1);
    expect(reader.warnings).toHaveLength(6);
    expect(reader.warnings[5].code).toBe('WARNINGS_TRUNCATED');
    expect(reader.stats.warningCount).toBe(50);
  });

  it('skips over-long lines with a warning', async () => {
    const text = `(1.0) can0 123#00\n(1.1) can0 123#${'00'.repeat(100000)}\n(1.2) can0 124#01\n`;
    const { reader, frames } = await readText(text, { maxLineLength: 1000 });
    expect(frames.map((f) => f.id)).toEqual([0x123, 0x124]);
    expect(reader.warnings.map((w) => [w.code, w.line])).toEqual([['LINE_TOO_LONG', 2]]);
  });
});

describe('ZLG reader edge cases', () => {
  it('reads tab-separated rows, remote/standard/Tx frames and a counter wrap', async () => {
    const text = [
      '序号\t传输方向\t时间标识\t帧ID\t帧格式\t帧类型\t数据长度\t数据',
      '0\t接收\t0xfffffff0\t0x123\t数据帧\t标准帧\t0x02\t01\t02\t',
      '1\t发送\t0x00000010\t0x18ff50e5\t数据帧\t扩展帧\t0x08\t00\t01\t02\t03\t04\t05\t06\t07\t',
      '2\t接收\t0x00000020\t0x7ff\t远程帧\t标准帧\t0x04\t',
      '3\t接收\t0x00000030\t0x123\t数据帧\t标准帧\t0x03\t01\t02',
      '4\t接收\tbad\t0x123\t数据帧\t标准帧\t0x01\t01',
    ].join('\r\n');
    const { reader, frames } = await readText(text);
    expect(reader.format).toBe('zlg');
    expect(frames.map((f) => [f.timestamp, f.id, f.extended, f.remote, f.tx, f.dlc, hex(f.data)])).toEqual([
      [0, 0x123, false, false, false, 2, '0102'],
      [expect.closeTo(0.0032, 9), 0x18ff50e5, true, false, true, 8, '0001020304050607'],
      [expect.closeTo(0.0048, 9), 0x7ff, false, true, false, 4, ''],
    ]);
    expect(reader.warnings.map((w) => [w.code, w.line])).toEqual([
      ['MALFORMED_LINE', 5],
      ['MALFORMED_LINE', 6],
    ]);
  });

  it('reads GBK bytes (header 序号…, rows 接收) and a channel column', async () => {
    // "序号 传输方向 时间标识 CAN通道 帧ID 帧格式 帧类型 数据长度 数据" and one row, GBK-encoded.
    const gbk = Buffer.concat([
      Buffer.from('d0f2bac520b4abcae4b7bdcff220cab1bce4b1eacab62043414ecda8b5c020d6a14944', 'hex'),
      Buffer.from(' ', 'latin1'),
      Buffer.from('d6a1b8f1cabd20d6a1c0e0d0cd20cafdbeddb3a4b6c820cafdbedd0d0a', 'hex'),
      Buffer.from('0 ', 'latin1'),
      Buffer.from('bdd3cad5', 'hex'),
      Buffer.from(' 0x00000064 1 0x18ff50e5 ', 'latin1'),
      Buffer.from('cafdbeddd6a1', 'hex'),
      Buffer.from(' ', 'latin1'),
      Buffer.from('c0a9d5b9d6a1', 'hex'),
      Buffer.from(' 0x01 aa\r\n', 'latin1'),
    ]);
    const { reader, frames } = await readText(gbk);
    expect(reader.format).toBe('zlg');
    expect(reader.encoding).toBe('gbk');
    expect(reader.warnings).toEqual([]);
    expect(frames.map((f) => [f.id, f.extended, f.channel, hex(f.data)])).toEqual([
      [0x18ff50e5, true, 2, 'aa'],
    ]);
  });
});
