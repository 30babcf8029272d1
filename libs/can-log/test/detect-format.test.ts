/** Content-based format detection. */
import { detectFormat } from '@charge/can-log';
import { readFileSync } from 'node:fs';
import { sharedPath } from './shared-data';

const head = (file: string) => readFileSync(sharedPath(file)).subarray(0, 8192);

describe('detectFormat', () => {
  it.each([
    ['blf/third_party/canview_sample.blf', 'blf'],
    ['gbt/orange-gi_charge_Log_001.blf', 'blf'],
    ['gbt/sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log', 'candump'],
    ['gbt/hybtalented_gbt27930_222222.utf8.txt', 'zlg'],
    ['blf/vector_blf/events_from_converter/sources/test_CanMessage.asc', 'asc'],
    ['blf/vector_blf/events_from_converter/sources/test_CanErrorFrame.asc', 'asc'],
    ['blf/vector_blf/events_from_converter/sources/test_GlobalMarker.asc', 'asc'],
  ])('%s → %s', (file, format) => {
    expect(detectFormat(head(file))).toBe(format);
  });

  it('recognises short inline samples regardless of any extension', () => {
    const t = (s: string) => detectFormat(Buffer.from(s, 'utf8'));
    expect(t('(1.0) can0 123#DEADBEEF\n')).toBe('candump');
    expect(t('\uFEFF(1703560121.247259) vcan0 12345678##1\n')).toBe('candump');
    expect(t('date Thu Apr 08 01:50:21.102 pm 2021\nbase hex  timestamps absolute\n')).toBe('asc');
    expect(t('   1.000000 CANFD   1 Rx 100 1 0 9 12 00\n')).toBe('asc');
    expect(t('序号\t传输方向\t时间标识\t帧ID\n')).toBe('zlg');
    expect(t('12   接收   0x0013f296   0x1cec56f4   数据帧   扩展帧   0x08   10 29\n')).toBe('zlg');
    expect(detectFormat(Buffer.from('bdd3cad520307830', 'hex'))).toBe('zlg'); // "接收 0x0" in GBK
  });

  it('returns undefined for anything else', () => {
    expect(detectFormat(new Uint8Array(0))).toBeUndefined();
    expect(detectFormat(Buffer.from('LOG'))).toBeUndefined();
    expect(detectFormat(Buffer.from('PK\u0003\u0004 zip'))).toBeUndefined();
    expect(detectFormat(Buffer.from('just some\ntext file\n'))).toBeUndefined();
    expect(detectFormat(Uint8Array.from([0x4c, 0x4f, 0x42, 0x4a, 0, 0, 0]))).toBeUndefined();
  });
});
