/**
 * A generator of synthetic GB/T 27930 sessions as frames, for scenario tests and the
 * benchmark. Values are given in engineering units; currents as positive charging amps.
 */
import { FrameFlag } from '@charge/can-log';
import type { TestFrame } from './frame-builder';

const C = 0x56;
const B = 0xf4;

/** Id of a single-frame message `pf` from `sa` to `da` at priority `p`. */
export function gbtId(p: number, pf: number, sa: number, da: number): number {
  return ((p << 26) | (pf << 16) | (da << 8) | sa) >>> 0;
}

function le16(v: number): number[] {
  const r = Math.round(v) & 0xffff;
  return [r & 0xff, r >> 8];
}
const volts = (v: number) => le16(v * 10);
const amps = (a: number) => le16((400 - a) * 10);

/** Per-tick charging state (all optional overrides). */
export interface ChargeState {
  demandV: number;
  demandA: number;
  mode: 1 | 2;
  outV: number;
  outA: number;
  measuredV: number;
  measuredA: number;
  maxCellV: number;
  soc: number;
  minutes: number;
  maxTempC: number;
  minTempC: number;
  bsmStatus6: number;
  bsmStatus7: number;
  /** CCS byte 7 (2015): 0xFD permitted, 0xFC paused. */
  ccs7: number;
  /** Skip these messages this tick (silent gaps). */
  skipBcl: boolean;
  skipCcs: boolean;
  skipBcs: boolean;
}

/** Builds a frame list for one or more sessions. */
export class GbtScenario {
  readonly frames: TestFrame[] = [];
  t = 0;

  constructor(
    private readonly edition: '2015' | '2011' = '2015',
    private readonly channel = 1,
  ) {}

  /** Advances the clock. */
  wait(seconds: number): this {
    this.t += seconds;
    return this;
  }

  /** One frame at the current time. */
  raw(id: number, data: number[], flags = FrameFlag.Extended, channel = this.channel): this {
    this.frames.push({ t: this.t, id, data, flags, channel });
    return this;
  }

  /** A single-frame message by PF. */
  send(p: number, pf: number, fromCharger: boolean, data: number[]): this {
    return this.raw(gbtId(p, pf, fromCharger ? C : B, fromCharger ? B : C), data);
  }

  /** A multi-packet message by J1939 TP (RTS, CTS, DT…, EndOfMsgAck) spread over ~10 ms. */
  tp(
    pf: number,
    fromCharger: boolean,
    payload: number[],
    opts: { abortAfter?: number; noEom?: boolean } = {},
  ): this {
    const sa = fromCharger ? C : B;
    const da = fromCharger ? B : C;
    const n = Math.ceil(payload.length / 7);
    const pgn = [0x00, pf, 0x00];
    const size = le16(payload.length);
    this.raw(gbtId(7, 0xec, sa, da), [0x10, ...size, n, 0xff, ...pgn]);
    this.t += 0.002;
    this.raw(gbtId(7, 0xec, da, sa), [0x11, n, 1, 0xff, 0xff, ...pgn]);
    for (let k = 0; k < n; k++) {
      if (opts.abortAfter !== undefined && k === opts.abortAfter) {
        this.t += 0.001;
        return this.raw(gbtId(7, 0xec, da, sa), [0xff, 0x03, 0xff, 0xff, 0xff, ...pgn]);
      }
      this.t += 0.001;
      const chunk = payload.slice(k * 7, k * 7 + 7);
      while (chunk.length < 7) chunk.push(0xff);
      this.raw(gbtId(7, 0xeb, sa, da), [k + 1, ...chunk]);
    }
    this.t += 0.002;
    if (!opts.noEom) this.raw(gbtId(7, 0xec, da, sa), [0x13, ...size, n, 0xff, ...pgn]);
    return this;
  }

  /** CHM/BHM (2015 only), CRM 00, BRM, CRM AA. */
  handshake(opts: { vin?: string; batteryType?: number; chmCount?: number } = {}): this {
    if (this.edition === '2015') {
      for (let k = 0; k < (opts.chmCount ?? 4); k++) {
        this.send(6, 0x26, true, [1, 1, 0]).wait(0.01).send(6, 0x27, false, volts(426.1)).wait(0.24);
      }
    }
    this.send(6, 0x01, true, [0x00, 0x04, 0x03, 0x02, 0x01, 0x31, 0x32, 0x33]).wait(0.05);
    const vin = opts.vin
      ? [...Buffer.from(opts.vin.padEnd(17).slice(0, 17), 'latin1')]
      : new Array(17).fill(0xff);
    const brm = [
      ...(this.edition === '2015' ? [1, 1, 0] : [0, 1, 0]),
      opts.batteryType ?? 3,
      ...le16(1520),
      ...le16(3648),
      ...new Array(16).fill(0xff),
      ...vin,
    ];
    if (this.edition === '2015') brm.push(...new Array(8).fill(0xff));
    this.tp(0x02, false, brm).wait(0.2);
    this.send(6, 0x01, true, [0xaa, 0x04, 0x03, 0x02, 0x01, 0x31, 0x32, 0x33]).wait(0.25);
    return this;
  }

  /** BCP, CTS, CML, BRO 00/AA, CRO 00/AA. */
  configuration(
    opts: { maxCellV?: number; maxTempC?: number; maxCurrentA?: number; socPct?: number } = {},
  ): this {
    const bcp = [
      ...le16((opts.maxCellV ?? 3.7) * 100),
      ...amps(opts.maxCurrentA ?? 250),
      ...le16(554),
      ...volts(426.1),
      (opts.maxTempC ?? 65) + 50,
      ...le16((opts.socPct ?? 50) * 10),
      ...volts(378.2),
    ];
    this.tp(0x06, false, bcp).wait(0.05);
    this.send(6, 0x07, true, new Array(7).fill(0xff)).wait(0.01);
    const cml = [...volts(750), ...volts(200), ...amps(250)];
    if (this.edition === '2015') cml.push(...amps(0));
    this.send(6, 0x08, true, cml).wait(0.1);
    this.send(4, 0x09, false, [0x00]).wait(0.25).send(4, 0x09, false, [0xaa]).wait(0.1);
    this.send(4, 0x0a, true, [0x00]).wait(0.25).send(4, 0x0a, true, [0xaa]).wait(0.05);
    return this;
  }

  /**
   * Charging for `seconds`: BCL and CCS every 50 ms, BCS (TP) and BSM every 250 ms.
   * `tick(tRelative)` may override the state for each 50 ms step.
   */
  charge(seconds: number, tick: (rel: number) => Partial<ChargeState> = () => ({})): this {
    const steps = Math.round(seconds / 0.05);
    for (let k = 0; k < steps; k++) {
      const rel = k * 0.05;
      const s: ChargeState = {
        demandV: 420,
        demandA: 100,
        mode: 2,
        outV: 380,
        outA: 100,
        measuredV: 379,
        measuredA: 99,
        maxCellV: 3.5,
        soc: 50 + Math.floor(rel / 60),
        minutes: Math.floor(rel / 60),
        maxTempC: 30,
        minTempC: 25,
        bsmStatus6: 0x00,
        bsmStatus7: 0xd0,
        ccs7: 0xfd,
        skipBcl: false,
        skipCcs: false,
        skipBcs: false,
        ...tick(rel),
      };
      const start = this.t;
      if (!s.skipBcl) this.send(6, 0x10, false, [...volts(s.demandV), ...amps(s.demandA), s.mode]);
      this.t += 0.005;
      if (!s.skipCcs) {
        const ccs = [...volts(s.outV), ...amps(s.outA), ...le16(s.minutes)];
        if (this.edition === '2015') ccs.push(s.ccs7);
        this.send(6, 0x12, true, ccs);
      }
      if (k % 5 === 2) {
        this.t += 0.005;
        if (!s.skipBcs) {
          const cell = Math.round(s.maxCellV * 100) | (3 << 12);
          this.tp(0x11, false, [
            ...volts(s.measuredV),
            ...amps(s.measuredA),
            ...le16(cell),
            s.soc,
            ...le16(60),
          ]);
        }
        this.t += 0.003;
        this.send(6, 0x13, false, [4, s.maxTempC + 50, 1, s.minTempC + 50, 2, s.bsmStatus6, s.bsmStatus7]);
      }
      this.t = start + 0.05;
    }
    return this;
  }

  /** Stop: `first` side sends its stop, the other answers; then BSD/CSD. */
  stop(
    first: 'bms' | 'charger',
    opts: {
      bst?: number[];
      cst?: number[];
      repeats?: number;
      socEnd?: number;
      energy?: number;
      minutes?: number;
    } = {},
  ): this {
    const bst = opts.bst ?? (first === 'bms' ? [0x01, 0x00, 0x00, 0xf0] : [0x40, 0x00, 0x00, 0xf0]);
    const cst = opts.cst ?? (first === 'charger' ? [0x04, 0x00, 0xf0, 0xf0] : [0x40, 0x00, 0xf0, 0xf0]);
    const n = opts.repeats ?? 5;
    for (let k = 0; k < n; k++) {
      if (first === 'bms') this.send(4, 0x19, false, bst).wait(0.005).send(4, 0x1a, true, cst).wait(0.005);
      else this.send(4, 0x1a, true, cst).wait(0.005).send(4, 0x19, false, bst).wait(0.005);
    }
    this.wait(0.2);
    for (let k = 0; k < 3; k++) {
      this.send(6, 0x1c, false, [opts.socEnd ?? 80, ...le16(340), ...le16(345), 75, 80]).wait(0.01);
      this.send(6, 0x1d, true, [
        ...le16(opts.minutes ?? 12),
        ...le16((opts.energy ?? 5.5) * 10),
        4,
        3,
        2,
        1,
      ]).wait(0.24);
    }
    return this;
  }

  /** A whole normal session. */
  fullSession(seconds = 20, tick?: (rel: number) => Partial<ChargeState>): this {
    return this.handshake().configuration().charge(seconds, tick).stop('bms');
  }
}
