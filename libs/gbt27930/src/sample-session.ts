/**
 * A realistic GB/T 27930-2015 charging session written as BLF: handshake (CHM/BHM, CRM,
 * BRM by TP), configuration (BCP by TP, CTS/CML, BRO, CRO), charging (BCL and CCS every
 * 50 ms, BCS by TP and BSM every 250 ms, a vehicle-bus frame on channel 2 every 100 s) and
 * the end (BST/CST at 10 ms, then BSD/CSD), optionally ending in a fault the analyzer reports.
 *
 * Used by `charge-analysis sample` (the demo log) and by `npm run bench:engine` (2,000,000
 * frames). The output is deterministic for a given frame count, fault and seed.
 */
import {
  createBatch,
  createBlfWriter,
  FrameFlag,
  MAX_PAYLOAD,
  seededRandom,
  type BlfWriter,
  type FrameBatch,
  type WriteTarget,
} from '@charge/can-log';

/** How a sample session ends. */
export type SampleFault = 'none' | 'battery-overtemp' | 'insulation' | 'charger-overtemp' | 'bcl-timeout';

/** What each {@link SampleFault} does and what the analyzer reports for it. */
export interface SampleFaultInfo {
  /** One line for people. */
  description: string;
  /** Who sends the first stop message. */
  stopInitiator: 'bms' | 'charger';
  /** The finding codes the analyzer reports for the session, sorted. */
  findings: readonly string[];
}

/** The faults of {@link writeSampleSession}, in the order they are listed to users. */
export const SAMPLE_FAULTS: Readonly<Record<SampleFault, SampleFaultInfo>> = {
  'battery-overtemp': {
    description: 'battery pack overheats; the BMS derates, flags BSM 6.7, then stops (BST 3.1)',
    stopInitiator: 'bms',
    findings: [
      'BSM_BATTERY_OVERTEMP',
      'BST_BATTERY_OVERTEMP',
      'CHARGER_STOPPED_BY_BMS',
      'TEMPERATURE_LIMIT_EXCEEDED',
    ],
  },
  insulation: {
    description: 'insulation fault; the BMS flags BSM 7.1, then stops (BST 2.1)',
    stopInitiator: 'bms',
    findings: ['BSM_INSULATION_ABNORMAL', 'BST_INSULATION_FAULT', 'CHARGER_STOPPED_BY_BMS'],
  },
  'charger-overtemp': {
    description: 'charger overheats; it derates its output, then stops on a fault (CST 1.5, 2.1)',
    stopInitiator: 'charger',
    findings: ['BMS_STOPPED_BY_CHARGER', 'CHARGER_FAULT_STOP', 'CST_CHARGER_OVERTEMP'],
  },
  'bcl-timeout': {
    description: 'the BMS goes silent; after 1 s without BCL the charger sends CEM 3.3 and stops (CST 1.5)',
    stopInitiator: 'charger',
    findings: ['CEM_BCL_TIMEOUT', 'CHARGER_FAULT_STOP', 'MESSAGE_TIMEOUT_BCL'],
  },
  none: {
    description: 'no fault; the user stops charging at the charger (CST 1.3)',
    stopInitiator: 'charger',
    findings: ['BMS_STOPPED_BY_CHARGER', 'CHARGER_MANUAL_STOP'],
  },
};

/** The fault of the default sample: one with interesting findings. */
export const DEFAULT_SAMPLE_FAULT: SampleFault = 'battery-overtemp';

/** Frames of the default sample: about five minutes of charging. */
export const DEFAULT_SAMPLE_FRAMES = 20_000;

/** Options of {@link writeSampleSession}. */
export interface SampleSessionOptions {
  /** Exact number of frames to write (default {@link DEFAULT_SAMPLE_FRAMES}); charging lasts as long as they allow. */
  frames?: number;
  /** How the session ends (default {@link DEFAULT_SAMPLE_FAULT}). */
  fault?: SampleFault;
  /** Seed of the measurement noise (default 1). */
  seed?: number;
  /** Absolute time of the first frame (default 2024-06-01T08:00:00Z). */
  start?: Date;
}

/** What {@link writeSampleSession} wrote. */
export interface SampleSummary {
  frames: number;
  /** Time of the last frame, seconds from the log start. */
  durationS: number;
  /** From the first BCL to the first stop message. */
  chargingS: number;
  /** ISO-8601 time of the log start. */
  startTime: string;
  fault: SampleFault;
  stopInitiator: 'bms' | 'charger';
  /** The finding codes the analyzer reports for the session, sorted. */
  expectedFindings: string[];
  /** First BCS SOC and BSD SOC (last BCS SOC when the BMS sends no BSD), %. */
  socStart: number;
  socEnd: number;
  /** Energy reported in CSD, kWh. */
  energyKWh: number;
}

/** Is `name` a {@link SampleFault}? */
export function isSampleFault(name: string): name is SampleFault {
  return Object.prototype.hasOwnProperty.call(SAMPLE_FAULTS, name);
}

// Charger 0x56 ↔ BMS 0xF4 identifiers.
const CHM = 0x1826f456;
const BHM = 0x182756f4;
const CRM = 0x1801f456;
const CTS = 0x1807f456;
const CML = 0x1808f456;
const BRO = 0x100956f4;
const CRO = 0x100af456;
const BCL = 0x181056f4;
const CCS = 0x1812f456;
const BSM = 0x181356f4;
const BST = 0x101956f4;
const CST = 0x101af456;
const BSD = 0x181c56f4;
const CSD = 0x181df456;
const CEM = 0x081ff456;
const TP_CM_BMS = 0x1cec56f4;
const TP_CM_CHARGER = 0x1cecf456;
const TP_DT_BMS = 0x1ceb56f4;
/** EEC1 of the vehicle bus, logged on channel 2: engine off. */
const VEHICLE_EEC1 = 0x0cf00400;

// The vehicle: 96s NCM pack, 173 Ah, 350.4 V nominal, 60.6 kWh.
const CELLS = 96;
const CAPACITY_AH = 173;
const PACK_KWH = 60.6;
const MAX_CELL_V = 4.2;
const MAX_PACK_V = 403.2;
const MAX_TEMP_C = 55;
const MAX_CURRENT_A = 200;
const SOC_START = 42;
const SOC_CEILING = 95;
const CC_CURRENT_A = 150;
const PACK_OHMS = 0.055;
const VIN = 'LGBT27930SAMPLE01';
const CHARGER_NUMBER = 123456;

const STEP_S = 0.05;
const MIN_CHARGING_STEPS = 600;

/** Frames of charging steps 0..n-1: BCL+CCS each, BCS (5 frames by TP) + BSM every 5th, channel 2 every 2000th. */
function chargingFrames(n: number): number {
  return 2 * n + 6 * Math.floor((n + 2) / 5) + Math.floor((n + 1999) / 2000);
}

/** Frame sink with a clock; without a batch it only counts (to plan the frame budget). */
class Emitter {
  t = 0;
  count = 0;

  constructor(private readonly batch: FrameBatch | null) {}

  put(id: number, bytes: ArrayLike<number>, channel = 1): void {
    this.count++;
    const b = this.batch;
    if (b === null) return;
    const i = b.length++;
    b.timestamps[i] = this.t;
    b.ids[i] = id;
    b.flags[i] = FrameFlag.Extended;
    b.channels[i] = channel;
    b.lengths[i] = bytes.length;
    b.dlcs[i] = bytes.length;
    b.data.set(bytes, i * MAX_PAYLOAD);
  }

  /** A BMS → charger message by J1939 TP (RTS, CTS, DT…, EndOfMsgAck) over about 6 ms. */
  tp(pf: number, payload: ArrayLike<number>): void {
    const n = Math.ceil(payload.length / 7);
    const size = payload.length;
    this.put(TP_CM_BMS, [0x10, size & 0xff, size >> 8, n, 0xff, 0, pf, 0]);
    this.t += 0.002;
    this.put(TP_CM_CHARGER, [0x11, n, 1, 0xff, 0xff, 0, pf, 0]);
    const dt = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let k = 0; k < n; k++) {
      this.t += 0.001;
      dt[0] = k + 1;
      for (let j = 0; j < 7; j++) dt[j + 1] = k * 7 + j < size ? payload[k * 7 + j] : 0xff;
      this.put(TP_DT_BMS, dt);
    }
    this.t += 0.002;
    this.put(TP_CM_CHARGER, [0x13, size & 0xff, size >> 8, n, 0xff, 0, pf, 0]);
  }
}

function le16(b: number[] | Uint8Array, o: number, v: number): void {
  const r = Math.round(v) & 0xffff;
  b[o] = r & 0xff;
  b[o + 1] = r >> 8;
}

const u16 = (v: number): number[] => {
  const b = [0, 0];
  le16(b, 0, v);
  return b;
};
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
/** GB/T current: 0.1 A/bit, −400 A offset, charging negative; `a` is positive charging amps. */
const current = (a: number): number => (400 - a) * 10;
const bcd = (v: number): number => ((Math.floor(v / 10) % 10) << 4) | (v % 10);

/** CHM/BHM while the charger checks insulation, recognition, parameters, readiness. */
function writePreamble(e: Emitter, start: Date): void {
  for (let k = 0; k < 20; k++) {
    e.put(CHM, [0x01, 0x01, 0x00]);
    e.t += 0.01;
    e.put(BHM, u16(MAX_PACK_V * 10));
    e.t += 0.24;
  }
  const charger = u32(CHARGER_NUMBER);
  e.put(CRM, [0x00, ...charger, 0x31, 0x31, 0x30]);
  e.t += 0.02;
  const brm = [
    0x01,
    0x01,
    0x00, // V1.1
    0x06, // NCM
    ...u16(CAPACITY_AH * 10),
    ...u16(350.4 * 10),
    ...[0x44, 0x45, 0x4d, 0x4f], // manufacturer "DEMO"
    ...[0x27, 0x01, 0x00, 0x00], // pack serial number
    2022 - 1985,
    3,
    15, // production date
    ...[0x9c, 0x01, 0x00], // 412 cycles
    0x01, // vehicle-owned
    0xff,
    ...Array.from(VIN, (c) => c.charCodeAt(0)),
    ...[0x01, 0x0f, 0x03, 0xe8, 0x07, 0xff, 0xff, 0xff], // BMS software 1, 2024-03-15
  ];
  e.tp(0x02, brm);
  e.t += 0.23;
  e.put(CRM, [0xaa, ...charger, 0x31, 0x31, 0x30]);
  e.t += 0.02;
  const bcp = [
    ...u16(MAX_CELL_V * 100),
    ...u16(current(MAX_CURRENT_A)),
    ...u16(PACK_KWH * 10),
    ...u16(MAX_PACK_V * 10),
    MAX_TEMP_C + 50,
    ...u16(SOC_START * 10),
    ...u16(ocv(SOC_START) * 10),
  ];
  e.tp(0x06, bcp);
  e.t += 0.23;
  e.put(CRM, [0xaa, ...charger, 0x31, 0x31, 0x30]);
  e.t += 0.25;
  // CTS/CML while the BMS gets ready (BRO 00 → AA), then pre-charge (CRO 00 → AA).
  const cml = [...u16(7500), ...u16(2000), ...u16(current(250)), ...u16(current(0))];
  for (let k = 0; k < 16; k++) {
    if (k % 2 === 0) {
      const now = new Date(start.getTime() + e.t * 1000);
      const year = now.getUTCFullYear();
      e.put(CTS, [
        bcd(now.getUTCSeconds()),
        bcd(now.getUTCMinutes()),
        bcd(now.getUTCHours()),
        bcd(now.getUTCDate()),
        bcd(now.getUTCMonth() + 1),
        bcd(year % 100),
        bcd(Math.floor(year / 100)),
      ]);
    }
    e.put(CML, cml);
    e.t += 0.01;
    e.put(BRO, [k < 6 ? 0x00 : 0xaa]);
    if (k >= 6) {
      e.t += 0.01;
      e.put(CRO, [k < 15 ? 0x00 : 0xaa]);
    }
    e.t = Math.round((e.t + 0.25) / 0.25) * 0.25;
  }
}

/** Open-circuit pack voltage at `soc` %. */
function ocv(soc: number): number {
  return CELLS * (3.55 + 0.0045 * soc);
}

/** State at the end of charging, for the stop messages. */
interface EndState {
  soc: number;
  minutes: number;
  energyKWh: number;
  minCellV: number;
  maxCellV: number;
  minTempC: number;
  maxTempC: number;
}

/** BST/CST at 10 ms, then BSD/CSD at 250 ms (`extra` more of them to fill the frame budget). */
function writeStop(e: Emitter, fault: SampleFault, s: EndState, extra: number): void {
  const csd = [...u16(s.minutes), ...u16(s.energyKWh * 10), ...u32(CHARGER_NUMBER)];
  if (fault === 'bcl-timeout') {
    // The BMS is silent: only the charger's CEM, CST and CSD.
    const cst = [0x10, 0x00, 0xf0, 0xf0];
    const cem = [0xfc, 0xf0, 0xc4, 0xf0];
    for (let k = 0; k < 30; k++) {
      if (k % 25 === 0) e.put(CEM, cem);
      e.put(CST, cst);
      e.t += 0.01;
    }
    for (let k = 0; k < 4 + extra; k++) {
      e.t += 0.25;
      e.put(CSD, csd);
    }
    return;
  }
  const bms = SAMPLE_FAULTS[fault].stopInitiator === 'bms';
  const bst =
    fault === 'battery-overtemp'
      ? [0x00, 0x00, 0x01, 0xf0]
      : fault === 'insulation'
        ? [0x00, 0x01, 0x00, 0xf0]
        : [0x40, 0x00, 0x00, 0xf0];
  const cst =
    fault === 'charger-overtemp'
      ? [0x10, 0x01, 0xf0, 0xf0]
      : fault === 'none'
        ? [0x04, 0x00, 0xf0, 0xf0]
        : [0x40, 0x00, 0xf0, 0xf0];
  for (let k = 0; k < 3; k++) {
    e.put(bms ? BST : CST, bms ? bst : cst);
    e.t += 0.01;
  }
  for (let k = 0; k < 30; k++) {
    e.put(BST, bst);
    e.put(CST, cst);
    e.t += 0.01;
  }
  const bsd = [
    Math.floor(s.soc),
    ...u16(s.minCellV * 100),
    ...u16(s.maxCellV * 100),
    s.minTempC + 50,
    s.maxTempC + 50,
  ];
  for (let k = 0; k < 8 + extra; k++) {
    e.t += 0.125;
    e.put(k % 2 === 0 ? BSD : CSD, k % 2 === 0 ? bsd : csd);
  }
}

/** Frames of everything but the charging steps, for `fault`. */
function fixedFrames(fault: SampleFault): number {
  const e = new Emitter(null);
  writePreamble(e, new Date(0));
  const end: EndState = {
    soc: 0,
    minutes: 0,
    energyKWh: 0,
    minCellV: 0,
    maxCellV: 0,
    minTempC: 0,
    maxTempC: 0,
  };
  writeStop(e, fault, end, 0);
  // bcl-timeout: 21 CCS frames while the charger waits out the BCL timeout.
  return e.count + (fault === 'bcl-timeout' ? 21 : 0);
}

/** The fewest frames {@link writeSampleSession} accepts for `fault` (30 s of charging). */
export function minSampleFrames(fault: SampleFault = DEFAULT_SAMPLE_FAULT): number {
  return fixedFrames(fault) + chargingFrames(MIN_CHARGING_STEPS);
}

/**
 * Writes a realistic GB/T 27930-2015 session as BLF to `target` (a path or a can-log sink)
 * and describes it. Throws a `RangeError` for a frame count below {@link minSampleFrames} or
 * an unknown fault, before creating anything.
 * @example
 * const s = await writeSampleSession('/tmp/demo.blf');
 * // s.expectedFindings: ['BSM_BATTERY_OVERTEMP', 'BST_BATTERY_OVERTEMP', …]
 */
export async function writeSampleSession(
  target: WriteTarget,
  options: SampleSessionOptions = {},
): Promise<SampleSummary> {
  const fault = options.fault ?? DEFAULT_SAMPLE_FAULT;
  if (!isSampleFault(fault)) throw new RangeError(`unknown sample fault ${JSON.stringify(fault)}`);
  const total = options.frames ?? DEFAULT_SAMPLE_FRAMES;
  const min = minSampleFrames(fault);
  if (!Number.isSafeInteger(total) || total < min) {
    throw new RangeError(`a sample session needs a whole number of frames ≥ ${min}, got ${total}`);
  }
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a number, got ${seed}`);
  const start = options.start ?? new Date(Date.UTC(2024, 5, 1, 8, 0, 0));

  // Charging steps: as many as the budget allows; the remainder pads the BSD/CSD tail.
  const budget = total - fixedFrames(fault);
  let lo = MIN_CHARGING_STEPS;
  let hi = Math.ceil(budget / 2);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (chargingFrames(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const steps = lo;
  const extra = budget - chargingFrames(steps);

  const writer = await createBlfWriter(target, { measurementStart: start });
  const batch = createBatch(8192);
  const e = new Emitter(batch);
  const flush = async (w: BlfWriter) => {
    if (batch.length === 0) return;
    await w.writeBatch(batch);
    batch.length = 0;
  };

  writePreamble(e, start);
  e.t += 0.05;

  const rnd = seededRandom(seed);
  const t0 = e.t;
  const chargingS = steps * STEP_S;
  const socRise = Math.min(
    SOC_CEILING - SOC_START,
    (((CC_CURRENT_A * ocv(SOC_START + 5) * chargingS) / 3.6e6) * 100) / PACK_KWH,
  );
  // Fault windows before the end of charging.
  const heatS = Math.min(150, chargingS / 2);
  const insulationS = 2.5;
  const derateS = Math.min(60, chargingS / 2);

  const bcl = new Uint8Array(5);
  const ccs = new Uint8Array(7);
  const bsm = new Uint8Array(7);
  const bcs = new Uint8Array(9);
  const eec1 = [0xff, 0x7d, 0x7d, 0x00, 0x00, 0xff, 0xff, 0xff];
  let lastDemand = 0;
  let energyWs = 0;
  let soc = SOC_START;
  let bcsSoc = SOC_START;
  let cellV = 0;
  let minCellV = 0;
  let maxT = 0;
  let minT = 0;
  for (let k = 0; k < steps; k++) {
    const tc = k * STEP_S;
    const toEnd = chargingS - tc;
    soc = SOC_START + (socRise * k) / steps;
    maxT = 30 + Math.floor((6 * k) / steps);
    if (fault === 'battery-overtemp' && toEnd < heatS) {
      const x = 1 - toEnd / heatS;
      maxT = Math.floor(maxT + (57.5 - maxT) * x * x);
    }
    minT = maxT - 4 - (maxT > 40 ? Math.floor((maxT - 40) / 2) : 0);
    // The BMS: constant current, tapering above 80 % SOC and derating above 45 °C.
    let demand = soc < 80 ? CC_CURRENT_A : CC_CURRENT_A - (soc - 80) * 6;
    if (maxT > 45) demand -= (maxT - 45) * 8;
    // The charger: 40 A/s soft start, following the previous demand, derated when it overheats.
    let limit = Math.min(lastDemand, 40 * tc);
    if (fault === 'charger-overtemp' && toEnd < derateS)
      limit = Math.min(limit, 150 - 70 * (1 - toEnd / derateS));
    const outA = Math.max(0, limit - 0.3 - 0.9 * rnd());
    lastDemand = demand;
    const packV = ocv(soc) + outA * PACK_OHMS + (rnd() - 0.5) * 0.6;
    const outV = packV + 0.8 + (rnd() - 0.5) * 0.4;
    energyWs += outV * outA * STEP_S;
    cellV = packV / CELLS + 0.012 + rnd() * 0.004;
    minCellV = packV / CELLS - 0.018;

    e.t = t0 + tc;
    le16(bcl, 0, 4000);
    le16(bcl, 2, current(demand));
    bcl[4] = 0x02;
    e.put(BCL, bcl);
    e.t += 0.004;
    le16(ccs, 0, outV * 10);
    le16(ccs, 2, current(outA));
    le16(ccs, 4, Math.floor(tc / 60));
    ccs[6] = 0xfd;
    e.put(CCS, ccs);
    if (k % 5 === 2) {
      e.t += 0.004;
      le16(bcs, 0, (packV - 0.2) * 10);
      le16(bcs, 2, current(Math.max(0, outA + (rnd() - 0.5) * 0.6)));
      le16(bcs, 4, (Math.round(cellV * 100) & 0xfff) | (6 << 12));
      bcs[6] = bcsSoc = Math.floor(soc);
      const remaining = outA > 1 ? ((100 - soc) / 100) * ((PACK_KWH * 1000) / (packV * outA)) * 60 : 600;
      le16(bcs, 7, Math.min(600, remaining));
      e.tp(0x11, bcs);
      bsm[0] = 36; // cell 37
      bsm[1] = maxT + 50;
      bsm[2] = 4; // probe 5
      bsm[3] = minT + 50;
      bsm[4] = 11; // probe 12
      bsm[5] = fault === 'battery-overtemp' && maxT > MAX_TEMP_C ? 0x40 : 0x00;
      bsm[6] = fault === 'insulation' && toEnd < insulationS ? 0xd1 : 0xd0;
      e.put(BSM, bsm);
    }
    if (k % 2000 === 0) e.put(VEHICLE_EEC1, eec1, 2);
    if (batch.length >= 4096) await flush(writer);
  }

  e.t = t0 + chargingS;
  if (fault === 'bcl-timeout') {
    // The BMS hangs: the charger keeps sending CCS until its 1 s BCL timeout runs out.
    for (let k = 0; k < 21; k++) {
      le16(ccs, 4, Math.floor((chargingS + k * STEP_S) / 60));
      e.put(CCS, ccs);
      e.t += STEP_S;
    }
  }
  const stopAt = e.t;
  const end: EndState = {
    soc,
    minutes: Math.floor(chargingS / 60),
    energyKWh: Math.round(energyWs / 3.6e5) / 10,
    minCellV,
    maxCellV: cellV,
    minTempC: minT,
    maxTempC: maxT,
  };
  writeStop(e, fault, end, extra);
  await flush(writer);
  await writer.close();
  return {
    frames: writer.framesWritten,
    durationS: Math.round(e.t * 1000) / 1000,
    chargingS: Math.round((stopAt - t0) * 1000) / 1000,
    startTime: start.toISOString(),
    fault,
    stopInitiator: SAMPLE_FAULTS[fault].stopInitiator,
    expectedFindings: [...SAMPLE_FAULTS[fault].findings],
    socStart: SOC_START,
    socEnd: fault === 'bcl-timeout' ? bcsSoc : Math.floor(soc),
    energyKWh: end.energyKWh,
  };
}
