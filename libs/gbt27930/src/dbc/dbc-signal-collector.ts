/**
 * Collects DBC-decoded signal series during an analysis: for every frame whose id the DBC
 * defines, each present signal's physical value goes into a bounded downsampler.
 */
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from '@charge/can-log';
import type { SignalSeriesReport } from '../report-types';
import { SeriesDownsampler } from '../series-downsampler';
import { activeSignals, extractRaw, physicalValue, type CompiledSignal, DbcDecoder } from './dbc-decoder';
import { dbcKey, type DbcDatabase, type DbcMessage } from './dbc-types';

interface MessageSlot {
  message: DbcMessage;
  compiled: CompiledSignal[];
  hasMux: boolean;
  series: (SeriesDownsampler | null)[];
}

/** Signal series for one analysis. */
export class DbcSignalCollector {
  private readonly decoder: DbcDecoder;
  private readonly slots = new Map<number, MessageSlot>();

  constructor(
    database: DbcDatabase,
    private readonly maxPoints = 2000,
  ) {
    this.decoder = new DbcDecoder(database);
    for (const m of database.messages) {
      const compiled = this.decoder.compiledSignals(m);
      this.slots.set(dbcKey(m.id, m.extended), {
        message: m,
        compiled,
        hasMux: m.signals.some((s) => s.isMultiplexer || s.multiplexerValue !== null),
        series: compiled.map(() => null),
      });
    }
  }

  /** Decodes row `i` of `batch` if the DBC defines its id. */
  onFrame(batch: FrameBatch, i: number): void {
    const f = batch.flags[i];
    if ((f & (FrameFlag.Error | FrameFlag.Remote)) !== 0) return;
    const slot = this.slots.get(dbcKey(batch.ids[i], (f & FrameFlag.Extended) !== 0));
    if (!slot) return;
    const off = i * MAX_PAYLOAD;
    const len = batch.lengths[i];
    this.decodeInto(slot, batch.timestamps[i], batch.data, off, len);
  }

  /** Decodes a payload of message `id` at time `t` (e.g. a reassembled TP message). */
  onPayload(id: number, extended: boolean, t: number, data: Uint8Array, off: number, len: number): void {
    const slot = this.slots.get(dbcKey(id, extended));
    if (slot) this.decodeInto(slot, t, data, off, len);
  }

  /** The series collected, `t` relative to `origin` seconds. */
  toReport(origin: number): SignalSeriesReport[] {
    const out: SignalSeriesReport[] = [];
    for (const slot of this.slots.values()) {
      slot.series.forEach((s, k) => {
        if (!s) return;
        const sig = slot.compiled[k].signal;
        out.push({ message: slot.message.name, signal: sig.name, unit: sig.unit, points: s.points(origin) });
      });
    }
    return out;
  }

  private decodeInto(slot: MessageSlot, t: number, data: Uint8Array, off: number, len: number): void {
    const active = slot.hasMux ? activeSignals(slot.compiled, data, off, len) : null;
    for (let k = 0; k < slot.compiled.length; k++) {
      if (active && !active[k]) continue;
      const c = slot.compiled[k];
      const raw = extractRaw(c, data, off, len);
      if (raw === null) continue;
      let s = slot.series[k];
      if (!s) s = slot.series[k] = new SeriesDownsampler(this.maxPoints);
      s.add(t, physicalValue(c.signal, raw));
    }
  }
}
