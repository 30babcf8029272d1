/**
 * Byte sources for the streaming readers: a file path, an in-memory array, or any async
 * iterable of chunks (a Node stream, a web stream, …), read through a bounded
 * {@link ByteReader} that never buffers the whole input.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { CanLogError, toCanLogError } from './errors';

/** Anything a reader can read from: a file path, the bytes themselves, or a chunk stream. */
export type LogSource = string | Uint8Array | AsyncIterable<Uint8Array>;

/** Options shared by every reader. */
export interface StreamOptions {
  /** Cancels reading; the iteration then throws a `CanLogError` with code `ABORTED`. */
  signal?: AbortSignal;
  /**
   * Called after every read from a file or stream with the bytes consumed so far and the total
   * when known (in-memory input is not reported: it is already read).
   */
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
  /** Bytes requested from a file per read (default 1 MiB). */
  readChunkSize?: number;
}

/** A pull-based source of bytes. `readInto` resolves 0 at end of input. */
export interface ChunkSource {
  readonly totalBytes: number | undefined;
  readInto(target: Uint8Array, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

const DEFAULT_CHUNK = 1 << 20;

class FileChunkSource implements ChunkSource {
  private handle: FileHandle | undefined;
  private position = 0;
  constructor(
    private readonly path: string,
    readonly totalBytes: number | undefined,
  ) {}
  async readInto(target: Uint8Array, offset: number, length: number): Promise<number> {
    if (!this.handle) this.handle = await open(this.path, 'r');
    const { bytesRead } = await this.handle.read(target, offset, length, this.position);
    this.position += bytesRead;
    return bytesRead;
  }
  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close();
  }
}

class IterableChunkSource implements ChunkSource {
  readonly totalBytes = undefined;
  private current: Uint8Array | undefined;
  private done = false;
  constructor(
    private readonly iterator: AsyncIterator<Uint8Array>,
    private readonly pending: Uint8Array[],
  ) {}
  async readInto(target: Uint8Array, offset: number, length: number): Promise<number> {
    while (!this.current || this.current.length === 0) {
      if (this.pending.length > 0) {
        this.current = this.pending.shift();
        continue;
      }
      if (this.done) return 0;
      const r = await this.iterator.next();
      if (r.done) {
        this.done = true;
        return 0;
      }
      this.current = toBytes(r.value);
    }
    const n = Math.min(length, this.current.length);
    target.set(this.current.subarray(0, n), offset);
    this.current = this.current.subarray(n);
    return n;
  }
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.iterator.return?.();
    }
  }
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  throw new CanLogError('INVALID_ARGUMENT', 'stream chunks must be Uint8Array');
}

/**
 * A source prepared for reading: the head bytes (for format detection) and a factory for
 * the full byte stream. Path sources are reopened, so preparing holds no file handle.
 */
export interface PreparedSource {
  readonly head: Uint8Array;
  readonly totalBytes: number | undefined;
  readonly name: string;
  /** The whole input when it is already in memory. */
  readonly bytes: Uint8Array | undefined;
  /** Opens the byte stream. May only be called once for stream sources. */
  openChunks(): ChunkSource;
}

/** Reads up to `headBytes` bytes of a source for detection without consuming it. */
export async function prepareSource(source: LogSource, headBytes = 65536): Promise<PreparedSource> {
  if (typeof source === 'string') {
    let size: number;
    let head: Uint8Array;
    try {
      size = (await stat(source)).size;
      const h = await open(source, 'r');
      try {
        const buf = Buffer.alloc(Math.min(headBytes, size));
        const { bytesRead } = await h.read(buf, 0, buf.length, 0);
        head = buf.subarray(0, bytesRead);
      } finally {
        await h.close();
      }
    } catch (e) {
      throw toCanLogError(e);
    }
    return {
      head,
      totalBytes: size,
      name: source,
      bytes: undefined,
      openChunks: () => new FileChunkSource(source, size),
    };
  }
  if (source instanceof Uint8Array) {
    return {
      head: source.subarray(0, headBytes),
      totalBytes: source.length,
      name: '<memory>',
      bytes: source,
      openChunks: () => {
        let done = false;
        return {
          totalBytes: source.length,
          async readInto(target, offset, length) {
            if (done) return 0;
            done = true;
            const n = Math.min(length, source.length);
            target.set(source.subarray(0, n), offset);
            return n;
          },
          async close() {},
        };
      },
    };
  }
  if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const iterator = source[Symbol.asyncIterator]();
    const pending: Uint8Array[] = [];
    let have = 0;
    try {
      while (have < headBytes) {
        const r = await iterator.next();
        if (r.done) break;
        const chunk = toBytes(r.value);
        pending.push(chunk);
        have += chunk.length;
      }
    } catch (e) {
      throw toCanLogError(e);
    }
    const joined = pending.length === 1 ? pending[0] : Buffer.concat(pending);
    let opened = false;
    return {
      head: joined.subarray(0, headBytes),
      totalBytes: undefined,
      name: '<stream>',
      bytes: undefined,
      openChunks: () => {
        if (opened) throw new CanLogError('ALREADY_CONSUMED', 'a stream source can only be read once');
        opened = true;
        return new IterableChunkSource(iterator, pending);
      },
    };
  }
  throw new CanLogError(
    'INVALID_ARGUMENT',
    'source must be a path, a Uint8Array or an AsyncIterable<Uint8Array>',
  );
}

/**
 * A sliding window over a {@link ChunkSource}: `buf[start..end)` holds unread bytes whose
 * file offset is `offset`. `ensure(n)` reads until `n` bytes are available (or the input
 * ends), compacting and growing the window as needed. Memory is bounded by the largest
 * `n` ever requested plus one read chunk.
 */
export class ByteReader {
  buf: Uint8Array;
  start = 0;
  end = 0;
  /** True once the source reported its end. */
  eof = false;
  private base = 0;
  private bytesRead = 0;
  private readonly chunk: number;

  constructor(
    private readonly source: ChunkSource,
    private readonly options: StreamOptions = {},
    memory?: Uint8Array,
  ) {
    this.chunk = Math.max(4096, options.readChunkSize ?? DEFAULT_CHUNK);
    if (memory) {
      // Zero-copy path for in-memory input.
      this.buf = memory;
      this.end = memory.length;
      this.eof = true;
      this.bytesRead = memory.length;
    } else {
      this.buf = Buffer.allocUnsafe(this.chunk * 2);
    }
  }

  /** File offset of `buf[start]`. */
  get offset(): number {
    return this.base + this.start;
  }

  /** Unread bytes in the window. */
  get available(): number {
    return this.end - this.start;
  }

  /** Total bytes pulled from the source so far. */
  get consumed(): number {
    return this.bytesRead;
  }

  /** Throws `ABORTED` if the caller's signal fired. */
  checkAbort(): void {
    const s = this.options.signal;
    if (s?.aborted) {
      throw new CanLogError('ABORTED', 'reading was aborted', { offset: this.offset, cause: s.reason });
    }
  }

  /** Makes `n` bytes available from `start`; resolves false if the input ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.end - this.start < n) {
      if (this.eof) return false;
      await this.fill(n);
    }
    return true;
  }

  /** Reads one more chunk into the window; resolves false at end of input. */
  async more(): Promise<boolean> {
    if (this.eof) return false;
    const before = this.end - this.start;
    await this.fill(before + 1);
    return this.end - this.start > before;
  }

  /** Consumes `n` bytes. */
  skip(n: number): void {
    this.start += n;
  }

  private async fill(need: number): Promise<void> {
    this.checkAbort();
    const live = this.end - this.start;
    const want = Math.max(need, live + this.chunk);
    if (this.buf.length - this.start < want) {
      if (this.buf.length >= want && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = Buffer.allocUnsafe(Math.max(want, this.buf.length * 2));
        next.set(this.buf.subarray(this.start, this.end), 0);
        this.buf = next;
      }
      this.base += this.start;
      this.start = 0;
      this.end = live;
    }
    let n: number;
    try {
      n = await this.source.readInto(this.buf, this.end, Math.min(this.chunk, this.buf.length - this.end));
    } catch (e) {
      throw toCanLogError(e, { offset: this.base + this.end });
    }
    this.checkAbort();
    if (n === 0) {
      this.eof = true;
      return;
    }
    this.end += n;
    this.bytesRead += n;
    this.options.onProgress?.(this.bytesRead, this.source.totalBytes);
  }

  /** Releases the source. */
  async close(): Promise<void> {
    try {
      await this.source.close();
    } catch {
      // closing errors are irrelevant once reading is over
    }
  }
}
