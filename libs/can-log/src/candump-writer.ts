/** candump `-L` writer: `(1703560121.247259) can0 1826F456#010100`. */
import type { WriteTarget } from './byte-sink';
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';
import { hexBytes } from './frame-input';
import { startTextWriter, TextLogWriter } from './text-writer';

/** Options of {@link createCandumpWriter}. */
export interface CandumpWriterOptions {
  /** Epoch seconds added to every timestamp (default 0). */
  startEpochSeconds?: number;
  /** Append ` T` / ` R` after each data frame (python-can style; plain `candump -L` has none). Default false. */
  writeDirection?: boolean;
  /** Interface name for a channel (default `can${channel - 1}`, channel 0 → `can0`). */
  interfaceName?: (channel: number) => string;
}

class CandumpWriter extends TextLogWriter {
  private readonly names = new Map<number, string>();
  constructor(
    sink: ConstructorParameters<typeof TextLogWriter>[0],
    private readonly options: CandumpWriterOptions,
  ) {
    super(sink);
  }
  protected preamble(): string {
    return '';
  }
  protected epilogue(): string {
    return '';
  }
  protected formatRow(b: FrameBatch, i: number): string {
    const f = b.flags[i];
    const t = (this.options.startEpochSeconds ?? 0) + b.timestamps[i];
    const iface = this.iface(b.channels[i]);
    let id: string;
    if (f & FrameFlag.Error) id = ((b.ids[i] | 0x20000000) >>> 0).toString(16).toUpperCase().padStart(8, '0');
    else if (f & FrameFlag.Extended) id = b.ids[i].toString(16).toUpperCase().padStart(8, '0');
    else id = (b.ids[i] & 0x7ff).toString(16).toUpperCase().padStart(3, '0');
    const len = b.lengths[i];
    const data = hexBytes(b.data, i * MAX_PAYLOAD, len, '');
    let body: string;
    if (f & FrameFlag.Fd && !(f & FrameFlag.Error)) {
      body = `##${((f & FrameFlag.Brs ? 1 : 0) | (f & FrameFlag.Esi ? 2 : 0)).toString(16).toUpperCase()}${data}`;
    } else if (f & FrameFlag.Remote) {
      const dlc = b.dlcs[i];
      body = dlc > 0 ? `#R${Math.min(dlc, 15).toString(16).toUpperCase()}` : '#R';
    } else {
      body = `#${data}`;
      if (len === 8 && b.dlcs[i] > 8 && b.dlcs[i] <= 15) body += `_${b.dlcs[i].toString(16).toUpperCase()}`;
    }
    const dir = this.options.writeDirection && !(f & FrameFlag.Error) ? (f & FrameFlag.Tx ? ' T' : ' R') : '';
    return `(${t.toFixed(6)}) ${iface} ${id}${body}${dir}\n`;
  }
  private iface(ch: number): string {
    let n = this.names.get(ch);
    if (n === undefined) {
      n = this.options.interfaceName ? this.options.interfaceName(ch) : `can${Math.max(0, ch - 1)}`;
      this.names.set(ch, n);
    }
    return n;
  }
}

/** Creates a candump `-L` writer on a path or sink. */
export async function createCandumpWriter(
  target: WriteTarget,
  options: CandumpWriterOptions = {},
): Promise<TextLogWriter> {
  return startTextWriter(target, (sink) => new CandumpWriter(sink, options));
}
