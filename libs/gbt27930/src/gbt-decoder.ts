/**
 * A streaming GB/T 27930 message decoder: CAN frames in, decoded message objects out
 * (single-frame messages directly, multi-packet ones after J1939 TP reassembly). It allocates
 * one object per message, so it serves traces, the census and tests; analysis uses the
 * allocation-free {@link SessionBuilder}.
 */
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from '@charge/can-log';
import { BMS_ADDRESS, CHARGER_ADDRESS, composeId, pgnOfId } from './can-id';
import { J1939Transport, type TransferFailure } from './j1939-transport';
import { messageForPgn, pgnLabel, Pgn } from './message-catalog';
import { decodeMessageFields, type DecodedFields } from './message-decoders';

/** One decoded GB/T message. */
export interface DecodedGbtMessage {
  /** Message code (`BCL`) or `PGN 0x3C00` for PGNs neither edition defines. */
  name: string;
  /** True when the 2011/2015 editions define the PGN. */
  known: boolean;
  pgn: number;
  source: number;
  destination: number;
  /** Time of the frame (for TP: of the last TP.DT). */
  time: number;
  /** True when reassembled from J1939 TP. */
  viaTp: boolean;
  /** Id of the frame, or for TP messages the id the message would have in one frame. */
  canId: number;
  /** Payload (a copy). */
  data: Uint8Array;
  fields: DecodedFields;
}

/** Callbacks of {@link GbtMessageDecoder}. */
export interface GbtDecoderListener {
  onMessage(message: DecodedGbtMessage): void;
  /** A TP transfer failed (abort, restarted by a new RTS, stale, unfinished at flush). */
  onTransferFailure?(failure: TransferFailure): void;
  /** A completed TP transfer closed (see {@link J1939Transport}). */
  onTransferClosed?(pgn: number, size: number, packets: number, eomAck: boolean): void;
}

/** True when the extended id is a frame between charger 0x56 and BMS 0xF4 (or a BAM from either). */
export function isGbtTraffic(id: number): boolean {
  const sa = id & 0xff;
  const da = (id >>> 8) & 0xff;
  if (sa === CHARGER_ADDRESS) return da === BMS_ADDRESS || da === 0xff;
  if (sa === BMS_ADDRESS) return da === CHARGER_ADDRESS || da === 0xff;
  return false;
}

/** Streaming decoder; see {@link DecodedGbtMessage}. */
export class GbtMessageDecoder {
  private readonly transport: J1939Transport;

  constructor(private readonly listener: GbtDecoderListener) {
    this.transport = new J1939Transport({
      onMessage: (pgn, source, destination, data, length, time) => {
        const def = messageForPgn(pgn);
        const copy = data.slice(0, length);
        this.listener.onMessage({
          name: pgnLabel(pgn),
          known: def !== undefined,
          pgn,
          source,
          destination,
          time,
          viaTp: true,
          canId: composeId(def?.priority ?? 7, pgn, source, destination),
          data: copy,
          fields: decodeMessageFields(pgn, copy, 0, length),
        });
      },
      onFailure: (f) => this.listener.onTransferFailure?.(f),
      onClosed: (pgn, size, packets, eomAck) => this.listener.onTransferClosed?.(pgn, size, packets, eomAck),
    });
  }

  /**
   * Feeds one frame. Returns `true` when the frame is GB/T traffic (charger↔BMS, 29-bit,
   * classic CAN), `false` otherwise.
   */
  pushFrame(time: number, id: number, flags: number, data: Uint8Array, off: number, len: number): boolean {
    if (
      (flags & (FrameFlag.Extended | FrameFlag.Error | FrameFlag.Fd | FrameFlag.Remote)) !==
      FrameFlag.Extended
    )
      return false;
    if (!isGbtTraffic(id)) return false;
    const sa = id & 0xff;
    const da = (id >>> 8) & 0xff;
    const pgn = pgnOfId(id);
    if (pgn === Pgn.TP_CM) {
      this.transport.connectionManagement(time, id, sa, da, data, off, len);
      return true;
    }
    if (pgn === Pgn.TP_DT) {
      this.transport.dataTransfer(time, sa, da, data, off, len);
      return true;
    }
    if (da === 0xff) return false;
    const copy = data.slice(off, off + len);
    this.listener.onMessage({
      name: pgnLabel(pgn),
      known: messageForPgn(pgn) !== undefined,
      pgn,
      source: sa,
      destination: da,
      time,
      viaTp: false,
      canId: id,
      data: copy,
      fields: decodeMessageFields(pgn, copy, 0, len),
    });
    return true;
  }

  /** Feeds every row of a batch. */
  push(batch: FrameBatch): void {
    for (let i = 0; i < batch.length; i++) {
      this.pushFrame(
        batch.timestamps[i],
        batch.ids[i],
        batch.flags[i],
        batch.data,
        i * MAX_PAYLOAD,
        batch.lengths[i],
      );
    }
  }

  /** Ends the stream: unfinished TP transfers are reported. */
  flush(now: number): void {
    this.transport.flush(now);
  }
}
