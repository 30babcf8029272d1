/**
 * Line parser for ZLG CANTest text exports (GBK or UTF-8), e.g.
 *
 * ```
 * 序号  传输方向  时间标识    帧ID        帧格式  帧类型  数据长度  数据
 * 0     接收      0x00138d78  0x1801f456  数据帧  扩展帧  0x08      00 ff ff ff ff ff ff ff
 * ```
 *
 * Columns are located from the header line (default order as above). The time column is a
 * hex counter in 0.1 ms units (wrapping at 2^32) or a wall-clock `hh:mm:ss.fff`; timestamps
 * become seconds since the first frame. An optional channel column (`CAN通道`/`通道`) gives
 * the channel; otherwise it is 0 (unknown).
 */
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';
import { parseDecStrict, parseHexStrict, type LineParser, type TextContext } from './text-frame-source';

type Column = 'index' | 'dir' | 'time' | 'id' | 'format' | 'type' | 'dlc' | 'data' | 'channel';

const DEFAULT_COLUMNS: Column[] = ['index', 'dir', 'time', 'id', 'format', 'type', 'dlc', 'data'];

function columnOf(name: string): Column | undefined {
  if (name === '序号' || /^index$/i.test(name)) return 'index';
  if (name.includes('方向') || /^dir/i.test(name)) return 'dir';
  if (name.includes('时间') || /^time/i.test(name)) return 'time';
  if (name.includes('通道') || /^chan/i.test(name)) return 'channel';
  if (name === '帧ID' || /^id$/i.test(name) || name.endsWith('ID')) return 'id';
  if (name === '帧格式' || /^format$/i.test(name)) return 'format';
  if (name === '帧类型' || /^type$/i.test(name)) return 'type';
  if (name.includes('长度') || /^(dlc|len(gth)?)$/i.test(name)) return 'dlc';
  if (name === '数据' || /^data$/i.test(name)) return 'data';
  return undefined;
}

/** Parses ZLG CANTest export lines. */
export class ZlgLineParser implements LineParser {
  private columns: Column[] = DEFAULT_COLUMNS;
  private firstRaw: number | undefined;
  private prevRaw = 0;
  private elapsed = 0;
  private ticks = 0;
  private clock = false;

  constructor(private readonly ctx: TextContext) {}

  parseLine(raw: string, lineNo: number, batch: FrameBatch): void {
    const line = raw.trim().replace(/^\uFEFF/, '');
    if (line.length === 0) return;
    const t = line.split(/\s+/);
    if (parseDecStrict(t[0]) < 0 && !/^0x/i.test(t[0])) {
      const cols = t.map(columnOf);
      if (cols.includes('id') && cols.includes('data') && cols.every((c) => c !== undefined)) {
        this.columns = cols as Column[];
      } else {
        this.ctx.warnings.add('UNRECOGNIZED_LINE', 'line is neither the column header nor a frame', {
          line: lineNo,
        });
      }
      return;
    }
    const cols = this.columns;
    let rawTime: string | undefined;
    let idStr: string | undefined;
    let flags = 0;
    let channel = 0;
    let dlc = -1;
    let dataAt = -1;
    for (let c = 0; c < cols.length && c < t.length; c++) {
      const v = t[c];
      switch (cols[c]) {
        case 'dir':
          if (v === '发送' || /^tx$/i.test(v)) flags |= FrameFlag.Tx;
          break;
        case 'time':
          rawTime = v;
          break;
        case 'id':
          idStr = v;
          break;
        case 'format':
          if (v === '远程帧' || /^remote$/i.test(v)) flags |= FrameFlag.Remote;
          break;
        case 'type':
          if (v === '扩展帧' || /^ext/i.test(v)) flags |= FrameFlag.Extended;
          break;
        case 'dlc':
          dlc = /^0x/i.test(v) ? parseHexStrict(v.slice(2)) : parseDecStrict(v);
          break;
        case 'channel':
          channel = channelNumber(v);
          break;
        case 'data':
          dataAt = c;
          break;
        default:
          break;
      }
    }
    const id = idStr && /^0x/i.test(idStr) ? parseHexStrict(idStr.slice(2)) : parseHexStrict(idStr ?? '');
    if (id < 0 || id > 0x1fffffff || dlc < 0 || dlc > 15) {
      this.ctx.warnings.add('MALFORMED_LINE', 'bad frame id or data length', { line: lineNo });
      return;
    }
    if (!(flags & FrameFlag.Extended) && id > 0x7ff) flags |= FrameFlag.Extended;
    const row = batch.length;
    const o = row * MAX_PAYLOAD;
    const n = flags & FrameFlag.Remote ? 0 : Math.min(dlc, 8);
    if (n > 0 && (dataAt < 0 || t.length < dataAt + n)) {
      this.ctx.warnings.add('MALFORMED_LINE', `expected ${n} data bytes`, { line: lineNo });
      return;
    }
    for (let i = 0; i < n; i++) {
      const v = t[dataAt + i];
      const b = v.length <= 2 ? parseHexStrict(v) : -1;
      if (b < 0) {
        this.ctx.warnings.add('MALFORMED_LINE', `bad data byte ${v}`, { line: lineNo });
        return;
      }
      batch.data[o + i] = b;
    }
    const ts = this.time(rawTime);
    if (ts === undefined) {
      this.ctx.warnings.add('MALFORMED_LINE', `bad time ${rawTime ?? ''}`, { line: lineNo });
      return;
    }
    batch.timestamps[row] = ts;
    batch.ids[row] = id;
    batch.flags[row] = flags;
    batch.channels[row] = channel > 65535 ? 0 : channel;
    batch.dlcs[row] = dlc;
    batch.lengths[row] = n;
    batch.length = row + 1;
    this.ctx.stats.countNamed('CAN');
  }

  /** Seconds since the first frame for a time cell, undefined if unreadable. */
  private time(s: string | undefined): number | undefined {
    if (s === undefined || s === '无' || /^none$/i.test(s)) return this.elapsed;
    let raw: number;
    if (/^0x/i.test(s)) {
      raw = parseHexStrict(s.slice(2));
      if (raw < 0) return undefined;
      this.clock = false;
    } else {
      const m = /^(\d{1,2}):(\d{2}):(\d{2})(?:[.:](\d{1,6}))?$/.exec(s);
      if (!m) return undefined;
      const frac = m[4] ? Number('0.' + m[4]) : 0;
      raw = (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + frac) * 10000;
      this.clock = true;
    }
    if (this.firstRaw === undefined) {
      this.firstRaw = raw;
      this.prevRaw = raw;
      this.elapsed = 0;
      this.ticks = 0;
      return 0;
    }
    let delta: number;
    if (this.clock) {
      delta = raw - this.prevRaw;
      if (delta < -12 * 3600 * 10000) delta += 24 * 3600 * 10000; // past midnight
    } else {
      delta = (raw - this.prevRaw) >>> 0; // 32-bit counter wrap
      if (delta > 0x80000000) delta -= 4294967296; // a step backwards
    }
    this.prevRaw = raw;
    this.ticks += delta;
    this.elapsed = this.ticks / 10000;
    return this.elapsed;
  }
}

/** ZLG channel cells: a bare index counts from 0 ("0" → 1); a name such as "CAN1" keeps its number. */
function channelNumber(v: string): number {
  const bare = parseDecStrict(v);
  if (bare >= 0) return bare + 1;
  const m = /(\d{1,5})$/.exec(v);
  return m ? Number(m[1]) : 0;
}
