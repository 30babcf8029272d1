/** Vector ASC writer (`base hex  timestamps absolute`). */
import type { WriteTarget } from './byte-sink';
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';
import { hexBytes } from './frame-input';
import { startTextWriter, TextLogWriter } from './text-writer';

/** Options of {@link createAscWriter}. */
export interface AscWriterOptions {
  /** Absolute measurement start (UTC fields are written); default: the Unix epoch. */
  measurementStart?: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Formats a date the way CANoe writes it: `Thu Apr 08 01:50:21.102 pm 2021` (UTC fields). */
export function formatAscDate(d: Date): string {
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ` +
    `${p2(h12)}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')} ` +
    `${h < 12 ? 'am' : 'pm'} ${d.getUTCFullYear()}`
  );
}

class AscWriter extends TextLogWriter {
  constructor(
    sink: ConstructorParameters<typeof TextLogWriter>[0],
    private readonly options: AscWriterOptions,
  ) {
    super(sink);
  }

  protected preamble(): string {
    const date = formatAscDate(this.options.measurementStart ?? new Date(0));
    return (
      `date ${date}\nbase hex  timestamps absolute\ninternal events logged\n// version 9.0.0\n` +
      `Begin Triggerblock ${date}\n   0.000000 Start of measurement\n`
    );
  }

  protected epilogue(): string {
    return 'End TriggerBlock\n';
  }

  protected formatRow(b: FrameBatch, i: number): string {
    const f = b.flags[i];
    const ts = b.timestamps[i].toFixed(6).padStart(11, ' ');
    const ch = b.channels[i];
    const dir = f & FrameFlag.Tx ? 'Tx' : 'Rx';
    const id = b.ids[i].toString(16).toUpperCase() + (f & FrameFlag.Extended ? 'x' : '');
    const len = b.lengths[i];
    const data = hexBytes(b.data, i * MAX_PAYLOAD, len, ' ');
    if (f & FrameFlag.Error) {
      return f & FrameFlag.Fd
        ? `${ts} CANFD ${String(ch).padStart(3)} ${dir}   ErrorFrame\n`
        : `${ts} ${ch}  ErrorFrame\n`;
    }
    if (f & FrameFlag.Fd) {
      let flags = 0x1000;
      if (f & FrameFlag.Brs) flags |= 0x2000;
      if (f & FrameFlag.Esi) flags |= 0x4000;
      if (f & FrameFlag.Remote) flags |= 0x10;
      return (
        `${ts} CANFD ${String(ch).padStart(3)} ${dir.padEnd(4)} ${id.padStart(8)} ` +
        `${f & FrameFlag.Brs ? 1 : 0} ${f & FrameFlag.Esi ? 1 : 0} ${(b.dlcs[i] & 15).toString(16)} ${String(len).padStart(2)} ` +
        `${data}${len > 0 ? ' ' : ''}       0    0 ${flags.toString(16).toUpperCase().padStart(8)}        0        0        0        0        0\n`
      );
    }
    const dlc = Math.min(b.dlcs[i], 15).toString(16);
    if (f & FrameFlag.Remote) return `${ts} ${ch}  ${id.padEnd(15)} ${dir.padEnd(4)} r ${dlc}\n`;
    return `${ts} ${ch}  ${id.padEnd(15)} ${dir.padEnd(4)} d ${dlc}${len > 0 ? ' ' : ''}${data}\n`;
  }
}

/** Creates a Vector ASC writer on a path or sink. */
export async function createAscWriter(
  target: WriteTarget,
  options: AscWriterOptions = {},
): Promise<TextLogWriter> {
  return startTextWriter(target, (sink) => new AscWriter(sink, options));
}
