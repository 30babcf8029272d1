/**
 * The analysis entry points: frames (batches) in, the FINDINGS.md report out. Synchronous
 * incremental use through {@link ChargingAnalyzer}; async streams through
 * {@link analyzeBatches}; a can-log `openLog()` result through {@link analyzeLog}.
 */
import type { FrameBatch } from '@charge/can-log';
import { DbcSignalCollector } from './dbc/dbc-signal-collector';
import type { DbcDatabase } from './dbc/dbc-types';
import type { ChargingReport, FileReport } from './report-types';
import { SessionBuilder } from './session-builder';

/** Progress of a running analysis. */
export interface AnalysisProgress {
  /** Frames (data + error) processed so far. */
  frames: number;
  /** Log time of the last frame processed (seconds from log start). */
  timestamp: number;
  /** Bytes read so far and the input size, when the source knows them. */
  bytesRead?: number;
  totalBytes?: number;
  /** `bytesRead / totalBytes` in 0..1 when both are known. */
  fraction?: number;
}

/** Options of the analysis. */
export interface AnalyzeOptions {
  /** Cancels the analysis; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called about every `progressIntervalFrames` frames and once at the end. */
  onProgress?: (progress: AnalysisProgress) => void;
  /** Default 262144. */
  progressIntervalFrames?: number;
  /** Absolute time of log timestamp 0 (Date or ms since epoch); default the Unix epoch. */
  timeOrigin?: Date | number;
  /** File facts the frames cannot tell: format, size, other objects, warnings. */
  file?: Partial<Pick<FileReport, 'format' | 'sizeBytes' | 'otherObjects' | 'warnings'>>;
  /** A user DBC: its signals are decoded into `report.signals`. */
  dbc?: DbcDatabase;
  /** Max points per series (default 2000). */
  maxSeriesPoints?: number;
  /** Reports bytes read for progress (set by {@link analyzeLog}). */
  bytesProgress?: () => { bytesRead?: number; totalBytes?: number };
}

/** Overrides applied when finishing (e.g. file facts learned only after reading). */
export interface FinishOverrides {
  timeOrigin?: Date | number;
  file?: AnalyzeOptions['file'];
}

/**
 * Incremental analyzer: `push` each batch synchronously (the batch may be reused afterwards),
 * then `finish` once for the report.
 */
export class ChargingAnalyzer {
  private readonly builder: SessionBuilder;
  private readonly signals: DbcSignalCollector | null;
  private readonly interval: number;
  private nextProgress: number;

  constructor(private readonly options: AnalyzeOptions = {}) {
    this.signals = options.dbc ? new DbcSignalCollector(options.dbc, options.maxSeriesPoints) : null;
    const sig = this.signals;
    this.builder = new SessionBuilder({
      maxSeriesPoints: options.maxSeriesPoints,
      onOtherFrame: sig ? (b, i) => sig.onFrame(b, i) : undefined,
    });
    this.interval = options.progressIntervalFrames ?? 262144;
    this.nextProgress = this.interval;
  }

  /** Processes one batch. Throws the abort reason when the signal is aborted. */
  push(batch: FrameBatch): void {
    this.options.signal?.throwIfAborted();
    this.builder.push(batch);
    if (this.options.onProgress && this.builder.framesSeen >= this.nextProgress) {
      this.nextProgress = this.builder.framesSeen + this.interval;
      this.options.onProgress(this.progress());
    }
  }

  /** Ends the analysis and returns the report. */
  finish(overrides: FinishOverrides = {}): ChargingReport {
    const originOpt = overrides.timeOrigin ?? this.options.timeOrigin ?? 0;
    const origin = typeof originOpt === 'number' ? originOpt : originOpt.getTime();
    const iso = (t: number) => isoTime(origin, t);
    const { sessions, totals } = this.builder.finish(iso);
    this.options.onProgress?.(this.progress());
    const file = { ...this.options.file, ...overrides.file };
    const report: ChargingReport = {
      file: {
        format: file.format ?? 'unknown',
        sizeBytes: file.sizeBytes ?? null,
        canFrames: totals.canFrames,
        errorFrames: totals.errorFrames,
        otherObjects: file.otherObjects ?? 0,
        channels: totals.channels,
        startTime: totals.firstTime === totals.firstTime ? iso(totals.firstTime) : null,
        endTime: totals.lastTime === totals.lastTime ? iso(totals.lastTime) : null,
        warnings: file.warnings ?? [],
      },
      sessions,
    };
    if (this.signals)
      report.signals = this.signals.toReport(totals.firstTime === totals.firstTime ? totals.firstTime : 0);
    return report;
  }

  private progress(): AnalysisProgress {
    const p: AnalysisProgress = { frames: this.builder.framesSeen, timestamp: this.builder.lastTimestamp };
    const b = this.options.bytesProgress?.();
    if (b?.bytesRead !== undefined) p.bytesRead = b.bytesRead;
    if (b?.totalBytes !== undefined) p.totalBytes = b.totalBytes;
    if (p.bytesRead !== undefined && p.totalBytes) p.fraction = Math.min(1, p.bytesRead / p.totalBytes);
    return p;
  }
}

/** ISO-8601 of log time `t` seconds with the origin in ms since the epoch. */
export function isoTime(originMs: number, t: number): string {
  const ms = originMs + t * 1000;
  const d = new Date(Math.round(ms));
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
}

/** Analyzes a stream of batches (each batch is consumed before the next is requested). */
export async function analyzeBatches(
  batches: AsyncIterable<FrameBatch> | Iterable<FrameBatch>,
  options: AnalyzeOptions = {},
): Promise<ChargingReport> {
  const analyzer = new ChargingAnalyzer(options);
  options.signal?.throwIfAborted();
  for await (const batch of batches) analyzer.push(batch);
  return analyzer.finish();
}

/** The parts of a can-log `openLog()` result the analysis uses. */
export interface AnalyzableLog {
  format: string;
  batches(): AsyncIterable<FrameBatch>;
  readonly warnings?: readonly { code?: string; message: string }[];
  readonly stats?: {
    bytesRead?: number;
    totalBytes?: number;
    startTime?: Date;
    objectsPerType?: Record<string, number>;
    frames?: number;
    errorFrames?: number;
    warningCount?: number;
  };
}

/**
 * Analyzes an opened log: frames from `log.batches()`, file facts (format, size, start time,
 * other objects, warnings) from the log's stats once reading has finished.
 */
export async function analyzeLog(log: AnalyzableLog, options: AnalyzeOptions = {}): Promise<ChargingReport> {
  const analyzer = new ChargingAnalyzer({
    ...options,
    bytesProgress: () => ({ bytesRead: log.stats?.bytesRead, totalBytes: log.stats?.totalBytes }),
  });
  options.signal?.throwIfAborted();
  for await (const batch of log.batches()) analyzer.push(batch);
  const stats = log.stats;
  let objects = 0;
  for (const n of Object.values(stats?.objectsPerType ?? {})) objects += n;
  const frames = (stats?.frames ?? 0) + (stats?.errorFrames ?? 0);
  const warnings = (log.warnings ?? []).map((w) => (w.code ? `${w.code}: ${w.message}` : w.message));
  const hidden = (stats?.warningCount ?? warnings.length) - warnings.length;
  if (hidden > 0) warnings.push(`… ${hidden} more warnings`);
  return analyzer.finish({
    timeOrigin: options.timeOrigin ?? stats?.startTime,
    file: {
      format: options.file?.format ?? log.format,
      sizeBytes: options.file?.sizeBytes ?? stats?.totalBytes ?? null,
      otherObjects: options.file?.otherObjects ?? Math.max(0, objects - frames),
      warnings: [...(options.file?.warnings ?? []), ...warnings],
    },
  });
}
