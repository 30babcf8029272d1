/**
 * A census of the GB/T traffic in a log: message counts, DLCs, TP transfers, edition hints,
 * first-seen times and the first decoded instances. It mirrors the fields of the project's
 * `EXPECTED_GBT.json` so real logs can be checked against it.
 */
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from '@charge/can-log';
import { formatCanId, pgnOfId } from './can-id';
import { GbtMessageDecoder, type DecodedGbtMessage } from './gbt-decoder';
import { pgnLabel, Pgn } from './message-catalog';
import { toHex } from './byte-fields';
import type { DecodedFields } from './message-decoders';

/** A TP transfer kind and how many times it occurred. */
export interface TpTransferCount {
  message: string;
  size: number;
  packets: number;
  complete: boolean;
  eomAck: boolean;
  count: number;
}

/** One early decoded instance of a message. */
export interface DecodedSample {
  t: number;
  viaTP: boolean;
  data: string;
  decoded: DecodedFields;
}

/** The census; see {@link MessageCensus}. */
export interface CensusResult {
  frames: number;
  timeSpanS: number;
  editionHints: {
    chmBhmPresent: boolean;
    brmProtocolVersionBytes: string | null;
    brmLength: number | null;
    ccsDlcs: Record<string, number>;
    cmlDlcs: Record<string, number>;
  };
  /** Single-frame messages per frame, multi-packet ones per completed transfer. */
  messageCounts: Record<string, number>;
  dlcByMessage: Record<string, Record<string, number>>;
  /** Seconds from the first frame of the log to the first instance of each message. */
  phaseFirstSeenS: Record<string, number>;
  /** Transfers that completed (with or without EndOfMsgAck) or were aborted by a TP.CM Abort. */
  tpTransfers: TpTransferCount[];
  /** Transfers replaced by a new RTS, expired, or unfinished at the end of the log (plus stray Aborts). */
  tpUnfinished: number;
  /** Frames of other nodes, per id. */
  unknownIds: Record<string, number>;
  firstDecoded: Record<string, DecodedSample[]>;
}

/** Collects a {@link CensusResult}; feed frames with `push`, then call `finish`. */
export class MessageCensus {
  private frames = 0;
  private firstTime = Number.NaN;
  private lastTime = Number.NaN;
  private readonly counts: Record<string, number> = {};
  private readonly dlcs: Record<string, Record<string, number>> = {};
  private readonly firstSeen: Record<string, number> = {};
  private readonly transfers = new Map<string, TpTransferCount>();
  private readonly unknown: Record<string, number> = {};
  private readonly samples: Record<string, DecodedSample[]> = {};
  private chmBhm = false;
  private unfinished = 0;
  private brmVersion: string | null = null;
  private brmLength: number | null = null;
  private readonly decoder: GbtMessageDecoder;

  constructor(private readonly samplesPerMessage = 3) {
    this.decoder = new GbtMessageDecoder({
      onMessage: (m) => this.onMessage(m),
      onTransferClosed: (pgn, size, packets, eomAck) => this.countTransfer(pgn, size, packets, true, eomAck),
      onTransferFailure: (f) => {
        if (f.kind === 'abort' && f.packets > 0) this.countTransfer(f.pgn, f.size, f.packets, false, false);
        else this.unfinished++;
      },
    });
  }

  private countTransfer(
    pgn: number,
    size: number,
    packets: number,
    complete: boolean,
    eomAck: boolean,
  ): void {
    {
      {
        const message = pgnLabel(pgn);
        const k = `${message}/${size}/${packets}/${complete}/${eomAck}`;
        const e = this.transfers.get(k);
        if (e) e.count++;
        else this.transfers.set(k, { message, size, packets, complete, eomAck, count: 1 });
      }
    }
  }

  /** Feeds one batch. */
  push(batch: FrameBatch): void {
    for (let i = 0; i < batch.length; i++) {
      const flags = batch.flags[i];
      const t = batch.timestamps[i];
      if (this.frames === 0) this.firstTime = t;
      this.frames++;
      this.lastTime = t;
      const id = batch.ids[i];
      const off = i * MAX_PAYLOAD;
      const len = batch.lengths[i];
      const gbt = this.decoder.pushFrame(t, id, flags, batch.data, off, len);
      if (!gbt) {
        const k = formatCanId(id, (flags & FrameFlag.Extended) !== 0);
        this.unknown[k] = (this.unknown[k] ?? 0) + 1;
        continue;
      }
      const pgn = pgnOfId(id);
      const name = pgn === Pgn.TP_CM ? 'TP.CM' : pgn === Pgn.TP_DT ? 'TP.DT' : pgnLabel(pgn);
      if (pgn === Pgn.TP_CM || pgn === Pgn.TP_DT) this.counts[name] = (this.counts[name] ?? 0) + 1;
      const d = (this.dlcs[name] ??= {});
      d[String(len)] = (d[String(len)] ?? 0) + 1;
    }
  }

  /** Ends the log and returns the census. */
  finish(): CensusResult {
    this.decoder.flush(this.lastTime);
    const sorted = <T>(o: Record<string, T>) =>
      Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    return {
      frames: this.frames,
      timeSpanS: this.frames ? this.lastTime - this.firstTime : 0,
      editionHints: {
        chmBhmPresent: this.chmBhm,
        brmProtocolVersionBytes: this.brmVersion,
        brmLength: this.brmLength,
        ccsDlcs: this.dlcs.CCS ?? {},
        cmlDlcs: this.dlcs.CML ?? {},
      },
      messageCounts: sorted(this.counts),
      dlcByMessage: sorted(this.dlcs),
      phaseFirstSeenS: this.firstSeen,
      tpTransfers: [...this.transfers.values()].sort((a, b) =>
        a.message === b.message ? Number(b.complete) - Number(a.complete) : a.message < b.message ? -1 : 1,
      ),
      tpUnfinished: this.unfinished,
      unknownIds: this.unknown,
      firstDecoded: this.samples,
    };
  }

  private onMessage(m: DecodedGbtMessage): void {
    this.counts[m.name] = (this.counts[m.name] ?? 0) + 1;
    if (this.firstSeen[m.name] === undefined) this.firstSeen[m.name] = m.time - this.firstTime;
    if (m.pgn === Pgn.CHM || m.pgn === Pgn.BHM) this.chmBhm = true;
    if (m.pgn === Pgn.BRM && this.brmVersion === null && m.data.length >= 3) {
      this.brmVersion = toHex(m.data, 0, 3);
      this.brmLength = m.data.length;
    }
    const list = (this.samples[m.name] ??= []);
    if (list.length < this.samplesPerMessage)
      list.push({ t: m.time, viaTP: m.viaTp, data: toHex(m.data, 0, m.data.length), decoded: m.fields });
  }
}
