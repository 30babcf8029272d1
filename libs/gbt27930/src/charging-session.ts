/**
 * The mutable state of one charging session while frames stream in, and its conversion to
 * the FINDINGS.md session report.
 */
import { roundTo } from './byte-fields';
import { PHASE_ORDER, type PhaseName } from './message-catalog';
import { DeviationRun } from './findings/deviation-run';
import { FindingRecorder, type RawEvidence, type TimeFormatter } from './findings/finding-recorder';
import { MessageGapCheck } from './findings/message-gap-check';
import { SERIES_NAMES, type SeriesName, type SessionReport } from './report-types';
import { SeriesDownsampler } from './series-downsampler';

/** Series indexes (same order as {@link SERIES_NAMES}). */
export const Series = {
  voltageDemandV: 0,
  voltageOutputV: 1,
  voltageMeasuredV: 2,
  currentDemandA: 3,
  currentOutputA: 4,
  currentMeasuredA: 5,
  soc: 6,
  maxCellVoltageV: 7,
  maxBatteryTempC: 8,
  minBatteryTempC: 9,
} as const;

/** One charging session under construction. Fields are public for the builder's hot path. */
export class ChargingSession {
  readonly findings = new FindingRecorder();
  readonly series: SeriesDownsampler[];
  /** Start time of each phase in {@link PHASE_ORDER} (NaN = not reached). */
  readonly phaseStarts = new Float64Array(4).fill(Number.NaN);
  phase = -1;
  lastTime: number;
  /** Saw a message other than CHM/BHM/BEM/CEM (so a new CHM means a new attempt). */
  beyondChm = false;
  /** BSD or CSD seen. */
  ended = false;

  // edition
  chmBhm = false;
  brmVersion = -1; // minor | major << 8
  brmLength = 0;

  stopInitiator: 'bms' | 'charger' | 'none' = 'none';
  firstStopTime = Number.NaN;

  // vehicle / charger / limits
  vin: string | null = null;
  bmsProtocolVersion: string | null = null;
  batteryType: string | null = null;
  ratedCapacityAh: number | null = null;
  ratedVoltageV: number | null = null;
  chargerProtocolVersion: string | null = null;
  chargerNumber: number | null = null;
  cmlMaxVoltageV: number | null = null;
  cmlMaxCurrentA: number | null = null;
  bcpMaxCellV = Number.NaN;
  bcpMaxCurrentA = Number.NaN;
  bcpMaxTotalV = Number.NaN;
  bhmMaxTotalV = Number.NaN;
  bcpMaxTempC = Number.NaN;
  bcpSoc = Number.NaN;

  // stats
  socFirstBcs = Number.NaN;
  socLastBcs = Number.NaN;
  socBsd = Number.NaN;
  maxOutV = Number.NaN;
  maxOutA = Number.NaN;
  csdEnergy = Number.NaN;
  csdMinutes = Number.NaN;
  ccsMinutes = Number.NaN;
  energyWs = 0;
  energySamples = 0;
  lastCcsT = Number.NaN;
  lastCcsPower = 0;
  maxBatteryTemp = Number.NaN;

  // latest values for the analyzer's checks
  bclSeen = false;
  bclVoltage = 0;
  bclCurrent = 0;
  bclMode = 0;
  bcsSeen = false;
  bcsVoltage = 0;
  bsmPermitted = true;
  ccsPermitted = true;
  pauseStart = Number.NaN;
  pauseCause = '';
  pauseEvidence: RawEvidence | null = null;
  // last phase-model message, for SESSION_INCOMPLETE evidence
  lastMessage = '';
  lastMessageTime = 0;
  lastMessageId = 0;
  readonly lastMessageBytes = new Uint8Array(64);
  lastMessageLength = 0;
  chargeStart = Number.NaN;

  readonly bclGap = new MessageGapCheck('MESSAGE_TIMEOUT_BCL', 'BCL', 1);
  readonly ccsGap = new MessageGapCheck('MESSAGE_TIMEOUT_CCS', 'CCS', 1);
  readonly bcsGap = new MessageGapCheck('MESSAGE_TIMEOUT_BCS', 'BCS', 5);
  readonly voltageRun = new DeviationRun('OUTPUT_VOLTAGE_DEVIATION', 5);
  readonly currentRun = new DeviationRun('OUTPUT_CURRENT_DEVIATION', 5);

  // bus errors seen while this session was current: channel → count (created at the first)
  errorCounts: Map<number, number> | null = null;
  firstErrorTime = Number.NaN;
  lastErrorTime = Number.NaN;
  firstErrorId = 0;
  firstErrorData = '';

  constructor(
    readonly index: number,
    readonly startTime: number,
    maxSeriesPoints: number,
  ) {
    this.lastTime = startTime;
    const series: SeriesDownsampler[] = [];
    for (let i = 0; i < SERIES_NAMES.length; i++) series.push(new SeriesDownsampler(maxSeriesPoints));
    this.series = series;
  }

  /** Moves the phase forward (never back) at `t`. */
  enterPhase(p: number, t: number): void {
    if (p <= this.phase) return;
    for (let i = this.phase + 1; i <= p; i++) if (i === p) this.phaseStarts[i] = t;
    this.phase = p;
  }

  /** True while the session is in the charging phase (after charging began, before any BST/CST). */
  get charging(): boolean {
    return this.phase === 2;
  }

  /** The edition by the FINDINGS.md rule. */
  edition(): '2015' | '2011' | 'unknown' {
    if (this.chmBhm || this.brmVersion === 0x0101) return '2015';
    if (this.brmVersion === 0x0100 || (this.brmLength === 41 && !this.chmBhm)) return '2011';
    return 'unknown';
  }

  /** Builds the session report. `iso` converts log seconds to ISO-8601. */
  toReport(iso: TimeFormatter): SessionReport {
    const phases = [];
    let last: PhaseName = 'handshake';
    for (let i = 0; i < 4; i++) {
      const s = this.phaseStarts[i];
      if (s !== s) continue;
      let end = this.lastTime;
      for (let j = i + 1; j < 4; j++) {
        if (this.phaseStarts[j] === this.phaseStarts[j]) {
          end = this.phaseStarts[j];
          break;
        }
      }
      phases.push({ name: PHASE_ORDER[i], startTime: iso(s), endTime: iso(end) });
      last = PHASE_ORDER[i];
    }
    const series = {} as Record<SeriesName, [number, number][]>;
    for (let i = 0; i < SERIES_NAMES.length; i++)
      series[SERIES_NAMES[i]] = this.series[i].points(this.startTime);
    const energy =
      this.csdEnergy === this.csdEnergy
        ? this.csdEnergy
        : this.energySamples > 1
          ? roundTo(this.energyWs / 3.6e6, 3)
          : null;
    return {
      index: this.index,
      startTime: iso(this.startTime),
      endTime: iso(this.lastTime),
      edition: this.edition(),
      phases,
      lastPhase: last,
      stopInitiator: this.stopInitiator,
      vehicle: {
        vin: this.vin,
        bmsProtocolVersion: this.bmsProtocolVersion,
        batteryType: this.batteryType,
        ratedCapacityAh: this.ratedCapacityAh,
        ratedVoltageV: this.ratedVoltageV,
      },
      charger: {
        protocolVersion: this.chargerProtocolVersion,
        chargerNumber: this.chargerNumber,
        maxOutputVoltageV: this.cmlMaxVoltageV,
        maxOutputCurrentA: this.cmlMaxCurrentA,
      },
      limits: {
        maxCellVoltageV: nn(this.bcpMaxCellV),
        maxChargingCurrentA: nn(this.bcpMaxCurrentA),
        maxTotalVoltageV: nn(this.bcpMaxTotalV === this.bcpMaxTotalV ? this.bcpMaxTotalV : this.bhmMaxTotalV),
        maxTemperatureC: nn(this.bcpMaxTempC),
      },
      stats: {
        socStart: nn(this.socFirstBcs === this.socFirstBcs ? this.socFirstBcs : this.bcpSoc),
        socEnd: nn(this.socBsd === this.socBsd ? this.socBsd : this.socLastBcs),
        maxOutputVoltageV: nn(this.maxOutV),
        maxOutputCurrentA: nn(this.maxOutA),
        energyKWh: energy,
        chargingMinutes: nn(this.csdMinutes === this.csdMinutes ? this.csdMinutes : this.ccsMinutes),
        maxBatteryTempC: nn(this.maxBatteryTemp),
      },
      findings: this.findings.toReport(iso),
      series,
    };
  }
}

/** A number, or null for NaN (a stat that cannot be known). */
function nn(v: number): number | null {
  return v === v ? v : null;
}
