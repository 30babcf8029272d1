/** CSV writer: one frame per row, hex payload. */
import type { WriteTarget } from './byte-sink';
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';
import { hexBytes } from './frame-input';
import { startTextWriter, TextLogWriter } from './text-writer';

/** Options of {@link createCsvWriter}. */
export interface CsvWriterOptions {
  /** Field separator (default `,`). */
  separator?: string;
  /** Timestamp decimals (default 6). */
  timestampDecimals?: number;
}

/** Column names of the CSV output. */
export const CSV_COLUMNS = [
  'timestamp',
  'channel',
  'id',
  'extended',
  'direction',
  'remote',
  'error',
  'fd',
  'brs',
  'esi',
  'dlc',
  'length',
  'data',
] as const;

class CsvWriter extends TextLogWriter {
  private readonly sep: string;
  private readonly decimals: number;
  constructor(sink: ConstructorParameters<typeof TextLogWriter>[0], options: CsvWriterOptions) {
    super(sink);
    this.sep = options.separator ?? ',';
    this.decimals = options.timestampDecimals ?? 6;
  }
  protected preamble(): string {
    return CSV_COLUMNS.join(this.sep) + '\n';
  }
  protected epilogue(): string {
    return '';
  }
  protected formatRow(b: FrameBatch, i: number): string {
    const f = b.flags[i];
    const bit = (m: number) => (f & m ? '1' : '0');
    const s = this.sep;
    const ext = (f & FrameFlag.Extended) !== 0;
    const id =
      '0x' +
      b.ids[i]
        .toString(16)
        .toUpperCase()
        .padStart(ext ? 8 : 3, '0');
    return (
      b.timestamps[i].toFixed(this.decimals) +
      s +
      b.channels[i] +
      s +
      id +
      s +
      bit(FrameFlag.Extended) +
      s +
      (f & FrameFlag.Tx ? 'Tx' : 'Rx') +
      s +
      bit(FrameFlag.Remote) +
      s +
      bit(FrameFlag.Error) +
      s +
      bit(FrameFlag.Fd) +
      s +
      bit(FrameFlag.Brs) +
      s +
      bit(FrameFlag.Esi) +
      s +
      b.dlcs[i] +
      s +
      b.lengths[i] +
      s +
      hexBytes(b.data, i * MAX_PAYLOAD, b.lengths[i], '') +
      '\n'
    );
  }
}

/** Creates a CSV writer on a path or sink (columns: {@link CSV_COLUMNS}). */
export async function createCsvWriter(
  target: WriteTarget,
  options: CsvWriterOptions = {},
): Promise<TextLogWriter> {
  return startTextWriter(target, (sink) => new CsvWriter(sink, options));
}
