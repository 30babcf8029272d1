/**
 * The charging-session report of `docs/FINDINGS.md`: the CLI's `--json` output, the analysis
 * service's stored result and the API's `AnalysisReport` all carry this shape.
 */
import type { PhaseName } from './message-catalog';
import type { Severity } from './status-fields';

/** Log formats a report can describe. */
export type LogFormat = 'blf' | 'asc' | 'candump' | 'zlg';

/** Facts about the file. */
export interface FileReport {
  format: LogFormat | string;
  sizeBytes: number | null;
  canFrames: number;
  errorFrames: number;
  otherObjects: number;
  channels: number[];
  /** ISO-8601, `null` for an empty log. */
  startTime: string | null;
  endTime: string | null;
  warnings: string[];
}

/** One phase of a session. */
export interface PhaseReport {
  name: PhaseName;
  startTime: string;
  endTime: string;
}

/** The vehicle as BRM describes it. */
export interface VehicleReport {
  vin: string | null;
  bmsProtocolVersion: string | null;
  batteryType: string | null;
  ratedCapacityAh: number | null;
  ratedVoltageV: number | null;
}

/** The charger as CHM/CRM/CML describe it. */
export interface ChargerReport {
  protocolVersion: string | null;
  chargerNumber: number | null;
  maxOutputVoltageV: number | null;
  maxOutputCurrentA: number | null;
}

/** The battery's limits from BCP (BHM for the total voltage when BCP is missing). */
export interface LimitsReport {
  maxCellVoltageV: number | null;
  maxChargingCurrentA: number | null;
  maxTotalVoltageV: number | null;
  maxTemperatureC: number | null;
}

/** Session statistics (FINDINGS.md "stats"). A stat that cannot be known is `null`. */
export interface StatsReport {
  socStart: number | null;
  socEnd: number | null;
  maxOutputVoltageV: number | null;
  maxOutputCurrentA: number | null;
  energyKWh: number | null;
  chargingMinutes: number | null;
  maxBatteryTempC: number | null;
}

/** One frame that supports a finding. */
export interface EvidenceReport {
  message: string;
  time: string;
  canId: string;
  /** Payload as lower-case hex. */
  data: string;
}

/** One finding (FINDINGS.md catalog). */
export interface FindingReport {
  code: string;
  severity: Severity;
  startTime: string;
  endTime: string;
  message: string;
  evidence: EvidenceReport[];
}

/** A downsampled series: `[secondsFromSessionStart, value]` pairs. */
export type SeriesPoints = [number, number][];

/** Names of the per-session series. */
export const SERIES_NAMES = [
  'voltageDemandV',
  'voltageOutputV',
  'voltageMeasuredV',
  'currentDemandA',
  'currentOutputA',
  'currentMeasuredA',
  'soc',
  'maxCellVoltageV',
  'maxBatteryTempC',
  'minBatteryTempC',
] as const;

/** One series name. */
export type SeriesName = (typeof SERIES_NAMES)[number];

/** One charging session. */
export interface SessionReport {
  index: number;
  startTime: string;
  endTime: string;
  edition: '2015' | '2011' | 'unknown';
  phases: PhaseReport[];
  lastPhase: PhaseName;
  stopInitiator: 'bms' | 'charger' | 'none';
  vehicle: VehicleReport;
  charger: ChargerReport;
  limits: LimitsReport;
  stats: StatsReport;
  findings: FindingReport[];
  series: Record<SeriesName, SeriesPoints>;
}

/** A signal decoded through a user's DBC (present only when a DBC was given). */
export interface SignalSeriesReport {
  message: string;
  signal: string;
  unit: string;
  /** `[secondsFromLogStart, value]`, downsampled like the session series. */
  points: SeriesPoints;
}

/** The whole report. */
export interface ChargingReport {
  file: FileReport;
  sessions: SessionReport[];
  /** Only when analysed with a DBC: the DBC signals found on the bus. */
  signals?: SignalSeriesReport[];
}
