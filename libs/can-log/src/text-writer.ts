/** Buffered line output shared by the ASC, CSV and candump writers. */
import { toSink, type ByteSink, type WriteTarget } from './byte-sink';
import { CanLogError, toCanLogError } from './errors';
import type { FrameBatch } from './frame';
import { SingleRow, type FrameInput, type LogWriter } from './frame-input';

/** Base class: subclasses format rows as lines; output is flushed in ~64 KiB pieces. */
export abstract class TextLogWriter implements LogWriter {
  framesWritten = 0;
  private pending = '';
  private closed = false;
  private readonly single = new SingleRow();

  constructor(protected readonly sink: ByteSink) {}

  /** Lines before the first frame. */
  protected abstract preamble(): string;
  /** Lines after the last frame. */
  protected abstract epilogue(): string;
  /** The line(s) for row `i`, newline included. */
  protected abstract formatRow(b: FrameBatch, i: number): string;

  /** Writes the preamble. */
  async start(): Promise<void> {
    this.pending += this.preamble();
  }

  async writeFrame(frame: FrameInput): Promise<void> {
    await this.writeBatch(this.single.load(frame));
  }

  async writeBatch(b: FrameBatch): Promise<void> {
    if (this.closed) throw new CanLogError('INVALID_ARGUMENT', 'the writer is closed');
    for (let i = 0; i < b.length; i++) {
      const ts = b.timestamps[i];
      if (!Number.isFinite(ts) || ts < 0)
        throw new CanLogError('INVALID_ARGUMENT', `timestamp ${ts} is not ≥ 0`);
      this.pending += this.formatRow(b, i);
      this.framesWritten++;
      if (this.pending.length >= 65536) await this.flush();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.pending += this.epilogue();
      await this.flush();
    } catch (e) {
      throw toCanLogError(e);
    } finally {
      await this.sink.close();
    }
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    await this.sink.write(bytes);
  }
}

/** Opens the sink and writes the preamble of a text writer. */
export async function startTextWriter<W extends TextLogWriter>(
  target: WriteTarget,
  make: (sink: ByteSink) => W,
): Promise<W> {
  const w = make(await toSink(target));
  await w.start();
  return w;
}
