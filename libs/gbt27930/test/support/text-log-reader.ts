/**
 * Minimal candump -L and ZLG CANTest readers for the real GB/T logs, used by these tests
 * until/alongside can-log's readers. Timestamps are seconds since the first frame; the
 * candump epoch of the first frame is returned as the time origin.
 */
import * as fs from 'node:fs';
import { FrameFlag } from '@charge/can-log';
import type { TestFrame } from './frame-builder';

/** Frames of a candump `-L` or ZLG export, plus the absolute time of t = 0 (ms, candump only). */
export function readTextLog(file: string): { frames: TestFrame[]; originMs: number; absolute: number } {
  const text = fs.readFileSync(file, 'utf8');
  const frames: TestFrame[] = [];
  let first = Number.NaN;
  for (const line of text.split(/\r?\n/)) {
    const m = /^\((\d+\.\d+)\)\s+\S+\s+([0-9A-Fa-f]+)#([0-9A-Fa-f]*)/.exec(line);
    if (m) {
      const t = Number(m[1]);
      if (first !== first) first = t;
      const id = parseInt(m[2], 16);
      frames.push({
        t: t - first,
        id,
        data: hexBytes(m[3]),
        flags: m[2].length > 3 ? FrameFlag.Extended : 0,
      });
      continue;
    }
    const z = line.trim().split(/\s+/);
    if (z.length >= 7 && /^\d+$/.test(z[0]) && z[2].startsWith('0x')) {
      const t = parseInt(z[2], 16) / 10000;
      if (first !== first) first = t;
      const len = parseInt(z[6], 16);
      frames.push({
        t: t - first,
        id: parseInt(z[3], 16),
        data: z.slice(7, 7 + len).map((h) => parseInt(h, 16)),
        flags: z[5] === '扩展帧' ? FrameFlag.Extended : 0,
      });
    }
  }
  const isCandump = text.startsWith('(');
  return { frames, originMs: isCandump ? first * 1000 : 0, absolute: first };
}

function hexBytes(h: string): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < h.length; i += 2) out.push(parseInt(h.slice(i, i + 2), 16));
  return out;
}
