/** The in-memory model of a DBC database. */

/** Intel (`@1`, little-endian) or Motorola (`@0`, big-endian) byte order. */
export type DbcByteOrder = 'little_endian' | 'big_endian';

/** How the raw bits are interpreted (`SIG_VALTYPE_`). */
export type DbcValueType = 'integer' | 'float32' | 'float64';

/** One signal (`SG_`). */
export interface DbcSignal {
  name: string;
  /** Start bit as written in the DBC (LSB for Intel, MSB in sawtooth numbering for Motorola). */
  startBit: number;
  length: number;
  byteOrder: DbcByteOrder;
  signed: boolean;
  valueType: DbcValueType;
  factor: number;
  offset: number;
  minimum: number;
  maximum: number;
  unit: string;
  receivers: string[];
  /** True for the multiplexor switch (`M`, or `mNM` in extended multiplexing). */
  isMultiplexer: boolean;
  /** For a multiplexed signal (`mN`): the switch value N; otherwise null. */
  multiplexerValue: number | null;
  /**
   * Extended multiplexing (`SG_MUL_VAL_`): the switch signal and accepted value ranges.
   * When absent, a multiplexed signal depends on the message's (only) `M` signal.
   */
  multiplexerSwitch: string | null;
  multiplexerRanges: [number, number][] | null;
  /** `VAL_` descriptions by raw value. */
  valueTable: Map<number, string> | null;
  comment: string | null;
}

/** One message (`BO_`). */
export interface DbcMessage {
  /** Arbitration id without the extended flag. */
  id: number;
  extended: boolean;
  name: string;
  /** Declared size in bytes (up to 64 for CAN FD). */
  size: number;
  sender: string;
  signals: DbcSignal[];
  comment: string | null;
  /** `GenMsgCycleTime` attribute, when present. */
  cycleTimeMs: number | null;
}

/** A parsed DBC file. */
export interface DbcDatabase {
  version: string;
  nodes: string[];
  messages: DbcMessage[];
  /** Value tables declared with `VAL_TABLE_`. */
  valueTables: Map<string, Map<number, string>>;
  comment: string | null;
}

/** Lookup key of a message: extended ids carry bit 31, as in DBC files. */
export function dbcKey(id: number, extended: boolean): number {
  return extended ? (id | 0x80000000) >>> 0 : id >>> 0;
}
