/** Destinations for the writers: a file path or an in-memory sink (for tests and small exports). */
import { open, type FileHandle } from 'node:fs/promises';
import { CanLogError, toCanLogError } from './errors';

/** Where a writer puts its bytes. `writeAt` is only used by the BLF writer (header patch). */
export interface ByteSink {
  write(data: Uint8Array): Promise<void>;
  writeAt(data: Uint8Array, position: number): Promise<void>;
  close(): Promise<void>;
}

/** A {@link ByteSink} that keeps everything in memory. */
export interface MemorySink extends ByteSink {
  /** The bytes written so far (a copy). */
  bytes(): Uint8Array;
}

/** Creates an in-memory sink. */
export function createMemorySink(): MemorySink {
  let buf = Buffer.alloc(4096);
  let len = 0;
  const ensure = (n: number) => {
    if (n <= buf.length) return;
    const next = Buffer.alloc(Math.max(n, buf.length * 2));
    buf.copy(next, 0, 0, len);
    buf = next;
  };
  return {
    async write(data) {
      ensure(len + data.length);
      buf.set(data, len);
      len += data.length;
    },
    async writeAt(data, position) {
      ensure(position + data.length);
      buf.set(data, position);
      len = Math.max(len, position + data.length);
    },
    async close() {},
    bytes: () => Uint8Array.prototype.slice.call(buf, 0, len),
  };
}

class FileSink implements ByteSink {
  private position = 0;
  constructor(private handle: FileHandle | undefined) {}
  async write(data: Uint8Array): Promise<void> {
    const h = this.need();
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await h.write(data, done, data.length - done, this.position);
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }
  async writeAt(data: Uint8Array, position: number): Promise<void> {
    const h = this.need();
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await h.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }
  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close();
  }
  private need(): FileHandle {
    if (!this.handle) throw new CanLogError('INVALID_ARGUMENT', 'the file sink is closed');
    return this.handle;
  }
}

/** Opens (truncates) a file as a sink. */
export async function openFileSink(path: string): Promise<ByteSink> {
  try {
    return new FileSink(await open(path, 'w'));
  } catch (e) {
    throw toCanLogError(e);
  }
}

/** A path or a sink. */
export type WriteTarget = string | ByteSink;

/** Resolves a {@link WriteTarget} to a sink. */
export async function toSink(target: WriteTarget): Promise<ByteSink> {
  return typeof target === 'string' ? openFileSink(target) : target;
}
