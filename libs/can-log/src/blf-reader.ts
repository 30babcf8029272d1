/**
 * Streaming BLF reader: walks the top-level objects, inflates each LOG_CONTAINER (bounded),
 * and feeds the inner object stream to {@link BlfObjectParser}.
 */
import { constants as zc, inflateSync } from 'node:zlib';
import { BLF_OBJECT_SIGNATURE, BlfObjectType, blfObjectTypeName } from './blf-constants';
import { parseBlfHeader, type BlfHeader } from './blf-header';
import { BlfObjectParser, ParseState } from './blf-object-parser';
import { ByteReader, type ChunkSource, type StreamOptions } from './byte-source';
import { CanLogError } from './errors';
import { createBatch, type FrameBatch } from './frame';
import { StatsCollector, WarningSink } from './log-stats';

/** Limits and knobs of the BLF reader. */
export interface BlfReadOptions extends StreamOptions {
  /** Largest inflated size of one container (default 16 MiB; real files use ≤ 128 KiB). */
  maxContainerInflatedBytes?: number;
  /** Largest inflated size of the whole file (default 64 GiB). */
  maxFileInflatedBytes?: number;
  /** Largest object (top-level or inner) accepted (default 16 MiB). */
  maxObjectSize?: number;
  /** Rows per batch (default 8192). */
  batchSize?: number;
  /** Warnings kept in `warnings` (default 1000); later ones are only counted. */
  maxWarnings?: number;
}

/** Default limits. */
export const BLF_DEFAULTS = {
  maxContainerInflatedBytes: 16 * 1024 * 1024,
  maxFileInflatedBytes: 64 * 1024 * 1024 * 1024,
  maxObjectSize: 16 * 1024 * 1024,
  batchSize: 8192,
  maxWarnings: 1000,
} as const;

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/**
 * Warning codes the BLF reader emits (in `ReadWarning.code`): `CONTAINER_HEADER_SIZE`,
 * `TRUNCATED_CONTAINER`, `TRUNCATED_ZLIB`, `CORRUPT_CONTAINER`, `UNKNOWN_COMPRESSION`,
 * `OBJECT_OUTSIDE_CONTAINER`, `BAD_OBJECT_HEADER`, `SHORT_OBJECT`, `SKIPPED_BYTES`,
 * `TRUNCATED_OBJECT`, `TRAILING_BYTES`, `TRUNCATED_FILE`, `WARNINGS_TRUNCATED`.
 * The text readers emit `MALFORMED_LINE`, `UNRECOGNIZED_LINE`, `LINE_TOO_LONG`,
 * `UNSUPPORTED_FRAME`, `TOO_MANY_CHANNELS` and `WARNINGS_TRUNCATED`.
 */
export const WARNING_CODES = [
  'CONTAINER_HEADER_SIZE',
  'TRUNCATED_CONTAINER',
  'TRUNCATED_ZLIB',
  'CORRUPT_CONTAINER',
  'UNKNOWN_COMPRESSION',
  'OBJECT_OUTSIDE_CONTAINER',
  'BAD_OBJECT_HEADER',
  'SHORT_OBJECT',
  'SKIPPED_BYTES',
  'TRUNCATED_OBJECT',
  'TRAILING_BYTES',
  'TRUNCATED_FILE',
  'MALFORMED_LINE',
  'UNRECOGNIZED_LINE',
  'LINE_TOO_LONG',
  'UNSUPPORTED_FRAME',
  'TOO_MANY_CHANNELS',
  'WARNINGS_TRUNCATED',
] as const;

/**
 * Reads the frames of one BLF input. Single pass: `batches()` may be iterated once.
 * Warnings and statistics fill in as iteration proceeds.
 */
export class BlfFrameSource {
  readonly header: BlfHeader;
  readonly stats: StatsCollector;
  readonly warnings: WarningSink;
  /** Number of LOG_CONTAINER objects seen. */
  containers = 0;
  /** Bytes produced by inflating / copying container payloads. */
  inflatedBytes = 0;
  private reader: ByteReader | undefined;
  private consumed = false;
  private readonly opts: Required<Omit<BlfReadOptions, keyof StreamOptions>>;

  /**
   * @param head the first bytes of the file (at least 80, for the header).
   * @param openChunks opens the byte stream from offset 0.
   */
  constructor(
    head: Uint8Array,
    private readonly openChunks: () => ChunkSource,
    private readonly options: BlfReadOptions = {},
    private readonly memory?: Uint8Array,
  ) {
    this.header = parseBlfHeader(head);
    this.opts = {
      maxContainerInflatedBytes: options.maxContainerInflatedBytes ?? BLF_DEFAULTS.maxContainerInflatedBytes,
      maxFileInflatedBytes: options.maxFileInflatedBytes ?? BLF_DEFAULTS.maxFileInflatedBytes,
      maxObjectSize: options.maxObjectSize ?? BLF_DEFAULTS.maxObjectSize,
      batchSize: Math.max(1, options.batchSize ?? BLF_DEFAULTS.batchSize),
      maxWarnings: options.maxWarnings ?? BLF_DEFAULTS.maxWarnings,
    };
    this.stats = new StatsCollector(blfObjectTypeName);
    this.warnings = new WarningSink(this.opts.maxWarnings);
    this.stats.startTime = this.header.measurementStart;
    const h = this.header;
    this.stats.writer = `${h.applicationName} ${h.applicationVersion}`;
  }

  /** Bytes consumed from the source. */
  get bytesRead(): number {
    return this.reader?.consumed ?? 0;
  }

  /** Streams the frames; the yielded batch is reused and valid until the next step. */
  async *batches(): AsyncGenerator<FrameBatch, void, undefined> {
    if (this.consumed) throw new CanLogError('ALREADY_CONSUMED', 'batches() can only be iterated once');
    this.consumed = true;
    const reader = new ByteReader(this.openChunks(), this.options, this.memory);
    this.reader = reader;
    const batch = createBatch(this.opts.batchSize);
    const parser = new BlfObjectParser(this.stats, this.warnings, this.opts.maxObjectSize);
    try {
      const hs = this.header.headerSize;
      if (!(await reader.ensure(hs))) {
        throw new CanLogError('TRUNCATED_HEADER', `file ends inside its ${hs}-byte header`, {
          offset: reader.offset + reader.available,
        });
      }
      reader.skip(hs);
      let more = true;
      while (true) {
        while (parser.parse(batch) === ParseState.BatchFull) {
          this.stats.addBatch(batch);
          yield batch;
          batch.length = 0;
          reader.checkAbort();
        }
        if (!more) break;
        parser.detach();
        more = await this.nextTopLevel(reader, parser);
      }
      parser.finish();
      const declared = this.header.fileSize;
      const actual = reader.offset + reader.available;
      if (declared > actual && declared - actual < 2 ** 40) {
        this.warnings.add('TRUNCATED_FILE', `file ends at ${actual} bytes; its header says ${declared}`, {
          offset: actual,
        });
      }
      if (batch.length > 0) {
        this.stats.addBatch(batch);
        yield batch;
        batch.length = 0;
      }
    } finally {
      await reader.close();
    }
  }

  /** Reads one top-level object into the parser. Resolves false at end of input. */
  private async nextTopLevel(r: ByteReader, parser: BlfObjectParser): Promise<boolean> {
    let skipped = 0;
    let nonZero = false;
    for (;;) {
      if (!(await r.ensure(16))) {
        const rest = r.available;
        for (let i = 0; i < rest; i++) if (r.buf[r.start + i] !== 0) nonZero = true;
        if (nonZero || skipped + rest > 7) {
          this.warnings.add(
            'TRAILING_BYTES',
            `${skipped + rest} bytes at the end of the file are not an object`,
            {
              offset: r.offset - skipped,
            },
          );
        }
        r.skip(rest);
        return false;
      }
      // Padding after the previous object (objectSize % 4) or junk: scan to the next signature.
      const b = r.buf;
      const s0 = r.start;
      const lim = r.end - 3;
      let q = s0;
      while (q < lim && u32(b, q) !== BLF_OBJECT_SIGNATURE) {
        if (b[q] !== 0) nonZero = true;
        q++;
      }
      skipped += q - s0;
      r.skip(q - s0);
      if (q < lim && r.available >= 16) break;
    }
    const offset = r.offset;
    if (nonZero || skipped > 7) {
      this.warnings.add('SKIPPED_BYTES', `${skipped} bytes without an object signature skipped`, {
        offset: offset - skipped,
      });
    }
    const b = r.buf;
    const s = r.start;
    const headerSize = u16(b, s + 4);
    const objectSize = u32(b, s + 8);
    const type = u32(b, s + 12);
    if (objectSize < 16 || headerSize < 16 || headerSize > objectSize) {
      this.warnings.add(
        'BAD_OBJECT_HEADER',
        `top-level object with headerSize ${headerSize}, size ${objectSize}`,
        {
          offset,
        },
      );
      r.skip(4);
      return true;
    }
    if (objectSize > this.opts.maxObjectSize) {
      throw new CanLogError(
        'OBJECT_TOO_LARGE',
        `object of ${objectSize} bytes exceeds maxObjectSize ${this.opts.maxObjectSize}`,
        { offset },
      );
    }
    const complete = await r.ensure(objectSize);
    const avail = Math.min(objectSize, r.available);
    const start = r.start;
    parser.containerOffset = offset;
    if (type !== BlfObjectType.LOG_CONTAINER) {
      this.warnings.add(
        'OBJECT_OUTSIDE_CONTAINER',
        `object type ${blfObjectTypeName(type)} found outside any LOG_CONTAINER`,
        { offset },
      );
      parser.append(r.buf.subarray(start, start + avail));
      r.skip(avail);
      return complete;
    }
    this.containers++;
    if (headerSize !== 16) {
      this.warnings.add('CONTAINER_HEADER_SIZE', `LOG_CONTAINER has headerSize ${headerSize} (expected 16)`, {
        offset,
      });
    }
    if (avail < headerSize + 16) {
      this.warnings.add('TRUNCATED_CONTAINER', 'file ends inside a LOG_CONTAINER header', { offset });
      r.skip(avail);
      return false;
    }
    if (!complete) {
      this.warnings.add('TRUNCATED_CONTAINER', `LOG_CONTAINER truncated: ${avail} of ${objectSize} bytes`, {
        offset,
      });
    }
    const method = u16(r.buf, start + headerSize);
    const declared = u32(r.buf, start + headerSize + 8);
    const payload = r.buf.subarray(start + headerSize + 16, start + avail);
    if (method === 0) {
      this.account(payload.length, offset);
      parser.append(payload);
    } else if (method === 2) {
      const out = this.inflate(payload, declared, offset, complete);
      if (out) parser.append(out);
      else parser.gap();
    } else {
      this.warnings.add('UNKNOWN_COMPRESSION', `LOG_CONTAINER compression method ${method} not supported`, {
        offset,
      });
      parser.gap();
    }
    r.skip(avail);
    return complete;
  }

  private account(n: number, offset: number): void {
    this.inflatedBytes += n;
    if (this.inflatedBytes > this.opts.maxFileInflatedBytes) {
      throw new CanLogError(
        'INFLATE_LIMIT',
        `inflated data exceeds maxFileInflatedBytes ${this.opts.maxFileInflatedBytes}`,
        { offset },
      );
    }
  }

  private inflate(
    payload: Uint8Array,
    declared: number,
    offset: number,
    complete: boolean,
  ): Uint8Array | undefined {
    const fileLeft = this.opts.maxFileInflatedBytes - this.inflatedBytes;
    const cap = Math.max(1, Math.min(this.opts.maxContainerInflatedBytes, fileLeft));
    const chunkSize = Math.min(Math.max(declared + 64, 16384), 1 << 20, Math.max(cap, 64));
    let out: Uint8Array;
    try {
      out = inflateSync(payload, { maxOutputLength: cap, chunkSize });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw this.limitError(cap, fileLeft, offset, e);
      // Truncated or damaged stream: recover what can be inflated.
      try {
        out = inflateSync(payload, { maxOutputLength: cap, chunkSize, finishFlush: zc.Z_SYNC_FLUSH });
      } catch (e2) {
        const code2 = (e2 as { code?: string }).code;
        if (code2 === 'ERR_BUFFER_TOO_LARGE') throw this.limitError(cap, fileLeft, offset, e2);
        this.warnings.add(
          'CORRUPT_CONTAINER',
          `zlib data in LOG_CONTAINER is damaged: ${(e2 as Error).message}`,
          {
            offset,
          },
        );
        return undefined;
      }
      this.warnings.add(
        complete ? 'CORRUPT_CONTAINER' : 'TRUNCATED_ZLIB',
        `zlib stream in LOG_CONTAINER is incomplete; ${out.length} bytes recovered`,
        { offset },
      );
    }
    this.account(out.length, offset);
    return out;
  }

  private limitError(cap: number, fileLeft: number, offset: number, cause: unknown): CanLogError {
    const which =
      cap >= fileLeft
        ? `maxFileInflatedBytes ${this.opts.maxFileInflatedBytes}`
        : `maxContainerInflatedBytes ${cap}`;
    return new CanLogError('INFLATE_LIMIT', `LOG_CONTAINER inflates past ${which}`, { offset, cause });
  }
}
