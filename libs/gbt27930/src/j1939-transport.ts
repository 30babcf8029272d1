/**
 * SAE J1939-21 transport-protocol reassembly (TP.CM / TP.DT): connection mode
 * RTS/CTS/EndOfMsgAck/Abort and broadcast (BAM), keyed by (source, destination).
 *
 * The reassembler is allocation-free per frame: every (source, destination) pair owns one
 * 1785-byte buffer that is reused for each transfer, and completed messages are handed to
 * the listener as (buffer, length) valid only during the call.
 */

/** TP.CM control bytes. */
export const TpControl = {
  Rts: 0x10,
  Cts: 0x11,
  EndOfMsgAck: 0x13,
  Bam: 0x20,
  Abort: 0xff,
} as const;

/** Largest message J1939 TP can carry (255 packets × 7 bytes). */
export const TP_MAX_SIZE = 1785;

/** Why a transfer ended without delivering its message. */
export type TransferFailureKind = 'abort' | 'restarted' | 'timeout' | 'incomplete';

/** A transfer that failed (an Abort, an RTS that never completed, a stale transfer). */
export interface TransferFailure {
  kind: TransferFailureKind;
  pgn: number;
  source: number;
  destination: number;
  /** J1939 abort reason (byte 2 of the Abort), `null` for other kinds. */
  abortReason: number | null;
  /** Announced size and packet count (0 when unknown, e.g. an Abort without an RTS). */
  size: number;
  packets: number;
  packetsReceived: number;
  /** Time of the RTS/BAM that opened the transfer (or of the Abort when there was none). */
  startTime: number;
  /** Time the failure was detected. */
  time: number;
  /** Id and data of the frame that ended the transfer (the Abort, the new RTS…), if any. */
  canId: number | null;
  data: Uint8Array | null;
}

/** Callbacks of {@link J1939Transport}. */
export interface TransportListener {
  /**
   * A complete message. `data[0..length)` is valid only during the call. `time` is the time of
   * the last TP.DT; `startTime` that of the RTS/BAM.
   */
  onMessage(
    pgn: number,
    source: number,
    destination: number,
    data: Uint8Array,
    length: number,
    time: number,
    startTime: number,
  ): void;
  /** A transfer failed. */
  onFailure?(failure: TransferFailure): void;
  /**
   * A completed transfer is closed (after its EndOfMsgAck, or without one when replaced by a new
   * RTS, at flush, or for BAM). Failed transfers go to `onFailure` instead.
   */
  onClosed?(pgn: number, size: number, packets: number, eomAck: boolean): void;
}

/** Options of {@link J1939Transport}. */
export interface TransportOptions {
  /** Max seconds between two TP.DT packets (J1939 T1, default 0.75 s). */
  packetTimeout?: number;
  /** Max seconds of silence otherwise (waiting for CTS / data, J1939 T2/T3, default 1.25 s). */
  responseTimeout?: number;
}

const enum State {
  Idle = 0,
  Receiving = 1,
  /** All packets arrived; waiting for EndOfMsgAck (connection mode). */
  Complete = 2,
}

class Transfer {
  state = State.Idle;
  pgn = 0;
  size = 0;
  packets = 0;
  received = 0;
  bam = false;
  lastWasData = false;
  startTime = 0;
  lastTime = 0;
  readonly buffer = new Uint8Array(TP_MAX_SIZE);
  readonly seen = new Uint8Array(256);
  constructor(
    readonly source: number,
    readonly destination: number,
  ) {}
}

/** Incremental J1939 TP reassembler. Feed it every TP.CM and TP.DT frame in time order. */
export class J1939Transport {
  private readonly transfers = new Map<number, Transfer>();
  private readonly packetTimeout: number;
  private readonly responseTimeout: number;

  constructor(
    private readonly listener: TransportListener,
    options: TransportOptions = {},
  ) {
    this.packetTimeout = options.packetTimeout ?? 0.75;
    this.responseTimeout = options.responseTimeout ?? 1.25;
  }

  /** Handles a TP.CM frame (PF 0xEC). `data[off..off+len)` is the payload. */
  connectionManagement(
    time: number,
    canId: number,
    source: number,
    destination: number,
    data: Uint8Array,
    off: number,
    len: number,
  ): void {
    if (len < 8) return;
    const control = data[off];
    const pgn = data[off + 5] | (data[off + 6] << 8) | (data[off + 7] << 16);
    switch (control) {
      case TpControl.Rts:
      case TpControl.Bam: {
        const bam = control === TpControl.Bam;
        const t = this.transfer(source, bam ? 0xff : destination);
        this.closeOpen(t, time, 'restarted', canId, data, off, len);
        const size = data[off + 1] | (data[off + 2] << 8);
        const packets = data[off + 3];
        if (size < 1 || size > TP_MAX_SIZE || packets < 1 || packets * 7 < size) {
          return; // a malformed announcement opens nothing
        }
        t.state = State.Receiving;
        t.pgn = pgn;
        t.size = size;
        t.packets = packets;
        t.received = 0;
        t.bam = bam;
        t.lastWasData = false;
        t.startTime = time;
        t.lastTime = time;
        t.seen.fill(0, 0, packets + 1);
        t.buffer.fill(0xff, 0, packets * 7);
        return;
      }
      case TpControl.Cts: {
        // Sent by the receiver: the transfer runs destination → source.
        const t = this.transfers.get(key(destination, source));
        if (t && t.state === State.Receiving) {
          this.expireIfStale(t, time);
          if (t.state === State.Receiving) {
            t.lastTime = time;
            t.lastWasData = false;
          }
        }
        return;
      }
      case TpControl.EndOfMsgAck: {
        const t = this.transfers.get(key(destination, source));
        if (t && t.state === State.Complete) {
          this.listener.onClosed?.(t.pgn, t.size, t.packets, true);
          t.state = State.Idle;
        }
        return;
      }
      case TpControl.Abort: {
        const reason = data[off + 1];
        let t = this.transfers.get(key(source, destination));
        if (!t || t.state !== State.Receiving) t = this.transfers.get(key(destination, source));
        if (t && t.state === State.Receiving) {
          this.fail(t, 'abort', time, reason, canId, data, off, len);
        } else {
          if (t && t.state === State.Complete) this.closeOpen(t, time, 'abort', canId, data, off, len);
          this.listener.onFailure?.({
            kind: 'abort',
            pgn,
            source,
            destination,
            abortReason: reason,
            size: 0,
            packets: 0,
            packetsReceived: 0,
            startTime: time,
            time,
            canId,
            data: data.slice(off, off + len),
          });
        }
        return;
      }
      default:
        return;
    }
  }

  /** Handles a TP.DT frame (PF 0xEB). */
  dataTransfer(
    time: number,
    source: number,
    destination: number,
    data: Uint8Array,
    off: number,
    len: number,
  ): void {
    if (len < 2) return;
    const t = this.transfers.get(key(source, destination));
    if (!t || t.state !== State.Receiving) return;
    this.expireIfStale(t, time);
    if (t.state !== State.Receiving) return;
    const seq = data[off];
    if (seq < 1 || seq > t.packets) return;
    t.lastTime = time;
    t.lastWasData = true;
    const at = (seq - 1) * 7;
    const n = len - 1 < 7 ? len - 1 : 7;
    const buf = t.buffer;
    for (let k = 0; k < n; k++) buf[at + k] = data[off + 1 + k];
    if (t.seen[seq] === 0) {
      t.seen[seq] = 1;
      t.received++;
      if (t.received === t.packets) {
        t.state = t.bam ? State.Idle : State.Complete;
        if (t.bam) this.listener.onClosed?.(t.pgn, t.size, t.packets, false);
        this.listener.onMessage(t.pgn, t.source, t.destination, t.buffer, t.size, time, t.startTime);
      }
    }
  }

  /** Expires transfers that have been silent longer than the J1939 timeouts. */
  expireStale(now: number): void {
    for (const t of this.transfers.values()) this.expireIfStale(t, now);
  }

  /** Ends the log: unfinished transfers fail as `incomplete`, completed ones are closed. */
  flush(now: number): void {
    for (const t of this.transfers.values()) {
      if (t.state === State.Receiving) this.fail(t, 'incomplete', now, null, null, null, 0, 0);
      else if (t.state === State.Complete) {
        this.listener.onClosed?.(t.pgn, t.size, t.packets, false);
        t.state = State.Idle;
      }
    }
  }

  /** Forgets every transfer without reporting anything. */
  reset(): void {
    this.transfers.clear();
  }

  private transfer(source: number, destination: number): Transfer {
    const k = key(source, destination);
    let t = this.transfers.get(k);
    if (!t) {
      t = new Transfer(source, destination);
      this.transfers.set(k, t);
    }
    return t;
  }

  private expireIfStale(t: Transfer, now: number): void {
    if (t.state !== State.Receiving) return;
    const limit = t.lastWasData ? this.packetTimeout : this.responseTimeout;
    if (now - t.lastTime > limit) this.fail(t, 'timeout', now, null, null, null, 0, 0);
  }

  private closeOpen(
    t: Transfer,
    time: number,
    kind: TransferFailureKind,
    canId: number | null,
    data: Uint8Array | null,
    off: number,
    len: number,
  ): void {
    if (t.state === State.Receiving) {
      this.expireIfStale(t, time);
      if (t.state === State.Receiving) this.fail(t, kind, time, null, canId, data, off, len);
    } else if (t.state === State.Complete) {
      this.listener.onClosed?.(t.pgn, t.size, t.packets, false);
      t.state = State.Idle;
    }
  }

  private fail(
    t: Transfer,
    kind: TransferFailureKind,
    time: number,
    reason: number | null,
    canId: number | null,
    data: Uint8Array | null,
    off: number,
    len: number,
  ): void {
    t.state = State.Idle;
    this.listener.onFailure?.({
      kind,
      pgn: t.pgn,
      source: t.source,
      destination: t.destination,
      abortReason: reason,
      size: t.size,
      packets: t.packets,
      packetsReceived: t.received,
      startTime: t.startTime,
      time,
      canId,
      data: data ? data.slice(off, off + len) : null,
    });
  }
}

function key(source: number, destination: number): number {
  return (source << 8) | destination;
}
