/** What the writers accept, and the interface they share. */
import { CanLogError } from './errors';
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';

/**
 * A frame to write. {@link CanFrame} satisfies it; flags default to false, `channel` to 1,
 * `dlc` to the length (or its CAN FD DLC code).
 */
export interface FrameInput {
  /** Seconds since measurement start (≥ 0). */
  timestamp: number;
  id: number;
  data?: Uint8Array | readonly number[];
  extended?: boolean;
  remote?: boolean;
  error?: boolean;
  fd?: boolean;
  brs?: boolean;
  esi?: boolean;
  tx?: boolean;
  channel?: number;
  dlc?: number;
}

/** Common writer interface (BLF, ASC, CSV, candump). */
export interface LogWriter {
  /** Appends one frame. */
  writeFrame(frame: FrameInput): Promise<void>;
  /** Appends every row of a batch. */
  writeBatch(batch: FrameBatch): Promise<void>;
  /** Flushes and finalises the output; further writes fail. */
  close(): Promise<void>;
  /** Frames (including error frames) written so far. */
  readonly framesWritten: number;
}

/** A one-row batch used to route {@link FrameInput}s through the batch path. */
export class SingleRow implements FrameBatch {
  length = 1;
  timestamps = new Float64Array(1);
  ids = new Uint32Array(1);
  flags = new Uint8Array(1);
  channels = new Uint16Array(1);
  dlcs = new Uint8Array(1);
  lengths = new Uint8Array(1);
  data = new Uint8Array(MAX_PAYLOAD);

  /** Loads `f` into the row, validating it. */
  load(f: FrameInput): this {
    const data = f.data ?? [];
    if (!Number.isFinite(f.timestamp))
      throw new CanLogError('INVALID_ARGUMENT', 'frame timestamp must be finite');
    if (!Number.isInteger(f.id) || f.id < 0 || f.id > 0x1fffffff) {
      throw new CanLogError('INVALID_ARGUMENT', `frame id ${f.id} out of range`);
    }
    if (data.length > MAX_PAYLOAD)
      throw new CanLogError('INVALID_ARGUMENT', `payload of ${data.length} bytes`);
    let flags = 0;
    if (f.extended) flags |= FrameFlag.Extended;
    if (f.remote) flags |= FrameFlag.Remote;
    if (f.error) flags |= FrameFlag.Error;
    if (f.fd) flags |= FrameFlag.Fd;
    if (f.brs) flags |= FrameFlag.Brs;
    if (f.esi) flags |= FrameFlag.Esi;
    if (f.tx) flags |= FrameFlag.Tx;
    this.timestamps[0] = f.timestamp;
    this.ids[0] = f.id;
    this.flags[0] = flags;
    this.channels[0] = f.channel ?? 1;
    this.lengths[0] = data.length;
    for (let i = 0; i < data.length; i++) this.data[i] = data[i];
    this.dlcs[0] = f.dlc ?? lengthToDlc(data.length, f.fd === true);
    return this;
  }
}

function lengthToDlc(len: number, fd: boolean): number {
  if (!fd || len <= 8) return len;
  const table = [12, 16, 20, 24, 32, 48, 64];
  const i = table.findIndex((n) => n >= len);
  return 9 + (i < 0 ? 6 : i);
}

/** Formats bytes as upper-case hex, joined by `sep`. */
export function hexBytes(data: Uint8Array, from: number, n: number, sep: string): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const v = data[from + i];
    if (i > 0) s += sep;
    s += HEX[v];
  }
  return s;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));
