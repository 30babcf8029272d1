/**
 * BLF writer: CAN_MESSAGE2 (86) for classic frames, CAN_FD_MESSAGE_64 (101) for CAN FD
 * frames, CAN_ERROR_EXT (73) for error frames, packed into zlib LOG_CONTAINERs of at most
 * 128 KiB inflated data (objects split across containers like Vector and python-can do).
 * The header (object count, file sizes, start/end SYSTEMTIME) is patched in on close.
 */
import { deflateSync } from 'node:zlib';
import {
  BLF_FILE_HEADER_SIZE,
  BLF_FILE_SIGNATURE,
  BLF_OBJECT_SIGNATURE,
  BlfObjectType,
} from './blf-constants';
import { dateToSystemTime, type SystemTime } from './blf-header';
import { toSink, type ByteSink, type WriteTarget } from './byte-sink';
import { CanLogError, toCanLogError } from './errors';
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';
import { SingleRow, type FrameInput, type LogWriter } from './frame-input';

/** Options of {@link createBlfWriter}. */
export interface BlfWriterOptions {
  /** Absolute measurement start, stored as SYSTEMTIME from its UTC fields. Zero SYSTEMTIME when absent. */
  measurementStart?: Date;
  /** zlib level 0–9 (default 6). 0 writes uncompressed containers. */
  compressionLevel?: number;
  /** Inflated bytes per container (default 131072, the largest Vector uses). */
  containerSize?: number;
  /** Writer identity in the header (default: application 0 "Unknown", version 0.0.0). */
  application?: { id: number; major: number; minor: number; build: number };
  /** Binlog API number in the header (default 4070100, i.e. 4.7.1.0). */
  apiNumber?: number;
}

const OBJ_HEADER = 32;
const CAN2_SIZE = OBJ_HEADER + 24;
const ERR_EXT_SIZE = OBJ_HEADER + 32;
const FD64_FIXED = OBJ_HEADER + 40;

/** Streaming BLF writer; obtain one with {@link createBlfWriter}. */
export class BlfWriter implements LogWriter {
  framesWritten = 0;
  private readonly level: number;
  private readonly containerSize: number;
  private inner: Buffer;
  private innerLen = 0;
  private readonly scratch = Buffer.alloc(FD64_FIXED + MAX_PAYLOAD);
  private fileSize = BLF_FILE_HEADER_SIZE;
  private uncompressedSize = BLF_FILE_HEADER_SIZE;
  private maxTimestamp = 0;
  private closed = false;
  private readonly single = new SingleRow();

  /** @internal use {@link createBlfWriter}. */
  constructor(
    private readonly sink: ByteSink,
    private readonly options: BlfWriterOptions,
  ) {
    const level = options.compressionLevel ?? 6;
    if (!Number.isInteger(level) || level < 0 || level > 9) {
      throw new CanLogError('INVALID_ARGUMENT', `compressionLevel ${level} is not 0..9`);
    }
    this.level = level;
    const size = options.containerSize ?? 131072;
    if (!Number.isInteger(size) || size < 256 || size > 16 * 1024 * 1024) {
      throw new CanLogError('INVALID_ARGUMENT', `containerSize ${size} is not 256..16 MiB`);
    }
    this.containerSize = size;
    this.inner = Buffer.alloc(size);
  }

  /** Writes the placeholder header. */
  async start(): Promise<void> {
    await this.sink.write(new Uint8Array(BLF_FILE_HEADER_SIZE));
  }

  async writeFrame(frame: FrameInput): Promise<void> {
    await this.writeBatch(this.single.load(frame));
  }

  async writeBatch(b: FrameBatch): Promise<void> {
    if (this.closed) throw new CanLogError('INVALID_ARGUMENT', 'the writer is closed');
    for (let i = 0; i < b.length; i++) {
      const ts = b.timestamps[i];
      if (!(ts >= 0) || ts > 1.8e10) {
        throw new CanLogError('INVALID_ARGUMENT', `timestamp ${ts} cannot be stored (must be 0..1.8e10 s)`);
      }
      if (ts > this.maxTimestamp) this.maxTimestamp = ts;
      const f = b.flags[i];
      if (b.lengths[i] > 8 && (f & (FrameFlag.Fd | FrameFlag.Error)) === 0) {
        throw new CanLogError(
          'INVALID_ARGUMENT',
          `classic CAN frame with ${b.lengths[i]} data bytes (set fd for CAN FD)`,
        );
      }
      if (b.lengths[i] > MAX_PAYLOAD)
        throw new CanLogError('INVALID_ARGUMENT', `payload of ${b.lengths[i]} bytes`);
      const size =
        (f & FrameFlag.Error) !== 0
          ? ERR_EXT_SIZE
          : (f & FrameFlag.Fd) !== 0
            ? fd64Size(b.lengths[i])
            : CAN2_SIZE;
      if (this.innerLen + size <= this.containerSize) {
        this.encode(b, i, this.inner, this.innerLen);
        this.innerLen += size;
        if (this.innerLen === this.containerSize) await this.flush();
      } else {
        this.encode(b, i, this.scratch, 0);
        let done = 0;
        while (done < size) {
          const n = Math.min(size - done, this.containerSize - this.innerLen);
          this.scratch.copy(this.inner, this.innerLen, done, done + n);
          this.innerLen += n;
          done += n;
          if (this.innerLen === this.containerSize) await this.flush();
        }
      }
      this.framesWritten++;
    }
  }

  /** Flushes the last container and patches the header. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.innerLen > 0) await this.flush();
      await this.sink.writeAt(this.header(), 0);
    } catch (e) {
      throw toCanLogError(e);
    } finally {
      await this.sink.close();
    }
  }

  private encode(b: FrameBatch, i: number, o: Buffer, p: number): void {
    const f = b.flags[i];
    const len = b.lengths[i];
    const ch = b.channels[i];
    let id = b.ids[i];
    if (f & FrameFlag.Extended) id = (id | 0x80000000) >>> 0;
    const src = i * MAX_PAYLOAD;
    let type: number;
    let size: number;
    const body = p + OBJ_HEADER;
    if (f & FrameFlag.Error) {
      type = BlfObjectType.CAN_ERROR_EXT;
      size = ERR_EXT_SIZE;
      o.writeUInt16LE(ch, body);
      o.writeUInt16LE(0, body + 2);
      o.writeUInt32LE(0, body + 4);
      o[body + 8] = 0;
      o[body + 9] = 0;
      o[body + 10] = Math.min(b.dlcs[i], 255);
      o[body + 11] = 0;
      o.writeUInt32LE(0, body + 12);
      o.writeUInt32LE(id, body + 16);
      // flagsExt: bits 12-13 extended direction (2 RX, 3 TX), bit 5 RX.
      o.writeUInt16LE(f & FrameFlag.Tx ? 3 << 12 : (2 << 12) | 0x20, body + 20);
      o.writeUInt16LE(0, body + 22);
      const n = Math.min(len, 8);
      for (let k = 0; k < 8; k++) o[body + 24 + k] = k < n ? b.data[src + k] : 0;
    } else if (f & FrameFlag.Fd) {
      if (ch > 255)
        throw new CanLogError('INVALID_ARGUMENT', `CAN FD channel ${ch} does not fit BLF's u8 field`);
      type = BlfObjectType.CAN_FD_MESSAGE_64;
      size = fd64Size(len);
      o[body] = ch;
      o[body + 1] = b.dlcs[i] & 0x0f;
      o[body + 2] = len;
      o[body + 3] = 0;
      o.writeUInt32LE(id, body + 4);
      o.writeUInt32LE(0, body + 8);
      let fl = 0x1000;
      if (f & FrameFlag.Brs) fl |= 0x2000;
      if (f & FrameFlag.Esi) fl |= 0x4000;
      if (f & FrameFlag.Remote) fl |= 0x0010;
      o.writeUInt32LE(fl, body + 12);
      o.fill(0, body + 16, body + 34);
      o[body + 34] = f & FrameFlag.Tx ? 1 : 0;
      o[body + 35] = 0;
      o.writeUInt32LE(0, body + 36);
      const end = size - OBJ_HEADER - 40;
      for (let k = 0; k < end; k++) o[body + 40 + k] = k < len ? b.data[src + k] : 0;
    } else {
      type = BlfObjectType.CAN_MESSAGE2;
      size = CAN2_SIZE;
      o.writeUInt16LE(ch, body);
      o[body + 2] = (f & FrameFlag.Tx ? 0x01 : 0) | (f & FrameFlag.Remote ? 0x80 : 0);
      o[body + 3] = b.dlcs[i];
      o.writeUInt32LE(id, body + 4);
      const n = Math.min(len, 8);
      for (let k = 0; k < 8; k++) o[body + 8 + k] = k < n ? b.data[src + k] : 0;
      o.fill(0, body + 16, body + 24);
    }
    // Object header, version 1, 1 ns timestamps.
    o.writeUInt32LE(BLF_OBJECT_SIGNATURE, p);
    o.writeUInt16LE(OBJ_HEADER, p + 4);
    o.writeUInt16LE(1, p + 6);
    o.writeUInt32LE(size, p + 8);
    o.writeUInt32LE(type, p + 12);
    o.writeUInt32LE(2, p + 16);
    o.writeUInt32LE(0, p + 20);
    const ticks = Math.round(b.timestamps[i] * 1e9);
    const hi = Math.floor(ticks / 4294967296);
    o.writeUInt32LE(ticks - hi * 4294967296, p + 24);
    o.writeUInt32LE(hi, p + 28);
  }

  private async flush(): Promise<void> {
    const raw = this.inner.subarray(0, this.innerLen);
    const payload = this.level === 0 ? raw : deflateSync(raw, { level: this.level });
    const objectSize = 32 + payload.length;
    const pad = objectSize % 4;
    const out = Buffer.alloc(objectSize + pad);
    out.writeUInt32LE(BLF_OBJECT_SIGNATURE, 0);
    out.writeUInt16LE(16, 4);
    out.writeUInt16LE(1, 6);
    out.writeUInt32LE(objectSize, 8);
    out.writeUInt32LE(BlfObjectType.LOG_CONTAINER, 12);
    out.writeUInt16LE(this.level === 0 ? 0 : 2, 16);
    out.writeUInt32LE(this.innerLen, 24);
    out.set(payload, 32);
    this.uncompressedSize += 32 + this.innerLen;
    this.fileSize += out.length;
    this.innerLen = 0;
    await this.sink.write(out);
  }

  private header(): Buffer {
    const h = Buffer.alloc(BLF_FILE_HEADER_SIZE);
    const app = this.options.application ?? { id: 0, major: 0, minor: 0, build: 0 };
    h.writeUInt32LE(BLF_FILE_SIGNATURE, 0);
    h.writeUInt32LE(BLF_FILE_HEADER_SIZE, 4);
    h.writeUInt32LE(this.options.apiNumber ?? 4070100, 8);
    h[12] = app.id & 0xff;
    h[13] = this.level;
    h[14] = app.major & 0xff;
    h[15] = app.minor & 0xff;
    writeU64(h, 16, this.fileSize);
    writeU64(h, 24, this.uncompressedSize);
    h.writeUInt32LE(this.framesWritten >>> 0, 32);
    h.writeUInt32LE(app.build >>> 0, 36);
    const start = this.options.measurementStart;
    writeSystemTime(h, 40, dateToSystemTime(start));
    const end = start ? new Date(start.getTime() + Math.floor(this.maxTimestamp * 1000)) : undefined;
    writeSystemTime(h, 56, dateToSystemTime(end));
    return h;
  }
}

function fd64Size(len: number): number {
  return FD64_FIXED + ((len + 3) & ~3);
}

function writeU64(b: Buffer, o: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  b.writeUInt32LE(v - hi * 4294967296, o);
  b.writeUInt32LE(hi, o + 4);
}

function writeSystemTime(b: Buffer, o: number, t: SystemTime): void {
  const v = [t.year, t.month, t.dayOfWeek, t.day, t.hour, t.minute, t.second, t.milliseconds];
  for (let k = 0; k < 8; k++) b.writeUInt16LE(v[k], o + 2 * k);
}

/**
 * Creates a BLF writer on a file path or sink.
 * @example
 * const w = await createBlfWriter('/tmp/out.blf', { measurementStart: new Date() });
 * await w.writeFrame({ timestamp: 0.5, id: 0x123, data: [1, 2, 3] });
 * await w.close();
 */
export async function createBlfWriter(
  target: WriteTarget,
  options: BlfWriterOptions = {},
): Promise<BlfWriter> {
  const sink = await toSink(target);
  const w = new BlfWriter(sink, options);
  try {
    await w.start();
  } catch (e) {
    throw toCanLogError(e);
  }
  return w;
}
