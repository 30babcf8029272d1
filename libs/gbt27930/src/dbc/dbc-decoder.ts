/**
 * Decodes CAN (and CAN FD, up to 64 bytes) payloads through a {@link DbcDatabase}: Intel and
 * Motorola byte order, signed and float signals, scale/offset, value tables and simple or
 * extended multiplexing. Signals that do not fit a shorter payload are skipped.
 */
import { dbcKey, type DbcDatabase, type DbcMessage, type DbcSignal } from './dbc-types';

/** One decoded signal. */
export interface DecodedSignal {
  name: string;
  /** Raw value (a bigint for integer signals wider than 52 bits). */
  raw: number | bigint;
  /** Physical value `raw × factor + offset`. */
  value: number;
  unit: string;
  /** Value-table description of the raw value, if any. */
  label: string | null;
}

/** A decoded frame. */
export interface DecodedDbcFrame {
  message: string;
  signals: DecodedSignal[];
}

/** Signal layout compiled for fast extraction. */
export interface CompiledSignal {
  signal: DbcSignal;
  /** Payload bit positions, least significant bit of the value first. */
  bits: Uint16Array;
  /** Payload bytes needed. */
  bytesNeeded: number;
}

/** Bit positions of a signal, LSB of the value first (position = byte × 8 + bit-in-byte). */
export function signalBitPositions(signal: DbcSignal): Uint16Array {
  const bits = new Uint16Array(signal.length);
  if (signal.byteOrder === 'little_endian') {
    for (let k = 0; k < signal.length; k++) bits[k] = signal.startBit + k;
    return bits;
  }
  // Motorola: the start bit is the MSB; walk towards the LSB in sawtooth order.
  let pos = signal.startBit;
  for (let k = signal.length - 1; k >= 0; k--) {
    bits[k] = pos;
    if (pos % 8 === 0) pos += 15;
    else pos -= 1;
  }
  return bits;
}

/** Compiles a signal for {@link extractRaw}. */
export function compileSignal(signal: DbcSignal): CompiledSignal {
  const bits = signalBitPositions(signal);
  let max = 0;
  for (const b of bits) if (b > max) max = b;
  return { signal, bits, bytesNeeded: (max >> 3) + 1 };
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * The raw value of a compiled signal, or `null` when the payload is too short. Integer signals
 * of ≤ 52 bits are numbers; wider ones are bigints. Float signals return the float.
 */
export function extractRaw(
  c: CompiledSignal,
  data: Uint8Array,
  off: number,
  len: number,
): number | bigint | null {
  if (c.bytesNeeded > len) return null;
  const s = c.signal;
  const bits = c.bits;
  const n = bits.length;
  if (n <= 52 && s.valueType === 'integer') {
    let v = 0;
    let w = 1;
    for (let k = 0; k < n; k++) {
      const p = bits[k];
      if ((data[off + (p >> 3)] >> (p & 7)) & 1) v += w;
      w *= 2;
    }
    if (s.signed && v >= w / 2) v -= w;
    return v;
  }
  let v = 0n;
  for (let k = n - 1; k >= 0; k--) {
    const p = bits[k];
    v = (v << 1n) | BigInt((data[off + (p >> 3)] >> (p & 7)) & 1);
  }
  if (s.valueType === 'float32') {
    scratch.setUint32(0, Number(v));
    return scratch.getFloat32(0);
  }
  if (s.valueType === 'float64') {
    scratch.setBigUint64(0, v);
    return scratch.getFloat64(0);
  }
  if (s.signed && v >= 1n << BigInt(n - 1)) v -= 1n << BigInt(n);
  return v;
}

/** Physical value of a raw value. */
export function physicalValue(s: DbcSignal, raw: number | bigint): number {
  const r = typeof raw === 'bigint' ? Number(raw) : raw;
  if (s.valueType !== 'integer') return r * s.factor + s.offset;
  // Keep decimal factors exact where possible (0.1 × 4261 → 426.1, not 426.10000000000002).
  const v = r * s.factor + s.offset;
  const inv = 1 / s.factor;
  if (Number.isInteger(inv) && inv <= 1e6) {
    const scaled = Math.round(v * inv);
    if (Math.abs(scaled / inv - v) < 1e-9 * Math.max(1, Math.abs(v))) return scaled / inv;
  }
  return v;
}

/** Decoder over a database; compiles each message on first use. */
export class DbcDecoder {
  private readonly messages = new Map<number, DbcMessage>();
  private readonly compiled = new Map<number, CompiledSignal[]>();

  constructor(readonly database: DbcDatabase) {
    for (const m of database.messages) this.messages.set(dbcKey(m.id, m.extended), m);
  }

  /** The message definition for an id, if the DBC has one. */
  messageFor(id: number, extended: boolean): DbcMessage | undefined {
    return this.messages.get(dbcKey(id, extended));
  }

  /** Compiled signals of a message. */
  compiledSignals(m: DbcMessage): CompiledSignal[] {
    const k = dbcKey(m.id, m.extended);
    let c = this.compiled.get(k);
    if (!c) {
      c = m.signals.map(compileSignal);
      this.compiled.set(k, c);
    }
    return c;
  }

  /** Decodes a frame, or returns `null` when the DBC does not define its id. */
  decode(
    id: number,
    extended: boolean,
    data: Uint8Array,
    off = 0,
    len = data.length - off,
  ): DecodedDbcFrame | null {
    const m = this.messageFor(id, extended);
    if (!m) return null;
    return { message: m.name, signals: this.decodeMessage(m, data, off, len) };
  }

  /** Decodes the signals of `m` that are present in the payload (multiplexing applied). */
  decodeMessage(m: DbcMessage, data: Uint8Array, off: number, len: number): DecodedSignal[] {
    const compiled = this.compiledSignals(m);
    const active = activeSignals(compiled, data, off, len);
    const out: DecodedSignal[] = [];
    for (let i = 0; i < compiled.length; i++) {
      if (!active[i]) continue;
      const c = compiled[i];
      const raw = extractRaw(c, data, off, len);
      if (raw === null) continue;
      const s = c.signal;
      out.push({
        name: s.name,
        raw,
        value: physicalValue(s, raw),
        unit: s.unit,
        label: s.valueTable && typeof raw === 'number' ? (s.valueTable.get(raw) ?? null) : null,
      });
    }
    return out;
  }
}

/** Which signals are present under the payload's multiplexer values. */
export function activeSignals(
  compiled: CompiledSignal[],
  data: Uint8Array,
  off: number,
  len: number,
): boolean[] {
  const out = new Array<boolean>(compiled.length).fill(true);
  let simpleMux: number | null = null;
  let haveMux = false;
  const switches = new Map<string, number | null>();
  for (const c of compiled) {
    if (!c.signal.isMultiplexer) continue;
    const r = extractRaw(c, data, off, len);
    const v = typeof r === 'bigint' ? Number(r) : r;
    switches.set(c.signal.name, v);
    if (c.signal.multiplexerValue === null && !haveMux) {
      simpleMux = v;
      haveMux = true;
    }
  }
  for (let i = 0; i < compiled.length; i++) {
    const s = compiled[i].signal;
    if (s.multiplexerValue === null && s.multiplexerSwitch === null) continue;
    if (s.multiplexerSwitch !== null && s.multiplexerRanges) {
      const v = switches.get(s.multiplexerSwitch);
      out[i] = v !== undefined && v !== null && s.multiplexerRanges.some(([a, b]) => v >= a && v <= b);
    } else {
      out[i] = haveMux && simpleMux === s.multiplexerValue;
    }
  }
  return out;
}
