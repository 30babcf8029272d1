/**
 * The analysis hot path: CAN frames in (struct-of-arrays batches), charging sessions with
 * their phases, stats, series and findings out. Per frame it does integer tests and a switch
 * on the PGN, reading payload bytes in place; it allocates only when something new happens
 * (a session, a finding, an evidence frame).
 */
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from '@charge/can-log';
import { asciiOrNull, toHex, u32le } from './byte-fields';
import { BMS_ADDRESS, CHARGER_ADDRESS, composeId } from './can-id';
import { ChargingSession, Series } from './charging-session';
import { RunUpdate } from './findings/deviation-run';
import type { RawEvidence, TimeFormatter } from './findings/finding-recorder';
import { raiseStatusFindings } from './findings/status-field-findings';
import { J1939Transport, type TransferFailure } from './j1939-transport';
import { messageForPgn, pgnLabel, Pgn } from './message-catalog';
import { batteryTypeLabel, protocolVersion } from './message-decoders';
import type { SessionReport } from './report-types';
import { BEM_FIELDS, BSM_FIELDS, BST_FIELDS, CEM_FIELDS, CST_FIELDS } from './status-fields';

// Hot-path constants and helpers as module locals: imported bindings compile to getter
// calls in CommonJS output, which costs more than the work itself at millions of frames/s.
const F_ERROR = FrameFlag.Error;
const CHARGER = CHARGER_ADDRESS;
const BMS = BMS_ADDRESS;
const F_EXTENDED = FrameFlag.Extended;
const NOT_GBT = FrameFlag.Error | FrameFlag.Fd | FrameFlag.Remote;
const ROW = MAX_PAYLOAD;
const P_CHM = Pgn.CHM;
const P_BHM = Pgn.BHM;
const P_CRM = Pgn.CRM;
const P_BRM = Pgn.BRM;
const P_BCP = Pgn.BCP;
const P_CML = Pgn.CML;
const P_BCL = Pgn.BCL;
const P_BCS = Pgn.BCS;
const P_CCS = Pgn.CCS;
const P_BSM = Pgn.BSM;
const P_BST = Pgn.BST;
const P_CST = Pgn.CST;
const P_BSD = Pgn.BSD;
const P_CSD = Pgn.CSD;
const P_BEM = Pgn.BEM;
const P_CEM = Pgn.CEM;
const P_TP_CM = Pgn.TP_CM;
const S_voltageDemandV = Series.voltageDemandV;
const S_voltageOutputV = Series.voltageOutputV;
const S_voltageMeasuredV = Series.voltageMeasuredV;
const S_currentDemandA = Series.currentDemandA;
const S_currentOutputA = Series.currentOutputA;
const S_currentMeasuredA = Series.currentMeasuredA;
const S_soc = Series.soc;
const S_maxCellVoltageV = Series.maxCellVoltageV;
const S_maxBatteryTempC = Series.maxBatteryTempC;
const S_minBatteryTempC = Series.minBatteryTempC;

const lookupMessage = messageForPgn;

function u16(data: Uint8Array, off: number): number {
  return data[off] | (data[off + 1] << 8);
}
function volts(raw: number): number {
  return raw / 10;
}
function amps(raw: number): number {
  return (raw - 4000) / 10;
}

/** Seconds of charger↔BMS silence after which a CRM(0x00)/BHM starts a new session. */
export const SESSION_GAP_S = 10;

/** Options of {@link SessionBuilder}. */
export interface SessionBuilderOptions {
  /** Max points per series (default 2000). */
  maxSeriesPoints?: number;
  /** Called for frames that are not GB/T traffic (e.g. to decode them with a DBC). */
  onOtherFrame?: (batch: FrameBatch, row: number) => void;
}

/** Totals about the frames seen (for the report's `file` section). */
export interface FrameTotals {
  canFrames: number;
  errorFrames: number;
  channels: number[];
  firstTime: number;
  lastTime: number;
}

/** Incremental session builder. Call {@link push} per batch, then {@link finish}. */
export class SessionBuilder {
  private readonly sessions: ChargingSession[] = [];
  private current: ChargingSession | null = null;
  private readonly transport: J1939Transport;
  private readonly maxSeriesPoints: number;
  private readonly onOtherFrame?: (batch: FrameBatch, row: number) => void;
  private gbtChannel = -1;
  private canFrames = 0;
  private errorFrames = 0;
  private firstTime = Number.NaN;
  private lastTime = Number.NaN;
  private readonly channelSeen = new Uint8Array(65536);
  private readonly channelList: number[] = [];
  private tpFramesSinceSweep = 0;
  private finished = false;
  /** Error frames seen before the first session: channel → count, plus first/last. */
  private readonly earlyErrors = new Map<number, number>();
  private earlyErrorFirst = Number.NaN;
  private earlyErrorLast = Number.NaN;
  private earlyErrorId = 0;
  private earlyErrorData = '';

  constructor(options: SessionBuilderOptions = {}) {
    this.maxSeriesPoints = options.maxSeriesPoints ?? 2000;
    this.onOtherFrame = options.onOtherFrame;
    this.transport = new J1939Transport({
      onMessage: (pgn, source, destination, data, length, time) => {
        const def = messageForPgn(pgn);
        const canId = composeId(def?.priority ?? 7, pgn, source, destination);
        this.message(pgn, source, canId, data, 0, length, time);
      },
      onFailure: (f) => this.transferFailed(f),
    });
  }

  /** Frames processed so far. */
  get framesSeen(): number {
    return this.canFrames + this.errorFrames;
  }

  /** Time of the last frame processed so far (seconds from log start, NaN before any). */
  get lastTimestamp(): number {
    return this.lastTime;
  }

  /** Feeds one batch (synchronously; the batch may be reused by its producer afterwards). */
  push(batch: FrameBatch): void {
    const n = batch.length;
    const ts = batch.timestamps;
    const ids = batch.ids;
    const flags = batch.flags;
    const chans = batch.channels;
    const lens = batch.lengths;
    const data = batch.data;
    if (n > 0 && this.firstTime !== this.firstTime) this.firstTime = ts[0];
    for (let i = 0; i < n; i++) {
      const f = flags[i];
      const ch = chans[i];
      if (this.channelSeen[ch] === 0) {
        this.channelSeen[ch] = 1;
        this.channelList.push(ch);
      }
      const t = ts[i];
      if ((f & F_ERROR) !== 0) {
        this.errorFrames++;
        this.errorFrame(t, ch, ids[i], data, i * ROW, lens[i]);
        continue;
      }
      this.canFrames++;
      const id = ids[i];
      if ((f & F_EXTENDED) === 0 || (f & NOT_GBT) !== 0) {
        if (this.onOtherFrame) this.onOtherFrame(batch, i);
        continue;
      }
      const sa = id & 0xff;
      const da = (id >>> 8) & 0xff;
      let gbt: boolean;
      if (sa === CHARGER) gbt = da === BMS || da === 0xff;
      else if (sa === BMS) gbt = da === CHARGER || da === 0xff;
      else gbt = false;
      if (!gbt) {
        if (this.onOtherFrame) this.onOtherFrame(batch, i);
        continue;
      }
      if (this.gbtChannel !== ch) {
        if (this.gbtChannel === -1) this.gbtChannel = ch;
        else {
          if (this.onOtherFrame) this.onOtherFrame(batch, i);
          continue; // a mirrored or second bus: GB/T is analysed on the first channel only
        }
      }
      const off = i * ROW;
      const len = lens[i];
      const pf = (id >>> 16) & 0xff;
      if (pf === 0xec) {
        this.touch(t);
        this.transport.connectionManagement(t, id, sa, da, data, off, len);
        if (++this.tpFramesSinceSweep >= 64) {
          this.tpFramesSinceSweep = 0;
          this.transport.expireStale(t);
        }
      } else if (pf === 0xeb) {
        this.touch(t);
        this.transport.dataTransfer(t, sa, da, data, off, len);
      } else if (da !== 0xff) {
        this.message(pf << 8, sa, id, data, off, len, t);
      }
    }
    if (n > 0) this.lastTime = ts[n - 1];
  }

  /** Ends the stream and returns the sessions' reports and frame totals. */
  finish(iso: TimeFormatter): { sessions: SessionReport[]; totals: FrameTotals } {
    if (!this.finished) {
      this.finished = true;
      this.transport.flush(this.lastTime);
      if (this.current) this.closeSession(this.current);
      this.attachEarlyErrors();
      for (const s of this.sessions) this.errorFinding(s);
    }
    return {
      sessions: this.sessions.map((s) => s.toReport(iso)),
      totals: {
        canFrames: this.canFrames,
        errorFrames: this.errorFrames,
        channels: this.channelList.slice().sort((a, b) => a - b),
        firstTime: this.firstTime,
        lastTime: this.lastTime,
      },
    };
  }

  // ---------------------------------------------------------------- sessions

  /** Charger↔BMS traffic that does not itself start a session (TP frames). */
  private touch(t: number): void {
    const s = this.current;
    if (s === null) this.openSession(t);
    else if (t > s.lastTime) s.lastTime = t;
  }

  private openSession(t: number): ChargingSession {
    if (this.current) this.closeSession(this.current);
    const s = new ChargingSession(this.sessions.length, t, this.maxSeriesPoints);
    this.sessions.push(s);
    this.current = s;
    return s;
  }

  private closeSession(s: ChargingSession): void {
    const end = s.lastTime;
    this.stopChecks(s, end, '会话结束');
    if (s.phase < 2) {
      const phase = s.phase < 0 ? '握手' : s.phase === 0 ? '握手阶段' : '参数配置阶段';
      s.findings.episode(
        'SESSION_INCOMPLETE',
        'warning',
        s.startTime,
        end,
        `会话在进入充电阶段之前结束（停在${phase}）`,
        [this.lastEvidence(s)],
      );
    }
  }

  private lastEvidence(s: ChargingSession): RawEvidence {
    return {
      message: s.lastMessage,
      time: s.lastMessageTime,
      canId: s.lastMessageId,
      data: toHex(s.lastMessageBytes, 0, s.lastMessageLength),
    };
  }

  /** Closes everything measured "while charging": gaps, runs, pause. */
  private stopChecks(s: ChargingSession, t: number, reason: string): void {
    const f = s.findings;
    s.bclGap.close(f, t, s.startTime, reason);
    s.ccsGap.close(f, t, s.startTime, reason);
    s.bcsGap.close(f, t, s.startTime, reason);
    s.voltageRun.release(f);
    s.currentRun.release(f);
    this.endPause(s, t);
  }

  /** Decides whether a message starts a new session (FINDINGS.md "Sessions"). */
  private sessionFor(pgn: number, first: number, t: number): ChargingSession {
    const s = this.current;
    if (s === null) return this.openSession(t);
    const silent = t - s.lastTime >= SESSION_GAP_S;
    if (pgn === P_CHM) {
      if (s.beyondChm || silent) return this.openSession(t);
    } else if (pgn === P_BHM || (pgn === P_CRM && first === 0x00)) {
      if (s.ended || silent) return this.openSession(t);
    }
    return s;
  }

  // ---------------------------------------------------------------- messages

  private message(
    pgn: number,
    source: number,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    t: number,
  ): void {
    const cur = this.current;
    const s =
      cur !== null && pgn !== P_CHM && pgn !== P_BHM && pgn !== P_CRM
        ? cur
        : this.sessionFor(pgn, len > 0 ? data[off] : 0xff, t);
    if (t > s.lastTime) s.lastTime = t;
    const def = lookupMessage(pgn);
    if (def === undefined || (def.sender === 'charger') !== (source === CHARGER)) {
      this.unknownMessage(s, pgn, canId, data, off, len, t);
      return;
    }
    s.lastMessage = def.name;
    s.lastMessageTime = t;
    s.lastMessageId = canId;
    if (s.phase < 2) {
      // kept for SESSION_INCOMPLETE evidence, which only exists for sessions that never charge
      const keep = len < 64 ? len : 64;
      for (let k = 0; k < keep; k++) s.lastMessageBytes[k] = data[off + k];
      s.lastMessageLength = keep;
    }
    if (pgn !== P_CHM && pgn !== P_BHM && pgn !== P_BEM && pgn !== P_CEM) s.beyondChm = true;
    if (def.phase >= 0 && def.phase > s.phase) {
      if (def.phase === 2 && s.phase < 2) s.chargeStart = t;
      s.enterPhase(def.phase, t);
    }
    switch (pgn) {
      case P_CHM:
        s.chmBhm = true;
        if (len >= 3) s.chargerProtocolVersion = protocolVersion(data, off);
        return;
      case P_BHM:
        s.chmBhm = true;
        if (len >= 2) s.bhmMaxTotalV = volts(u16(data, off));
        return;
      case P_CRM:
        if (len >= 5) {
          const n = u32le(data, off + 1);
          if (n !== 0xffffffff) s.chargerNumber = n;
        }
        return;
      case P_BRM:
        if (len >= 8) {
          s.brmVersion = data[off] | (data[off + 1] << 8);
          s.brmLength = len;
          s.bmsProtocolVersion = protocolVersion(data, off);
          s.batteryType = batteryTypeLabel(data[off + 3]);
          s.ratedCapacityAh = u16(data, off + 4) / 10;
          s.ratedVoltageV = volts(u16(data, off + 6));
          s.vin = len >= 41 ? asciiOrNull(data, off + 24, 17) : null;
        }
        return;
      case P_BCP:
        if (len >= 13) {
          s.bcpMaxCellV = u16(data, off) / 100;
          s.bcpMaxCurrentA = Math.abs(amps(u16(data, off + 2)));
          s.bcpMaxTotalV = volts(u16(data, off + 6));
          s.bcpMaxTempC = data[off + 8] - 50;
          s.bcpSoc = u16(data, off + 9) / 10;
        }
        return;
      case P_CML:
        if (len >= 6) {
          s.cmlMaxVoltageV = volts(u16(data, off));
          s.cmlMaxCurrentA = Math.abs(amps(u16(data, off + 4)));
        }
        return;
      case P_BCL:
        if (len >= 5) this.bcl(s, canId, data, off, len, t);
        return;
      case P_BCS:
        if (len >= 9) this.bcs(s, canId, data, off, len, t);
        return;
      case P_CCS:
        if (len >= 6) this.ccs(s, canId, data, off, len, t);
        return;
      case P_BSM:
        if (len >= 7) this.bsm(s, canId, data, off, len, t);
        return;
      case P_BST:
      case P_CST:
        if (s.stopInitiator === 'none') {
          s.stopInitiator = pgn === P_BST ? 'bms' : 'charger';
          s.firstStopTime = t;
          this.stopChecks(s, t, pgn === P_BST ? ' BST' : ' CST');
        }
        raiseStatusFindings(
          s.findings,
          pgn === P_BST ? BST_FIELDS : CST_FIELDS,
          def.name,
          t,
          canId,
          data,
          off,
          len,
        );
        return;
      case P_BSD:
        s.ended = true;
        if (len >= 1 && data[off] !== 0xff) s.socBsd = data[off];
        return;
      case P_CSD:
        s.ended = true;
        if (len >= 4) {
          s.csdMinutes = u16(data, off);
          s.csdEnergy = u16(data, off + 2) / 10;
        }
        return;
      case P_BEM:
        raiseStatusFindings(s.findings, BEM_FIELDS, 'BEM', t, canId, data, off, len);
        return;
      case P_CEM:
        raiseStatusFindings(s.findings, CEM_FIELDS, 'CEM', t, canId, data, off, len);
        return;
      default:
        return;
    }
  }

  private bcl(
    s: ChargingSession,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    t: number,
  ): void {
    const v = volts(u16(data, off));
    const a = Math.abs(amps(u16(data, off + 2)));
    s.bclSeen = true;
    s.bclVoltage = v;
    s.bclCurrent = a;
    s.bclMode = data[off + 4];
    s.series[S_voltageDemandV].add(t, v);
    s.series[S_currentDemandA].add(t, a);
    if (s.charging) s.bclGap.observe(s.findings, t, canId, data, off, len, s.startTime);
  }

  private bcs(
    s: ChargingSession,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    t: number,
  ): void {
    const v = volts(u16(data, off));
    const a = Math.abs(amps(u16(data, off + 2)));
    const cell = (u16(data, off + 4) & 0xfff) / 100;
    const soc = data[off + 6];
    s.bcsSeen = true;
    s.bcsVoltage = v;
    if (s.socFirstBcs !== s.socFirstBcs) s.socFirstBcs = soc;
    s.socLastBcs = soc;
    s.series[S_voltageMeasuredV].add(t, v);
    s.series[S_currentMeasuredA].add(t, a);
    s.series[S_soc].add(t, soc);
    s.series[S_maxCellVoltageV].add(t, cell);
    if (s.charging) s.bcsGap.observe(s.findings, t, canId, data, off, len, s.startTime);
    if (cell > s.bcpMaxCellV) {
      const rec = s.findings.get('CELL_VOLTAGE_LIMIT_EXCEEDED');
      if (rec) rec.repeat(t, 'BCS', canId, data, off, len);
      else
        s.findings.raise(
          'CELL_VOLTAGE_LIMIT_EXCEEDED',
          'CELL_VOLTAGE_LIMIT_EXCEEDED',
          'critical',
          t,
          `单体最高电压 ${cell.toFixed(2)} V 超过 BCP 最高允许单体电压 ${s.bcpMaxCellV.toFixed(2)} V (BCS)`,
          'BCS',
          canId,
          data,
          off,
          len,
        );
    }
  }

  private ccs(
    s: ChargingSession,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    t: number,
  ): void {
    const v = volts(u16(data, off));
    const a = Math.abs(amps(u16(data, off + 2)));
    s.ccsMinutes = u16(data, off + 4);
    if (!(v <= s.maxOutV)) s.maxOutV = v;
    if (!(a <= s.maxOutA)) s.maxOutA = a;
    const p = v * a;
    if (s.lastCcsT === s.lastCcsT) {
      const dt = t - s.lastCcsT;
      if (dt > 0 && dt <= 5) s.energyWs += s.lastCcsPower * dt;
    }
    s.lastCcsT = t;
    s.lastCcsPower = p;
    s.energySamples++;
    s.series[S_voltageOutputV].add(t, v);
    s.series[S_currentOutputA].add(t, a);
    if (!s.charging) return;
    s.ccsGap.observe(s.findings, t, canId, data, off, len, s.startTime);
    if (len >= 7) {
      const perm = data[off + 6] & 3;
      if (perm === 0) this.setCcsPermitted(s, false, t, canId, data, off, len);
      else if (perm === 1) this.setCcsPermitted(s, true, t, canId, data, off, len);
    }
    if (!(s.bsmPermitted && s.ccsPermitted)) return;
    this.checkOutput(s, v, a, canId, data, off, len, t);
  }

  private checkOutput(
    s: ChargingSession,
    v: number,
    a: number,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    t: number,
  ): void {
    // Voltage: above the demand, away from the measured battery voltage, or off the CV set point.
    let vScore = 0;
    let vText = '';
    if (s.bclSeen) {
      const tol = Math.max(10, 0.02 * s.bclVoltage);
      const over = v - s.bclVoltage;
      if (over > tol) {
        vScore = over;
        vText = `输出电压 ${v.toFixed(1)} V 超过需求电压 ${s.bclVoltage.toFixed(1)} V（+${over.toFixed(1)} V）`;
      } else if (s.bclMode === 1 && Math.abs(over) > tol) {
        vScore = Math.abs(over);
        vText = `恒压模式下输出电压 ${v.toFixed(1)} V 偏离需求电压 ${s.bclVoltage.toFixed(1)} V（${over.toFixed(1)} V）`;
      }
    }
    if (vScore === 0 && s.bcsSeen) {
      const d = v - s.bcsVoltage;
      if (Math.abs(d) > Math.max(10, 0.03 * s.bcsVoltage)) {
        vScore = Math.abs(d);
        vText = `输出电压 ${v.toFixed(1)} V 与 BMS 测量电压 ${s.bcsVoltage.toFixed(1)} V 相差 ${d.toFixed(1)} V`;
      }
    }
    if (vScore > 0) {
      const u = s.voltageRun.hold(t, vScore);
      if (u !== 0) this.runEvidence(s.voltageRun, u, vText, canId, data, off, len, t);
    } else s.voltageRun.release(s.findings);

    // Current: output above the demand, ignoring the first 3 s after charging (re)starts.
    if (t - s.chargeStart < 3 || !s.bclSeen) {
      s.currentRun.release(s.findings);
      return;
    }
    const excess = a - s.bclCurrent;
    if (excess > Math.max(5, 0.05 * s.bclCurrent)) {
      const u = s.currentRun.hold(t, excess);
      if (u !== 0) {
        const pct = s.bclCurrent > 0 ? ` (${Math.round((excess / s.bclCurrent) * 100)} %)` : '';
        const text = `输出电流 ${a.toFixed(1)} A 超过需求 ${s.bclCurrent.toFixed(1)} A${pct}`;
        this.runEvidence(s.currentRun, u, text, canId, data, off, len, t);
      }
    } else s.currentRun.release(s.findings);
  }

  private runEvidence(
    run: ChargingSession['voltageRun'],
    update: number,
    text: string,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    t: number,
  ): void {
    const ev: RawEvidence = { message: 'CCS', time: t, canId, data: toHex(data, off, len) };
    if (update & RunUpdate.Started) run.setStart(ev);
    if (update & RunUpdate.Worst) run.setWorst(text, ev);
  }

  private bsm(
    s: ChargingSession,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    t: number,
  ): void {
    const maxT = data[off + 1] - 50;
    const minT = data[off + 3] - 50;
    if (!(maxT <= s.maxBatteryTemp)) s.maxBatteryTemp = maxT;
    s.series[S_maxBatteryTempC].add(t, maxT);
    s.series[S_minBatteryTempC].add(t, minT);
    if (data[off + 5] !== 0 || (data[off + 6] & 0x0f) !== 0)
      raiseStatusFindings(s.findings, BSM_FIELDS, 'BSM', t, canId, data, off, len);
    if (maxT > s.bcpMaxTempC) {
      const rec = s.findings.get('TEMPERATURE_LIMIT_EXCEEDED');
      if (rec) rec.repeat(t, 'BSM', canId, data, off, len);
      else
        s.findings.raise(
          'TEMPERATURE_LIMIT_EXCEEDED',
          'TEMPERATURE_LIMIT_EXCEEDED',
          'critical',
          t,
          `电池最高温度 ${maxT} °C 超过 BCP 最高允许温度 ${s.bcpMaxTempC} °C (BSM)`,
          'BSM',
          canId,
          data,
          off,
          len,
        );
    }
    if (!s.charging) return;
    const perm = (data[off + 6] >> 4) & 3;
    if (perm === 0) this.setBsmPermitted(s, false, t, canId, data, off, len);
    else if (perm === 1) this.setBsmPermitted(s, true, t, canId, data, off, len);
  }

  private setBsmPermitted(
    s: ChargingSession,
    on: boolean,
    t: number,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
  ): void {
    if (s.bsmPermitted === on) return;
    s.bsmPermitted = on;
    this.permissionChanged(s, t, 'BSM 7.5 = 00（BMS 暂停充电）', 'BSM', canId, toHex(data, off, len));
  }

  private setCcsPermitted(
    s: ChargingSession,
    on: boolean,
    t: number,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
  ): void {
    if (s.ccsPermitted === on) return;
    s.ccsPermitted = on;
    this.permissionChanged(s, t, 'CCS 7.1 = 00（充电机暂停输出）', 'CCS', canId, toHex(data, off, len));
  }

  private permissionChanged(
    s: ChargingSession,
    t: number,
    cause: string,
    message: string,
    canId: number,
    data: string,
  ): void {
    const permitted = s.bsmPermitted && s.ccsPermitted;
    if (!permitted && s.pauseStart !== s.pauseStart) {
      s.pauseStart = t;
      s.pauseCause = cause;
      s.pauseEvidence = { message, time: t, canId, data };
      s.voltageRun.release(s.findings);
      s.currentRun.release(s.findings);
    } else if (permitted && s.pauseStart === s.pauseStart) {
      this.endPause(s, t);
      s.chargeStart = t; // resume: ignore the current ramp again
    }
  }

  private endPause(s: ChargingSession, t: number): void {
    if (s.pauseStart !== s.pauseStart) return;
    const d = t - s.pauseStart;
    s.findings.episode(
      'CHARGING_PAUSED',
      'info',
      s.pauseStart,
      t,
      `充电暂停 ${d.toFixed(1)} s：${s.pauseCause}，会话第 ${(s.pauseStart - s.startTime).toFixed(1)} s 起`,
      s.pauseEvidence ? [s.pauseEvidence] : [],
    );
    s.pauseStart = Number.NaN;
    s.pauseEvidence = null;
  }

  // ---------------------------------------------------------------- other findings

  private unknownMessage(
    s: ChargingSession,
    pgn: number,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    t: number,
  ): void {
    const label = pgnLabel(pgn);
    const key = `UNKNOWN_GBT_MESSAGE/${pgn}/${canId & 0xffff}`;
    const rec = s.findings.get(key);
    if (rec) rec.repeat(t, label, canId, data, off, len);
    else {
      const from = (canId & 0xff) === CHARGER ? '充电机' : 'BMS';
      s.findings.raise(
        key,
        'UNKNOWN_GBT_MESSAGE',
        'info',
        t,
        `${from}发送了 2011/2015 版未定义的报文 ${label}（ID ${'0x' + canId.toString(16).toUpperCase()}）`,
        label,
        canId,
        data,
        off,
        len,
      );
    }
  }

  private transferFailed(f: TransferFailure): void {
    const s = this.current ?? this.openSession(f.time);
    const label = pgnLabel(f.pgn);
    const what =
      f.kind === 'abort'
        ? `TP.CM Abort（原因 ${f.abortReason}）`
        : f.kind === 'restarted'
          ? '被新的 RTS 重新开始'
          : f.kind === 'timeout'
            ? '超时未完成'
            : '至日志结束仍未完成';
    const from = f.source === CHARGER ? '充电机' : f.source === BMS ? 'BMS' : `0x${f.source.toString(16)}`;
    const canId = f.canId ?? composeId(7, P_TP_CM, f.source, f.destination);
    const rec = s.findings.get('TP_TRANSFER_ABORTED');
    if (rec) {
      rec.repeat(f.time, 'TP.CM', canId, f.data, 0, f.data ? f.data.length : 0);
      return;
    }
    s.findings.raise(
      'TP_TRANSFER_ABORTED',
      'TP_TRANSFER_ABORTED',
      'info',
      f.startTime,
      `${from} 的 ${label} 多包传输${what}（${f.size} 字节，收到 ${f.packetsReceived}/${f.packets} 包）`,
      'TP.CM',
      canId,
      f.data,
      0,
      f.data ? f.data.length : 0,
    ).endTime = Math.max(f.time, f.startTime);
  }

  private errorFrame(t: number, ch: number, id: number, data: Uint8Array, off: number, len: number): void {
    const s = this.current;
    if (s === null) {
      this.earlyErrors.set(ch, (this.earlyErrors.get(ch) ?? 0) + 1);
      if (this.earlyErrorFirst !== this.earlyErrorFirst) {
        this.earlyErrorFirst = t;
        this.earlyErrorId = id;
        this.earlyErrorData = toHex(data, off, len);
      }
      this.earlyErrorLast = t;
      return;
    }
    const counts = (s.errorCounts ??= new Map());
    counts.set(ch, (counts.get(ch) ?? 0) + 1);
    if (s.firstErrorTime !== s.firstErrorTime) {
      s.firstErrorTime = t;
      s.firstErrorId = id;
      s.firstErrorData = toHex(data, off, len);
    }
    s.lastErrorTime = t;
  }

  private attachEarlyErrors(): void {
    if (this.earlyErrors.size === 0 || this.sessions.length === 0) return;
    const s = this.sessions[0];
    const counts = (s.errorCounts ??= new Map());
    for (const [ch, n] of this.earlyErrors) counts.set(ch, (counts.get(ch) ?? 0) + n);
    if (!(s.firstErrorTime <= this.earlyErrorFirst)) {
      s.firstErrorTime = this.earlyErrorFirst;
      s.firstErrorId = this.earlyErrorId;
      s.firstErrorData = this.earlyErrorData;
    }
    if (!(s.lastErrorTime >= this.earlyErrorLast)) s.lastErrorTime = this.earlyErrorLast;
  }

  private errorFinding(s: ChargingSession): void {
    const counts = s.errorCounts;
    if (counts === null || counts.size === 0) return;
    const parts = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([ch, n]) => `通道 ${ch}: ${n} 帧`);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    s.findings.episode(
      'BUS_ERROR_FRAMES',
      'info',
      s.firstErrorTime,
      s.lastErrorTime,
      `总线上出现 ${total} 个错误帧（${parts.join('，')}）`,
      [{ message: 'error frame', time: s.firstErrorTime, canId: s.firstErrorId, data: s.firstErrorData }],
    );
  }
}
