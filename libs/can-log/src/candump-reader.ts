/**
 * Line parser for `candump -L` logs: `(1703560121.247259) can0 1826F456#010100`.
 *
 * Supported: 3-digit standard and 8-digit extended ids, `#R` remote frames (optionally
 * with a DLC digit), `##<flags><data>` CAN FD frames, `_<dlc>` len8_dlc suffixes, error
 * frames (8-digit ids with CAN_ERR_FLAG 0x20000000) and an optional trailing `R`/`T`
 * direction. Timestamps become seconds since the first frame; the first frame's epoch
 * time is the measurement start. Interfaces are numbered 1, 2, … in order of appearance.
 */
import { lengthToFdDlc } from './blf-constants';
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';
import { parseHexStrict, type LineParser, type TextContext } from './text-frame-source';

const LINE = /^\((\d{1,12})(?:\.(\d{1,9}))?\)\s+(\S+)\s+([0-9A-Fa-f]{1,8})(#{1,3})(\S*)(?:\s+([RT]))?$/;
const CAN_ERR_FLAG = 0x20000000;
/** Most distinct interface names tracked; later ones get channel 0. */
const MAX_INTERFACES = 1024;

/** Parses `candump -L` lines. */
export class CandumpLineParser implements LineParser {
  /** 1-based channel number → interface name. */
  readonly channelNames = new Map<number, string>();
  private readonly channels = new Map<string, number>();
  private baseSeconds: number | undefined;
  private baseFraction = 0;

  constructor(private readonly ctx: TextContext) {}

  parseLine(raw: string, lineNo: number, batch: FrameBatch): void {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) {
      this.ctx.warnings.add('MALFORMED_LINE', 'not a candump -L frame', { line: lineNo });
      return;
    }
    const [, secStr, fracStr, iface, idStr, hashes, payload, dir] = m;
    if (hashes.length === 3) {
      this.ctx.stats.countNamed('CAN_XL');
      this.ctx.warnings.add('UNSUPPORTED_FRAME', 'CAN XL frames are not supported; skipped', {
        line: lineNo,
      });
      return;
    }
    const rawId = parseHexStrict(idStr);
    let flags = 0;
    let id: number;
    if (idStr.length > 3) {
      if (rawId & CAN_ERR_FLAG) flags |= FrameFlag.Error;
      else flags |= FrameFlag.Extended;
      id = rawId & 0x1fffffff;
    } else {
      if (rawId > 0x7ff) {
        this.ctx.warnings.add('MALFORMED_LINE', `standard id ${idStr} out of range`, { line: lineNo });
        return;
      }
      id = rawId;
    }
    if (dir === 'T') flags |= FrameFlag.Tx;
    const row = batch.length;
    const o = row * MAX_PAYLOAD;
    let length = 0;
    let dlc: number;
    if (hashes.length === 2) {
      // CAN FD: one hex digit of flags (BRS 1, ESI 2, FDF 4), then the data.
      const f = parseHexStrict(payload.slice(0, 1));
      const n = this.parseData(payload, 1, payload.length, batch.data, o, 64);
      if (f < 0 || n < 0) {
        this.ctx.warnings.add('MALFORMED_LINE', 'bad CAN FD payload', { line: lineNo });
        return;
      }
      flags |= FrameFlag.Fd;
      if (f & 1) flags |= FrameFlag.Brs;
      if (f & 2) flags |= FrameFlag.Esi;
      length = n;
      dlc = lengthToFdDlc(n);
      if (length !== 0 && length !== [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64][dlc]) {
        this.ctx.warnings.add('MALFORMED_LINE', `CAN FD payload of ${n} bytes is not a valid length`, {
          line: lineNo,
        });
        return;
      }
    } else if (payload.length > 0 && (payload[0] === 'R' || payload[0] === 'r')) {
      flags |= FrameFlag.Remote;
      dlc = payload.length > 1 ? parseHexStrict(payload.slice(1)) : 0;
      if (dlc < 0 || dlc > 15) {
        this.ctx.warnings.add('MALFORMED_LINE', 'bad remote frame DLC', { line: lineNo });
        return;
      }
    } else {
      const us = payload.indexOf('_');
      const dataEnd = us >= 0 ? us : payload.length;
      const n = this.parseData(payload, 0, dataEnd, batch.data, o, 8);
      if (n < 0) {
        this.ctx.warnings.add('MALFORMED_LINE', 'bad data bytes', { line: lineNo });
        return;
      }
      length = n;
      dlc = n;
      if (us >= 0) {
        const d = parseHexStrict(payload.slice(us + 1));
        if (n !== 8 || d < 9 || d > 15) {
          this.ctx.warnings.add('MALFORMED_LINE', 'bad len8_dlc suffix', { line: lineNo });
          return;
        }
        dlc = d;
      }
    }
    const sec = Number(secStr);
    const frac = fracStr ? Number('0.' + fracStr) : 0;
    if (this.baseSeconds === undefined) {
      this.baseSeconds = sec;
      this.baseFraction = frac;
      this.ctx.stats.startTime = new Date(sec * 1000 + frac * 1000);
    }
    batch.timestamps[row] = sec - this.baseSeconds + (frac - this.baseFraction);
    batch.ids[row] = id;
    batch.flags[row] = flags;
    batch.channels[row] = this.channelOf(iface, lineNo);
    batch.dlcs[row] = dlc;
    batch.lengths[row] = length;
    batch.length = row + 1;
    this.ctx.stats.countNamed(
      (flags & FrameFlag.Error) !== 0 ? 'ERROR_FRAME' : flags & FrameFlag.Fd ? 'CAN_FD' : 'CAN',
    );
  }

  /** Writes hex pairs (dots allowed between bytes) into `out`; returns the count or -1. */
  private parseData(s: string, from: number, to: number, out: Uint8Array, o: number, max: number): number {
    let n = 0;
    let i = from;
    while (i < to) {
      if (s.charCodeAt(i) === 46) {
        i++;
        continue;
      }
      if (i + 1 >= to || n >= max) return -1;
      const v = parseHexStrict(s.slice(i, i + 2));
      if (v < 0) return -1;
      out[o + n++] = v;
      i += 2;
    }
    return n;
  }

  private channelOf(name: string, lineNo: number): number {
    let ch = this.channels.get(name);
    if (ch === undefined) {
      if (this.channels.size >= MAX_INTERFACES) {
        this.ctx.warnings.add(
          'TOO_MANY_CHANNELS',
          `more than ${MAX_INTERFACES} interfaces; ${name} gets channel 0`,
          {
            line: lineNo,
          },
        );
        return 0;
      }
      ch = this.channels.size + 1;
      this.channels.set(name, ch);
      this.channelNames.set(ch, name);
    }
    return ch;
  }
}
