/** The single entry point: detect the format of a log and open a streaming reader for it. */
import { AscLineParser } from './asc-reader';
import type { BlfHeader } from './blf-header';
import { BlfFrameSource, type BlfReadOptions } from './blf-reader';
import { prepareSource, type LogSource } from './byte-source';
import { CandumpLineParser } from './candump-reader';
import { detectFormat, type LogFormat } from './detect-format';
import { CanLogError, toCanLogError } from './errors';
import { toFrame, type CanFrame, type FrameBatch, type ReadWarning } from './frame';
import type { LogStats } from './log-stats';
import { TextFrameSource, type TextContext, type TextReadOptions } from './text-frame-source';
import { ZlgLineParser } from './zlg-reader';

/** Options of {@link openLog}: stream options plus the BLF limits and text options. */
export interface OpenLogOptions extends BlfReadOptions, TextReadOptions {
  /** Skip detection and read as this format. */
  format?: LogFormat;
}

/** A single-pass streaming reader of one log. */
export interface LogReader {
  /** The detected (or forced) format. */
  readonly format: LogFormat;
  /** The file path, or `<memory>` / `<stream>`. */
  readonly name: string;
  /** BLF file header (undefined for text formats). */
  readonly blfHeader: BlfHeader | undefined;
  /** Text encoding used (undefined for BLF). */
  readonly encoding: string | undefined;
  /** Warnings so far (bounded by `maxWarnings`; `stats.warningCount` has the full count). */
  readonly warnings: ReadWarning[];
  /** Statistics so far; complete once iteration has finished. */
  readonly stats: LogStats;
  /** Channel number → interface name (candump logs; empty otherwise). */
  readonly channelNames: ReadonlyMap<number, string>;
  /**
   * Streams frames in file order as reused struct-of-arrays batches (valid until the next
   * step). Iterate once. Throws only {@link CanLogError}.
   */
  batches(): AsyncIterable<FrameBatch>;
  /** Convenience: one allocated {@link CanFrame} per frame. Shares the single pass with `batches()`. */
  frames(): AsyncIterable<CanFrame>;
}

/** Everything `info` shows about a log: stats, header, warnings (reads the whole log). */
export interface LogInfo {
  format: LogFormat;
  name: string;
  stats: LogStats;
  blfHeader: BlfHeader | undefined;
  /** BLF only: number of LOG_CONTAINERs and bytes after inflating them. */
  containers: number | undefined;
  inflatedBytes: number | undefined;
  encoding: string | undefined;
  channelNames: Record<number, string>;
  warnings: ReadWarning[];
}

interface FrameSourceLike {
  batches(): AsyncGenerator<FrameBatch, void, undefined>;
  readonly bytesRead: number;
  readonly warnings: { list: ReadWarning[]; count: number };
  readonly stats: { snapshot(bytesRead: number, total: number | undefined, warnings: number): LogStats };
}

class Reader implements LogReader {
  constructor(
    readonly format: LogFormat,
    readonly name: string,
    readonly src: FrameSourceLike,
    private readonly totalBytes: number | undefined,
    readonly blfHeader: BlfHeader | undefined,
    readonly encoding: string | undefined,
    private readonly names: () => ReadonlyMap<number, string>,
  ) {}

  get channelNames(): ReadonlyMap<number, string> {
    return this.names();
  }

  get warnings(): ReadWarning[] {
    return this.src.warnings.list;
  }

  get stats(): LogStats {
    return this.src.stats.snapshot(this.src.bytesRead, this.totalBytes, this.src.warnings.count);
  }

  async *batches(): AsyncGenerator<FrameBatch, void, undefined> {
    try {
      yield* this.src.batches();
    } catch (e) {
      throw toCanLogError(e, { offset: this.src.bytesRead });
    }
  }

  async *frames(): AsyncGenerator<CanFrame, void, undefined> {
    for await (const b of this.batches()) {
      for (let i = 0; i < b.length; i++) yield toFrame(b, i);
    }
  }
}

/**
 * Opens a CAN log for streaming. The format is detected from the content (BLF, Vector
 * ASC, candump -L, ZLG CANTest export) unless `options.format` is given.
 *
 * @param source a file path, the file's bytes, or an async iterable of chunks.
 * @throws CanLogError `UNKNOWN_FORMAT`, `BAD_HEADER`, `TRUNCATED_HEADER`, `IO_ERROR`, `INVALID_ARGUMENT`.
 */
export async function openLog(source: LogSource, options: OpenLogOptions = {}): Promise<LogReader> {
  try {
    if (options.signal?.aborted) {
      throw new CanLogError('ABORTED', 'reading was aborted', { cause: options.signal.reason });
    }
    const prepared = await prepareSource(source);
    const format = options.format ?? detectFormat(prepared.head);
    if (!format) {
      throw new CanLogError('UNKNOWN_FORMAT', `${prepared.name}: not a BLF, ASC, candump or ZLG log`, {
        offset: 0,
      });
    }
    const open = () => prepared.openChunks();
    if (format === 'blf') {
      const src = new BlfFrameSource(prepared.head, open, options, prepared.bytes);
      return new Reader(
        format,
        prepared.name,
        src,
        prepared.totalBytes,
        src.header,
        undefined,
        () => new Map(),
      );
    }
    let names: ReadonlyMap<number, string> = new Map();
    const make = (ctx: TextContext) => {
      if (format === 'asc') return new AscLineParser(ctx);
      if (format === 'zlg') return new ZlgLineParser(ctx);
      const p = new CandumpLineParser(ctx);
      names = p.channelNames;
      return p;
    };
    const src = new TextFrameSource(prepared.head, open, make, options, prepared.bytes);
    return new Reader(format, prepared.name, src, prepared.totalBytes, undefined, src.encoding, () => names);
  } catch (e) {
    throw toCanLogError(e);
  }
}

/** Reads a whole log and returns its statistics, header and warnings (for an `info` command). */
export async function readLogInfo(source: LogSource, options: OpenLogOptions = {}): Promise<LogInfo> {
  const reader = await openLog(source, options);
  let containers: number | undefined;
  let inflatedBytes: number | undefined;
  for await (const _batch of reader.batches()) {
    // counting happens inside the reader
  }
  const src = reader instanceof Reader ? reader.src : undefined;
  if (src instanceof BlfFrameSource) {
    containers = src.containers;
    inflatedBytes = src.inflatedBytes;
  }
  return {
    format: reader.format,
    name: reader.name,
    stats: reader.stats,
    blfHeader: reader.blfHeader,
    containers,
    inflatedBytes,
    encoding: reader.encoding,
    channelNames: Object.fromEntries(reader.channelNames),
    warnings: reader.warnings,
  };
}
