/**
 * Parses the inner BLF object stream (the concatenated, inflated container payloads)
 * into frame batches. Objects may be split across containers: the unparsed tail is kept
 * and completed by the next `append()`. Decoding writes straight into the batch arrays;
 * nothing is allocated per frame.
 */
import { BLF_OBJECT_SIGNATURE } from './blf-constants';
import type { FrameBatch } from './frame';
import type { StatsCollector, WarningSink } from './log-stats';

// Hot-path constants are local (not imported) so that bundlers' export getters stay out of the loop.
const CAN_MESSAGE = 1;
const CAN_ERROR = 2;
const CAN_ERROR_EXT = 73;
const CAN_MESSAGE2 = 86;
const CAN_FD_MESSAGE = 100;
const CAN_FD_MESSAGE_64 = 101;
const CAN_FD_ERROR_64 = 104;
/** Mirrors FrameFlag in frame.ts. */
const F_EXTENDED = 1;
const F_REMOTE = 2;
const F_ERROR = 4;
const F_FD = 8;
const F_BRS = 16;
const F_ESI = 32;
const F_TX = 64;
const ROW_BYTES = 64; // ROW_BYTES
const L = 0x4c; // 'L'
const O = 0x4f;
const B = 0x42;
const J = 0x4a;

/** Result of {@link BlfObjectParser.parse}. */
export const ParseState = {
  /** The batch is full; call again after consuming it. */
  BatchFull: 0,
  /** All buffered data is parsed (or an object waits for more). */
  NeedData: 1,
} as const;
export type ParseState = (typeof ParseState)[keyof typeof ParseState];

export class BlfObjectParser {
  private data: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private own: Uint8Array;
  /** File offset of the container currently being parsed (for warnings). */
  containerOffset = 0;
  private junkNonZero = false;
  private junkSkipped = -1;

  constructor(
    private readonly stats: StatsCollector,
    private readonly warnings: WarningSink,
    private readonly maxObjectSize: number,
  ) {
    this.own = Buffer.allocUnsafe(256 * 1024);
  }

  /** Bytes buffered but not yet parsed. */
  get pending(): number {
    return this.end - this.pos;
  }

  /**
   * Adds inner-stream bytes. The array is used in place until the next {@link detach},
   * so the caller must not modify it before then.
   */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.end === this.pos) {
      this.data = chunk;
      this.pos = 0;
      this.end = chunk.length;
      return;
    }
    this.detach(chunk.length);
    this.own.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Copies unparsed bytes into the parser's own buffer (before the caller reuses its memory). */
  detach(extra = 0): void {
    const live = this.end - this.pos;
    if (this.data === this.own && this.own.length - this.pos >= live + extra) return;
    let target = this.own;
    if (target.length < live + extra) target = Buffer.allocUnsafe(Math.max(live + extra, target.length * 2));
    if (live > 0) target.set(this.data.subarray(this.pos, this.end), 0);
    this.own = target;
    this.data = target;
    this.pos = 0;
    this.end = live;
  }

  /** Drops buffered bytes after a gap in the stream (a container that could not be read). */
  gap(): void {
    this.pos = this.end;
  }

  /** Parses as many whole objects as are buffered, filling `batch` up to its capacity. */
  parse(batch: FrameBatch): ParseState {
    const d = this.data;
    const end = this.end;
    const cap = batch.timestamps.length;
    let p = this.pos;
    let row = batch.length;
    const stats = this.stats;
    let state: ParseState = ParseState.NeedData;
    while (true) {
      if (row >= cap) {
        state = ParseState.BatchFull;
        break;
      }
      if (end - p < 16) break;
      if (d[p] !== L || d[p + 1] !== O || d[p + 2] !== B || d[p + 3] !== J) {
        // Padding (objectSize % 4 rule or none) or junk: scan to the next signature.
        if (this.junkSkipped < 0) this.junkSkipped = 0;
        const limit = end - 3;
        let q = p;
        while (q < limit && !(d[q] === L && d[q + 1] === O && d[q + 2] === B && d[q + 3] === J)) {
          if (d[q] !== 0) this.junkNonZero = true;
          q++;
        }
        this.junkSkipped += q - p;
        p = q;
        if (q >= limit) break;
        this.endJunk();
      } else if (this.junkSkipped >= 0) {
        this.endJunk();
      }
      const headerSize = d[p + 4] | (d[p + 5] << 8);
      const objectSize = (d[p + 8] | (d[p + 9] << 8) | (d[p + 10] << 16) | (d[p + 11] << 24)) >>> 0;
      if (objectSize < 16 || headerSize < 16 || headerSize > objectSize || objectSize > this.maxObjectSize) {
        this.warnings.add(
          'BAD_OBJECT_HEADER',
          `object with headerSize ${headerSize} and objectSize ${objectSize} skipped`,
          { offset: this.containerOffset },
        );
        p += 4;
        continue;
      }
      if (end - p < objectSize) break;
      const type = (d[p + 12] | (d[p + 13] << 8) | (d[p + 14] << 16) | (d[p + 15] << 24)) >>> 0;
      stats.countType(type);
      if (
        type === CAN_MESSAGE ||
        type === CAN_MESSAGE2 ||
        type === CAN_FD_MESSAGE ||
        type === CAN_FD_MESSAGE_64 ||
        type === CAN_ERROR ||
        type === CAN_ERROR_EXT ||
        type === CAN_FD_ERROR_64
      ) {
        if (this.decodeFrame(d, p, headerSize, objectSize, type, batch, row)) row++;
      }
      p += objectSize;
    }
    this.pos = p;
    batch.length = row;
    return state;
  }

  /** Called at end of input: reports what could not be parsed. */
  finish(): void {
    const rest = this.end - this.pos;
    if (rest <= 0) return;
    const d = this.data;
    const p = this.pos;
    let sig = -1;
    let nonZero = this.junkNonZero;
    for (let q = p; q < this.end; q++) {
      if (q + 3 < this.end && d[q] === L && d[q + 1] === O && d[q + 2] === B && d[q + 3] === J) {
        sig = q;
        break;
      }
      if (d[q] !== 0) nonZero = true;
    }
    if (sig >= 0) {
      this.warnings.add(
        'TRUNCATED_OBJECT',
        `the last object is truncated (${this.end - sig} bytes present)`,
        {
          offset: this.containerOffset,
        },
      );
    } else if (nonZero) {
      this.warnings.add('TRAILING_BYTES', `${rest} bytes after the last object could not be parsed`, {
        offset: this.containerOffset,
      });
    }
    this.pos = this.end;
  }

  private endJunk(): void {
    const skipped = this.junkSkipped;
    if (this.junkNonZero || skipped > 7) {
      this.warnings.add('SKIPPED_BYTES', `${skipped} bytes without an object signature skipped`, {
        offset: this.containerOffset,
      });
    }
    this.junkSkipped = -1;
    this.junkNonZero = false;
  }

  private decodeFrame(
    d: Uint8Array,
    p: number,
    hs: number,
    os: number,
    type: number,
    batch: FrameBatch,
    row: number,
  ): boolean {
    if (hs < 32) {
      this.warnings.add('BAD_OBJECT_HEADER', `CAN object with a ${hs}-byte header skipped`, {
        offset: this.containerOffset,
      });
      return false;
    }
    const b = p + hs;
    const bodySize = os - hs;
    const lo = (d[p + 24] | (d[p + 25] << 8) | (d[p + 26] << 16) | (d[p + 27] << 24)) >>> 0;
    const hi = (d[p + 28] | (d[p + 29] << 8) | (d[p + 30] << 16) | (d[p + 31] << 24)) >>> 0;
    const timeFlags = (d[p + 16] | (d[p + 17] << 8) | (d[p + 18] << 16) | (d[p + 19] << 24)) >>> 0;
    const ticks = hi * 4294967296 + lo;
    const out = batch.data;
    const o = row * ROW_BYTES;
    let flags = 0;
    let channel: number;
    let dlc: number;
    let id = 0;
    let length: number;
    let stored: number;
    let src: number;
    switch (type) {
      case CAN_MESSAGE:
      case CAN_MESSAGE2: {
        if (bodySize < 16) return this.short(type, os);
        channel = d[b] | (d[b + 1] << 8);
        const f = d[b + 2];
        dlc = d[b + 3];
        id = (d[b + 4] | (d[b + 5] << 8) | (d[b + 6] << 16) | (d[b + 7] << 24)) >>> 0;
        if (f & 0x01) flags |= F_TX;
        if (f & 0x80) flags |= F_REMOTE;
        const area = type === CAN_MESSAGE ? 8 : Math.min(8, bodySize - 16);
        length = dlc < 8 ? dlc : 8;
        stored = length < area ? length : area;
        src = b + 8;
        break;
      }
      case CAN_FD_MESSAGE: {
        if (bodySize < 20) return this.short(type, os);
        channel = d[b] | (d[b + 1] << 8);
        const f = d[b + 2];
        dlc = d[b + 3];
        id = (d[b + 4] | (d[b + 5] << 8) | (d[b + 6] << 16) | (d[b + 7] << 24)) >>> 0;
        const fd = d[b + 13];
        if (f & 0x01) flags |= F_TX;
        if (f & 0x80) flags |= F_REMOTE;
        if (fd & 0x01) flags |= F_FD;
        if (fd & 0x02) flags |= F_BRS;
        if (fd & 0x04) flags |= F_ESI;
        const valid = d[b + 14];
        length = valid < 64 ? valid : 64;
        const area = bodySize - 20;
        stored = length < area ? length : area;
        src = b + 20;
        break;
      }
      case CAN_FD_MESSAGE_64: {
        if (bodySize < 40) return this.short(type, os);
        channel = d[b];
        dlc = d[b + 1];
        const valid = d[b + 2];
        id = (d[b + 4] | (d[b + 5] << 8) | (d[b + 6] << 16) | (d[b + 7] << 24)) >>> 0;
        const f = d[b + 12] | (d[b + 13] << 8);
        if (f & 0x0010) flags |= F_REMOTE;
        if (f & 0x1000) flags |= F_FD;
        if (f & 0x2000) flags |= F_BRS;
        if (f & 0x4000) flags |= F_ESI;
        if (d[b + 34] !== 0) flags |= F_TX;
        const ext = d[b + 35];
        const limit = ext >= hs + 40 && ext < os ? ext : os;
        length = valid < 64 ? valid : 64;
        const area = limit - hs - 40;
        stored = length < area ? length : area;
        src = b + 40;
        break;
      }
      case CAN_ERROR: {
        if (bodySize < 2) return this.short(type, os);
        channel = d[b] | (d[b + 1] << 8);
        flags = F_ERROR;
        dlc = 0;
        length = 0;
        stored = 0;
        src = b;
        break;
      }
      case CAN_ERROR_EXT: {
        if (bodySize < 24) return this.short(type, os);
        channel = d[b] | (d[b + 1] << 8);
        dlc = d[b + 10];
        id = (d[b + 16] | (d[b + 17] << 8) | (d[b + 18] << 16) | (d[b + 19] << 24)) >>> 0;
        const ext = (d[b + 21] >> 4) & 3; // flagsExt bits 12-13: 0 RX-NAK, 1 TX-NAK, 2 RX, 3 TX
        flags = F_ERROR;
        if (ext === 1 || ext === 3) flags |= F_TX;
        const area = Math.min(8, bodySize - 24);
        length = dlc < 8 ? dlc : 8;
        stored = length < area ? length : area;
        src = b + 24;
        break;
      }
      default: {
        // CAN_FD_ERROR_64
        if (bodySize < 44) return this.short(type, os);
        channel = d[b];
        dlc = d[b + 1];
        const valid = d[b + 2];
        const extFlags = d[b + 8] | (d[b + 9] << 8);
        const ext = d[b + 10];
        id = (d[b + 12] | (d[b + 13] << 8) | (d[b + 14] << 16) | (d[b + 15] << 24)) >>> 0;
        flags = F_ERROR;
        if (extFlags & 1) flags |= F_FD;
        if (extFlags & 2) flags |= F_BRS;
        if (extFlags & 4) flags |= F_ESI;
        const limit = ext >= hs + 44 && ext < os ? ext : os;
        length = valid < 64 ? valid : 64;
        const area = limit - hs - 44;
        stored = length < area ? length : area;
        src = b + 44;
        break;
      }
    }
    if (id & 0x80000000) flags |= F_EXTENDED;
    if (stored < 0) stored = 0;
    for (let i = 0; i < stored; i++) out[o + i] = d[src + i];
    for (let i = stored; i < length; i++) out[o + i] = 0;
    batch.timestamps[row] = timeFlags === 1 ? ticks / 100000 : ticks / 1e9;
    batch.ids[row] = id & 0x1fffffff;
    batch.flags[row] = flags;
    batch.channels[row] = channel;
    batch.dlcs[row] = dlc;
    batch.lengths[row] = length;
    return true;
  }

  private short(type: number, os: number): false {
    this.warnings.add('SHORT_OBJECT', `object of type ${type} is too short (${os} bytes); skipped`, {
      offset: this.containerOffset,
    });
    return false;
  }
}

/** True when the 4 bytes at `p` are `LOBJ`. */
export function isObjectSignature(d: Uint8Array, p: number): boolean {
  return (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)) >>> 0 === BLF_OBJECT_SIGNATURE;
}
