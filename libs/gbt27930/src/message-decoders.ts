/**
 * Object decoders for every GB/T 27930 message of the 2011 and 2015 editions. They serve the
 * trace, the census and evidence; the analysis hot path reads the same fields in place.
 *
 * 2011 layouts are prefixes of the 2015 ones (BRM 41 B without the software version, CML 6 B
 * without the minimum current, CCS 6 B without "charging permitted"), so each decoder
 * decodes the fields the payload length holds and leaves the others out.
 */
import { asciiOrNull, deciAmps, deciVolts, toHex, u16le, u24le, u32le } from './byte-fields';
import { messageForPgn, pgnLabel, Pgn } from './message-catalog';
import {
  BEM_FIELDS,
  BSM_FIELDS,
  BST_FIELDS,
  CEM_FIELDS,
  CST_FIELDS,
  type StatusField,
} from './status-fields';

/** A decoded value. */
export type DecodedValue = number | string | boolean | null | DecodedFields;
/** Decoded fields of one message, lowerCamelCase with the unit as suffix (`voltageDemandV`). */
export interface DecodedFields {
  [key: string]: DecodedValue;
}

/** Battery types of BRM byte 4. */
export const BATTERY_TYPES: Readonly<Record<number, string>> = {
  1: 'lead-acid',
  2: 'NiMH',
  3: 'LiFePO4',
  4: 'LiMn2O4',
  5: 'LiCoO2',
  6: 'ternary',
  7: 'Li-polymer',
  8: 'Li-titanate',
  255: 'other',
};

/** `LiMn2O4 (04)`-style battery type label. */
export function batteryTypeLabel(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(2, '0');
  return `${BATTERY_TYPES[code] ?? 'unknown'} (${hex})`;
}

/** Protocol version from 3 bytes (minor, major LE) as `major.minor`, e.g. `01 01 00` → `1.1`. */
export function protocolVersion(data: Uint8Array, off: number): string {
  return `${u16le(data, off + 1)}.${data[off]}`;
}

function readiness(b: number): string {
  return b === 0xaa ? 'ready' : b === 0x00 ? 'not ready' : b === 0xff ? 'invalid' : 'unknown';
}

function statusObject(
  fields: readonly StatusField[],
  data: Uint8Array,
  off: number,
  len: number,
): DecodedFields {
  const out: DecodedFields = {};
  for (const s of fields) {
    if (s.byte > len) continue;
    const v = (data[off + s.byte - 1] >> (s.bit - 1)) & 3;
    if (s.group) {
      const g = (out[s.group] ??= {}) as DecodedFields;
      g[s.key] = v;
    } else out[s.key] = v;
  }
  return out;
}

/** Decodes the payload of `pgn`. Unknown PGNs and short payloads give `{ raw }` only. */
export function decodeMessageFields(pgn: number, data: Uint8Array, off: number, len: number): DecodedFields {
  const has = (n: number) => len >= n;
  switch (pgn) {
    case Pgn.CHM:
      return has(3) ? { protocolVersion: protocolVersion(data, off) } : { raw: toHex(data, off, len) };
    case Pgn.BHM:
      return has(2)
        ? { maxAllowedChargeVoltageV: deciVolts(u16le(data, off)) }
        : { raw: toHex(data, off, len) };
    case Pgn.CRM: {
      if (!has(1)) return {};
      const out: DecodedFields = {
        recognition: data[off] === 0xaa ? 'recognised' : data[off] === 0 ? 'not recognised' : 'invalid',
      };
      if (has(5)) out.chargerNumber = u32le(data, off + 1);
      if (has(8)) out.regionCode = asciiOrNull(data, off + 5, 3);
      return out;
    }
    case Pgn.BRM: {
      if (!has(8)) return { raw: toHex(data, off, len) };
      const out: DecodedFields = {
        bmsProtocolVersion: protocolVersion(data, off),
        batteryType: data[off + 3],
        ratedCapacityAh: deciVolts(u16le(data, off + 4)),
        ratedVoltageV: deciVolts(u16le(data, off + 6)),
        length: len,
      };
      if (has(12)) out.manufacturer = asciiOrNull(data, off + 8, 4);
      if (has(16)) out.packSerial = u32le(data, off + 12);
      if (has(19)) {
        out.productionYear = data[off + 16] === 0xff ? null : data[off + 16] + 1985;
        out.productionMonth = data[off + 17] === 0xff ? null : data[off + 17];
        out.productionDay = data[off + 18] === 0xff ? null : data[off + 18];
      }
      if (has(22)) out.chargeCount = u24le(data, off + 19) === 0xffffff ? null : u24le(data, off + 19);
      if (has(23))
        out.ownership = data[off + 22] === 0 ? 'leased' : data[off + 22] === 1 ? 'vehicle-owned' : null;
      if (has(41)) out.vin = asciiOrNull(data, off + 24, 17);
      if (has(49)) out.bmsSoftwareVersion = toHex(data, off + 41, 8);
      return out;
    }
    case Pgn.BCP:
      if (!has(13)) return { raw: toHex(data, off, len) };
      return {
        cellMaxAllowedVoltageV: u16le(data, off) / 100,
        maxAllowedCurrentA: deciAmps(u16le(data, off + 2)),
        nominalEnergyKWh: u16le(data, off + 4) / 10,
        maxAllowedTotalVoltageV: deciVolts(u16le(data, off + 6)),
        maxAllowedTempC: data[off + 8] - 50,
        socPct: u16le(data, off + 9) / 10,
        batteryVoltageV: deciVolts(u16le(data, off + 11)),
      };
    case Pgn.CTS:
      return { bcd: toHex(data, off, len) };
    case Pgn.CML: {
      if (!has(6)) return { raw: toHex(data, off, len) };
      const out: DecodedFields = {
        maxOutputVoltageV: deciVolts(u16le(data, off)),
        minOutputVoltageV: deciVolts(u16le(data, off + 2)),
        maxOutputCurrentA: deciAmps(u16le(data, off + 4)),
      };
      if (has(8)) out.minOutputCurrentA = deciAmps(u16le(data, off + 6));
      return out;
    }
    case Pgn.BRO:
    case Pgn.CRO:
      return has(1) ? { ready: readiness(data[off]) } : {};
    case Pgn.BCL:
      if (!has(5)) return { raw: toHex(data, off, len) };
      return {
        voltageDemandV: deciVolts(u16le(data, off)),
        currentDemandA: deciAmps(u16le(data, off + 2)),
        mode: data[off + 4] === 1 ? 'constant voltage' : data[off + 4] === 2 ? 'constant current' : 'unknown',
      };
    case Pgn.BCS: {
      if (!has(9)) return { raw: toHex(data, off, len) };
      const cell = u16le(data, off + 4);
      return {
        measuredVoltageV: deciVolts(u16le(data, off)),
        measuredCurrentA: deciAmps(u16le(data, off + 2)),
        maxCellVoltageV: (cell & 0xfff) / 100,
        maxCellGroup: cell >> 12,
        socPct: data[off + 6],
        remainingTimeMin: u16le(data, off + 7),
      };
    }
    case Pgn.CCS: {
      if (!has(6)) return { raw: toHex(data, off, len) };
      const out: DecodedFields = {
        outputVoltageV: deciVolts(u16le(data, off)),
        outputCurrentA: deciAmps(u16le(data, off + 2)),
        chargingTimeMin: u16le(data, off + 4),
        length: len,
      };
      if (has(7)) out.chargingPermitted = data[off + 6] & 3;
      return out;
    }
    case Pgn.BSM: {
      if (!has(7)) return { raw: toHex(data, off, len) };
      const out: DecodedFields = {
        maxCellVoltageIndex: data[off] + 1,
        maxTempC: data[off + 1] - 50,
        maxTempProbe: data[off + 2] + 1,
        minTempC: data[off + 3] - 50,
        minTempProbe: data[off + 4] + 1,
      };
      const seen = new Set<string>();
      for (const s of BSM_FIELDS) {
        if (seen.has(s.key)) continue;
        seen.add(s.key);
        out[s.key] = (data[off + s.byte - 1] >> (s.bit - 1)) & 3;
      }
      out.chargingPermitted = (data[off + 6] >> 4) & 3;
      return out;
    }
    case Pgn.BMV: {
      const cells: DecodedFields = {};
      for (let i = 0; i + 1 < len; i += 2) {
        const v = u16le(data, off + i);
        cells[String(i / 2 + 1)] = (v & 0xfff) / 100;
      }
      return { cellVoltagesV: cells, count: Math.floor(len / 2) };
    }
    case Pgn.BMT: {
      const probes: DecodedFields = {};
      for (let i = 0; i < len; i++) probes[String(i + 1)] = data[off + i] - 50;
      return { temperaturesC: probes, count: len };
    }
    case Pgn.BSP:
      return { raw: toHex(data, off, len) };
    case Pgn.BST:
      return statusObject(BST_FIELDS, data, off, len);
    case Pgn.CST:
      return statusObject(CST_FIELDS, data, off, len);
    case Pgn.BSD:
      if (!has(7)) return { raw: toHex(data, off, len) };
      return {
        stopSocPct: data[off],
        minCellVoltageV: u16le(data, off + 1) / 100,
        maxCellVoltageV: u16le(data, off + 3) / 100,
        minTempC: data[off + 5] - 50,
        maxTempC: data[off + 6] - 50,
      };
    case Pgn.CSD: {
      if (!has(4)) return { raw: toHex(data, off, len) };
      const out: DecodedFields = {
        chargingTimeMin: u16le(data, off),
        energyKWh: u16le(data, off + 2) / 10,
      };
      if (has(8)) out.chargerNumber = u32le(data, off + 4);
      return out;
    }
    case Pgn.BEM:
      return statusObject(BEM_FIELDS, data, off, len);
    case Pgn.CEM:
      return statusObject(CEM_FIELDS, data, off, len);
    default:
      return messageForPgn(pgn)
        ? { raw: toHex(data, off, len) }
        : { raw: toHex(data, off, len), pgn: pgnLabel(pgn) };
  }
}
