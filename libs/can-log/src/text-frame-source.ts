/**
 * Shared machinery of the line-oriented readers (ASC, candump, ZLG): streams the input,
 * decodes it incrementally (UTF-8, GBK, …), splits lines with a bounded line length, and
 * hands each line to a format-specific {@link LineParser} that writes rows into the batch.
 */
import { ByteReader, type ChunkSource, type StreamOptions } from './byte-source';
import { CanLogError } from './errors';
import { createBatch, type FrameBatch } from './frame';
import { StatsCollector, WarningSink } from './log-stats';

/** Options of the text readers. */
export interface TextReadOptions extends StreamOptions {
  /** Text encoding (a WHATWG label such as `utf-8` or `gbk`), or `auto` (default): UTF-8 unless invalid, then GBK. */
  encoding?: string;
  /** Longest line accepted (default 64 KiB); longer lines are skipped with a warning. */
  maxLineLength?: number;
  /** Rows per batch (default 8192). */
  batchSize?: number;
  /** Warnings kept (default 1000); later ones are only counted. */
  maxWarnings?: number;
}

/** Receives lines; writes frames at `batch.length` and increments it. */
export interface LineParser {
  parseLine(line: string, lineNo: number, batch: FrameBatch): void;
}

/** Context given to line parsers. */
export interface TextContext {
  readonly stats: StatsCollector;
  readonly warnings: WarningSink;
}

/** Picks `utf-8` when the head is valid UTF-8 (an incomplete last character is fine), else `gbk`. */
export function guessTextEncoding(head: Uint8Array): string {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'utf-8';
  } catch {
    return 'gbk';
  }
}

/** Single-pass text reader driving a {@link LineParser}. */
export class TextFrameSource implements TextContext {
  readonly stats = new StatsCollector();
  readonly warnings: WarningSink;
  readonly encoding: string;
  private reader: ByteReader | undefined;
  private consumed = false;
  private readonly batchSize: number;
  private readonly maxLine: number;

  constructor(
    head: Uint8Array,
    private readonly openChunks: () => ChunkSource,
    private readonly makeParser: (ctx: TextContext) => LineParser,
    private readonly options: TextReadOptions = {},
    private readonly memory?: Uint8Array,
  ) {
    const enc = options.encoding ?? 'auto';
    this.encoding = enc === 'auto' ? guessTextEncoding(head) : enc;
    try {
      new TextDecoder(this.encoding);
    } catch (e) {
      throw new CanLogError('INVALID_ARGUMENT', `unsupported text encoding ${this.encoding}`, { cause: e });
    }
    this.warnings = new WarningSink(options.maxWarnings ?? 1000);
    this.batchSize = Math.max(1, options.batchSize ?? 8192);
    this.maxLine = Math.max(256, options.maxLineLength ?? 65536);
  }

  /** Bytes consumed from the source. */
  get bytesRead(): number {
    return this.reader?.consumed ?? 0;
  }

  /** Streams the frames; the yielded batch is reused and valid until the next step. */
  async *batches(): AsyncGenerator<FrameBatch, void, undefined> {
    if (this.consumed) throw new CanLogError('ALREADY_CONSUMED', 'batches() can only be iterated once');
    this.consumed = true;
    const parser = this.makeParser(this);
    const reader = new ByteReader(this.openChunks(), this.options, this.memory);
    this.reader = reader;
    const decoder = new TextDecoder(this.encoding, { fatal: false, ignoreBOM: false });
    const batch = createBatch(this.batchSize);
    const cap = this.batchSize;
    let carry = '';
    let skipping = false;
    let lineNo = 0;
    try {
      let done = false;
      while (!done) {
        let text: string;
        if (reader.available === 0 && !(await reader.more())) {
          text = decoder.decode();
          done = true;
        } else {
          // Decode at most 1 MiB at a time so that huge in-memory inputs stay incremental.
          const n = Math.min(reader.available, 1 << 20);
          text = decoder.decode(reader.buf.subarray(reader.start, reader.start + n), { stream: true });
          reader.skip(n);
        }
        let from = 0;
        while (true) {
          const nl = text.indexOf('\n', from);
          if (nl < 0) {
            const rest = text.length - from;
            if (skipping) break;
            if (carry.length + rest > this.maxLine) {
              lineNo++;
              this.warnings.add('LINE_TOO_LONG', `line longer than ${this.maxLine} characters skipped`, {
                line: lineNo,
              });
              carry = '';
              skipping = true;
            } else if (rest > 0) {
              carry += text.slice(from);
            }
            break;
          }
          let line: string;
          if (skipping) {
            skipping = false;
            from = nl + 1;
            continue;
          }
          if (carry.length > 0) {
            line = carry + text.slice(from, nl);
            carry = '';
          } else {
            line = text.slice(from, nl);
          }
          from = nl + 1;
          lineNo++;
          if (line.length > this.maxLine) {
            this.warnings.add('LINE_TOO_LONG', `line longer than ${this.maxLine} characters skipped`, {
              line: lineNo,
            });
            continue;
          }
          parser.parseLine(line, lineNo, batch);
          if (batch.length >= cap) {
            this.stats.addBatch(batch);
            yield batch;
            batch.length = 0;
            reader.checkAbort();
          }
        }
      }
      if (carry.length > 0 && !skipping) {
        lineNo++;
        parser.parseLine(carry, lineNo, batch);
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
}

/** Parses `n` hex digits, returning -1 when any is not a hex digit. */
export function parseHexStrict(s: string): number {
  if (s.length === 0 || s.length > 8) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 65 && c <= 70) d = c - 55;
    else if (c >= 97 && c <= 102) d = c - 87;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Parses a non-negative decimal integer, -1 when not one. */
export function parseDecStrict(s: string): number {
  if (s.length === 0 || s.length > 10) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}
