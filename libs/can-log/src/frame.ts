/**
 * The frame model shared by every reader and writer.
 *
 * Readers yield {@link FrameBatch}es: struct-of-arrays views that are reused between
 * iterations (valid until the consumer asks for the next batch), so that iterating
 * millions of frames allocates nothing per frame. `toFrame()` copies one row into a
 * plain {@link CanFrame} for code that prefers objects.
 */

/** Bit flags in {@link FrameBatch.flags}. */
export const FrameFlag = {
  /** 29-bit identifier. */
  Extended: 1 << 0,
  /** Remote transmission request. */
  Remote: 1 << 1,
  /** Error frame (id/data describe the error where the format says so). */
  Error: 1 << 2,
  /** CAN FD frame (EDL). */
  Fd: 1 << 3,
  /** CAN FD bit-rate switch. */
  Brs: 1 << 4,
  /** CAN FD error-state indicator. */
  Esi: 1 << 5,
  /** Transmitted by the logger's own node (Tx); otherwise received. */
  Tx: 1 << 6,
} as const;

/** Largest payload of any frame (CAN FD). Row `i` of `data` starts at `i * MAX_PAYLOAD`. */
export const MAX_PAYLOAD = 64;

export interface FrameBatch {
  /** Number of valid rows; arrays may be longer. */
  length: number;
  /** Seconds since the log's measurement start. */
  timestamps: Float64Array;
  /** Arbitration id without flag bits. */
  ids: Uint32Array;
  /** {@link FrameFlag} bits. */
  flags: Uint8Array;
  /** 1-based channel as the log states it (0 when unknown). */
  channels: Uint16Array;
  /** DLC code as on the bus (0..15 for CAN FD). */
  dlcs: Uint8Array;
  /** Payload length in bytes (0..64). */
  lengths: Uint8Array;
  /** Payload bytes, MAX_PAYLOAD bytes per row. */
  data: Uint8Array;
}

/** One frame as a plain object (allocates; use for convenience paths, not hot loops). */
export interface CanFrame {
  timestamp: number;
  id: number;
  extended: boolean;
  remote: boolean;
  error: boolean;
  fd: boolean;
  brs: boolean;
  esi: boolean;
  tx: boolean;
  channel: number;
  dlc: number;
  data: Uint8Array;
}

/** A non-fatal problem met while reading (truncated container, skipped object, …). */
export interface ReadWarning {
  /** Stable machine code, e.g. `TRUNCATED_CONTAINER`. */
  code: string;
  message: string;
  /** Byte offset in the file (or line number for text formats, see `line`). */
  offset?: number;
  line?: number;
}

/** Copies row `i` of a batch into a plain frame object. */
export function toFrame(batch: FrameBatch, i: number): CanFrame {
  const f = batch.flags[i];
  const len = batch.lengths[i];
  const start = i * MAX_PAYLOAD;
  return {
    timestamp: batch.timestamps[i],
    id: batch.ids[i],
    extended: (f & FrameFlag.Extended) !== 0,
    remote: (f & FrameFlag.Remote) !== 0,
    error: (f & FrameFlag.Error) !== 0,
    fd: (f & FrameFlag.Fd) !== 0,
    brs: (f & FrameFlag.Brs) !== 0,
    esi: (f & FrameFlag.Esi) !== 0,
    tx: (f & FrameFlag.Tx) !== 0,
    channel: batch.channels[i],
    dlc: batch.dlcs[i],
    data: batch.data.slice(start, start + len),
  };
}

/** Allocates an empty batch able to hold `capacity` rows. */
export function createBatch(capacity: number): FrameBatch {
  return {
    length: 0,
    timestamps: new Float64Array(capacity),
    ids: new Uint32Array(capacity),
    flags: new Uint8Array(capacity),
    channels: new Uint16Array(capacity),
    dlcs: new Uint8Array(capacity),
    lengths: new Uint8Array(capacity),
    data: new Uint8Array(capacity * MAX_PAYLOAD),
  };
}
