/**
 * Line parser for Vector ASCII logs (`.asc`).
 *
 * Header lines: `date …`, `base hex|dec  timestamps absolute|relative`,
 * `[no] internal events logged`, `// …`, `Begin Triggerblock …`, `End TriggerBlock`.
 * Events: classic CAN (`1.0 1 123x Rx d 8 …`, `r [dlc]` remote), CAN FD
 * (`1.0 CANFD 1 Rx 123 [name] brs esi dlc len data… [duration bits flags …]`), error
 * frames (`1.0 1 ErrorFrame`, `1.0 CANFD 1 Rx ErrorFrame`). Other events (statistics,
 * comments, markers, LIN, …) are counted and skipped.
 */
import { FD_DLC_TO_LENGTH } from './blf-constants';
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';
import { parseDecStrict, parseHexStrict, type LineParser, type TextContext } from './text-frame-source';

const TIMESTAMP = /^\d+(?:\.\d*)?$/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Parses an ASC date such as `Thu Apr 08 01:50:21.102 pm 2021` or `Wed Jan 1 13:00:00 2020`
 * (English month names). The time has no zone: it is read as UTC, like BLF SYSTEMTIME.
 */
export function parseAscDate(text: string): Date | undefined {
  const t = text.trim().split(/\s+/);
  // [weekday] month day time [am|pm] year
  let i = 0;
  if (t.length >= 5 && MONTHS.indexOf(t[0].slice(0, 3).toLowerCase()) < 0) i = 1;
  const month = MONTHS.indexOf((t[i] ?? '').slice(0, 3).toLowerCase());
  const day = Number(t[i + 1]);
  const time = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(t[i + 2] ?? '');
  if (month < 0 || !Number.isInteger(day) || !time) return undefined;
  let j = i + 3;
  let hour = Number(time[1]);
  const ampm = (t[j] ?? '').toLowerCase();
  if (ampm === 'am' || ampm === 'pm') {
    if (ampm === 'pm' && hour < 12) hour += 12;
    if (ampm === 'am' && hour === 12) hour = 0;
    j++;
  }
  const year = Number(t[j]);
  if (!Number.isInteger(year) || year < 1970 || year > 9999) return undefined;
  const ms = time[4] ? Math.floor(Number('0.' + time[4]) * 1000) : 0;
  const d = new Date(Date.UTC(year, month, day, hour, Number(time[2]), Number(time[3]), ms));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Parses Vector ASC lines. */
export class AscLineParser implements LineParser {
  private hex = true;
  private relative = false;
  private last = 0;

  constructor(private readonly ctx: TextContext) {}

  parseLine(raw: string, lineNo: number, batch: FrameBatch): void {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('//')) return;
    const t = line.split(/\s+/);
    const first = t[0];
    if (!TIMESTAMP.test(first)) {
      this.header(line, t, lineNo);
      return;
    }
    let ts = Number(first);
    if (this.relative) {
      ts += this.last;
    }
    this.last = ts;
    const kind = t[1];
    if (kind === 'CANFD') {
      this.canFd(t, ts, lineNo, batch);
      return;
    }
    const ch = parseDecStrict(kind ?? '');
    if (ch < 0 || t.length < 3) {
      this.ctx.stats.countNamed(kind === undefined ? 'EMPTY_EVENT' : kind.replace(/:$/, ''));
      return;
    }
    if (t[2] === 'ErrorFrame') {
      this.row(batch, ts, 0, FrameFlag.Error, ch, 0, 0);
      this.ctx.stats.countNamed('ERROR_FRAME');
      return;
    }
    const dirTok = t[3];
    if (dirTok !== 'Rx' && dirTok !== 'Tx' && dirTok !== 'TxRq') {
      // Statistics, status, J1939TP, … lines.
      this.ctx.stats.countNamed(t[2].replace(/:$/, ''));
      return;
    }
    const idParsed = this.id(t[2]);
    if (idParsed < 0) {
      this.ctx.warnings.add('MALFORMED_LINE', `bad CAN id ${t[2]}`, { line: lineNo });
      return;
    }
    let flags = t[2].endsWith('x') || t[2].endsWith('X') ? FrameFlag.Extended : 0;
    if (dirTok !== 'Rx') flags |= FrameFlag.Tx;
    const type = t[4];
    const row = batch.length;
    if (type === 'r' || type === 'R') {
      const dlc = t.length > 5 ? parseHexStrict(t[5]) : 0;
      this.row(batch, ts, idParsed, flags | FrameFlag.Remote, ch, dlc >= 0 && dlc <= 15 ? dlc : 0, 0);
      this.ctx.stats.countNamed('CAN');
      return;
    }
    if (type !== 'd' && type !== 'D') {
      this.ctx.warnings.add(
        'MALFORMED_LINE',
        `expected d or r after the direction, got ${type ?? 'nothing'}`,
        {
          line: lineNo,
        },
      );
      return;
    }
    const dlc = parseHexStrict(t[5] ?? '');
    if (dlc < 0 || dlc > 15) {
      this.ctx.warnings.add('MALFORMED_LINE', `bad DLC ${t[5] ?? ''}`, { line: lineNo });
      return;
    }
    const n = dlc < 8 ? dlc : 8;
    if (t.length < 6 + n || !this.bytes(t, 6, n, batch.data, row * MAX_PAYLOAD)) {
      this.ctx.warnings.add('MALFORMED_LINE', `expected ${n} data bytes`, { line: lineNo });
      return;
    }
    this.row(batch, ts, idParsed, flags, ch, dlc, n);
    this.ctx.stats.countNamed('CAN');
  }

  private canFd(t: string[], ts: number, lineNo: number, batch: FrameBatch): void {
    const ch = parseDecStrict(t[2] ?? '');
    const dirTok = t[3];
    if (ch < 0 || (dirTok !== 'Rx' && dirTok !== 'Tx')) {
      this.ctx.warnings.add('MALFORMED_LINE', 'bad CANFD channel or direction', { line: lineNo });
      return;
    }
    const txFlag = dirTok === 'Tx' ? FrameFlag.Tx : 0;
    if (t[4] === 'ErrorFrame') {
      this.row(batch, ts, 0, FrameFlag.Error | FrameFlag.Fd | txFlag, ch, 0, 0);
      this.ctx.stats.countNamed('ERROR_FRAME');
      return;
    }
    const id = this.id(t[4] ?? '');
    if (id < 0) {
      this.ctx.warnings.add('MALFORMED_LINE', `bad CAN id ${t[4] ?? ''}`, { line: lineNo });
      return;
    }
    let flags = txFlag | (t[4].endsWith('x') || t[4].endsWith('X') ? FrameFlag.Extended : 0);
    // An optional symbolic name sits between the id and the BRS/ESI digits.
    let k = 5;
    if (!(isBit(t[5]) && isBit(t[6]))) k = 6;
    if (!isBit(t[k]) || !isBit(t[k + 1])) {
      this.ctx.warnings.add('MALFORMED_LINE', 'bad CANFD BRS/ESI fields', { line: lineNo });
      return;
    }
    const brs = t[k] === '1';
    const esi = t[k + 1] === '1';
    const dlc = parseHexStrict(t[k + 2] ?? '');
    const len = parseDecStrict(t[k + 3] ?? '');
    if (dlc < 0 || dlc > 15 || len < 0 || len > 64) {
      this.ctx.warnings.add('MALFORMED_LINE', 'bad CANFD DLC or data length', { line: lineNo });
      return;
    }
    const row = batch.length;
    if (t.length < k + 4 + len || !this.bytes(t, k + 4, len, batch.data, row * MAX_PAYLOAD)) {
      this.ctx.warnings.add('MALFORMED_LINE', `expected ${len} data bytes`, { line: lineNo });
      return;
    }
    // Trailing fields: duration, bit count, flags (hex; EDL 0x1000, BRS 0x2000, ESI 0x4000, remote 0x10).
    const f = t.length > k + 6 + len ? parseHexStrict(t[k + 6 + len]) : -1;
    const isFd = f < 0 ? true : (f & 0x1000) !== 0;
    if (isFd) flags |= FrameFlag.Fd;
    if (brs) flags |= FrameFlag.Brs;
    if (esi) flags |= FrameFlag.Esi;
    if (len === 0 && (f < 0 || (f & 0x10) !== 0) && FD_DLC_TO_LENGTH[dlc] !== 0) flags |= FrameFlag.Remote;
    this.row(batch, ts, id, flags, ch, dlc, len);
    this.ctx.stats.countNamed(isFd ? 'CAN_FD' : 'CAN');
  }

  private header(line: string, t: string[], lineNo: number): void {
    const key = t[0].toLowerCase();
    if (key === 'date') {
      this.ctx.stats.startTime ??= parseAscDate(line.slice(4));
    } else if (key === 'base') {
      this.hex = (t[1] ?? 'hex').toLowerCase() !== 'dec';
      const i = t.indexOf('timestamps');
      if (i >= 0) this.relative = (t[i + 1] ?? '').toLowerCase() === 'relative';
    } else if (key === 'begin') {
      const d = parseAscDate(t.slice(2).join(' '));
      if (d) this.ctx.stats.startTime = d;
      this.last = 0;
    } else if (key === 'end' || key === 'internal' || key === 'no' || key === 'start') {
      // nothing to do
    } else {
      this.ctx.warnings.add('UNRECOGNIZED_LINE', 'line is neither a header nor an event', { line: lineNo });
    }
  }

  private id(s: string): number {
    const body = s.endsWith('x') || s.endsWith('X') ? s.slice(0, -1) : s;
    const v = this.hex ? parseHexStrict(body) : parseDecStrict(body);
    return v > 0x1fffffff ? -1 : v;
  }

  private bytes(t: string[], from: number, n: number, out: Uint8Array, o: number): boolean {
    for (let i = 0; i < n; i++) {
      const s = t[from + i];
      const v = this.hex ? (s.length <= 2 ? parseHexStrict(s) : -1) : parseDecStrict(s);
      if (v < 0 || v > 255) return false;
      out[o + i] = v;
    }
    return true;
  }

  private row(
    batch: FrameBatch,
    ts: number,
    id: number,
    flags: number,
    ch: number,
    dlc: number,
    len: number,
  ): void {
    const r = batch.length;
    batch.timestamps[r] = ts;
    batch.ids[r] = id;
    batch.flags[r] = flags;
    batch.channels[r] = ch > 65535 ? 0 : ch;
    batch.dlcs[r] = dlc;
    batch.lengths[r] = len;
    batch.length = r + 1;
  }
}

function isBit(s: string | undefined): boolean {
  return s === '0' || s === '1';
}
