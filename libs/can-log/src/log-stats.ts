/** Counters every reader keeps while streaming: frames per channel, objects per type, time span. */
import type { FrameBatch, ReadWarning } from './frame';

/** FrameFlag.Error, local to keep export getters out of the hot loop. */
const F_ERROR = 4;

/** What a reader learned about a log (complete once iteration has finished). */
export interface LogStats {
  /** Bytes pulled from the source so far. */
  bytesRead: number;
  /** Size of the input when known. */
  totalBytes: number | undefined;
  /** Data frames (classic and FD, not error frames). */
  frames: number;
  /** Error frames. */
  errorFrames: number;
  /** Data frames per 1-based channel (0 = unknown channel). */
  framesPerChannel: Record<number, number>;
  /** Objects (BLF) or events (text formats) per type name, including skipped ones. */
  objectsPerType: Record<string, number>;
  /** Timestamp (s since measurement start) of the first and last frame in file order. */
  firstTimestamp: number | undefined;
  lastTimestamp: number | undefined;
  /** Smallest and largest frame timestamp (files need not be in time order). */
  minTimestamp: number | undefined;
  maxTimestamp: number | undefined;
  /** Absolute measurement start, when the format records one. */
  startTime: Date | undefined;
  /** `startTime` plus `maxTimestamp`. */
  endTime: Date | undefined;
  /** Writing application, e.g. "CANoe 10.0.114", when the format records one. */
  writer: string | undefined;
  /** All warnings met, including those dropped beyond `maxWarnings`. */
  warningCount: number;
}

/** Mutable counters behind {@link LogStats}. Allocation-free per frame. */
export class StatsCollector {
  frames = 0;
  errorFrames = 0;
  firstTimestamp: number | undefined;
  lastTimestamp: number | undefined;
  minTimestamp = Infinity;
  maxTimestamp = -Infinity;
  startTime: Date | undefined;
  writer: string | undefined;
  private readonly perChannel = new Float64Array(65536);
  private readonly typeCounts = new Float64Array(256);
  private readonly otherTypes = new Map<number, number>();
  private readonly namedTypes = new Map<string, number>();

  constructor(private readonly typeName: (type: number) => string = String) {}

  /** Counts one object of a numeric type (BLF). */
  countType(type: number): void {
    if (type < 256) this.typeCounts[type]++;
    else this.otherTypes.set(type, (this.otherTypes.get(type) ?? 0) + 1);
  }

  /** Counts one event of a named kind (text formats). */
  countNamed(name: string): void {
    this.namedTypes.set(name, (this.namedTypes.get(name) ?? 0) + 1);
  }

  /** Adds the rows of a finished batch. */
  addBatch(b: FrameBatch): void {
    const n = b.length;
    if (n === 0) return;
    const ts = b.timestamps;
    const flags = b.flags;
    const ch = b.channels;
    let min = this.minTimestamp;
    let max = this.maxTimestamp;
    let errors = 0;
    for (let i = 0; i < n; i++) {
      const t = ts[i];
      if (t < min) min = t;
      if (t > max) max = t;
      if ((flags[i] & F_ERROR) !== 0) errors++;
      else this.perChannel[ch[i]]++;
    }
    this.minTimestamp = min;
    this.maxTimestamp = max;
    if (this.firstTimestamp === undefined) this.firstTimestamp = ts[0];
    this.lastTimestamp = ts[n - 1];
    this.errorFrames += errors;
    this.frames += n - errors;
  }

  /** A snapshot of the counters. */
  snapshot(bytesRead: number, totalBytes: number | undefined, warningCount: number): LogStats {
    const framesPerChannel: Record<number, number> = {};
    for (let c = 0; c < this.perChannel.length; c++)
      if (this.perChannel[c] > 0) framesPerChannel[c] = this.perChannel[c];
    const objectsPerType: Record<string, number> = {};
    for (let t = 0; t < 256; t++)
      if (this.typeCounts[t] > 0) objectsPerType[this.typeName(t)] = this.typeCounts[t];
    for (const [t, n] of this.otherTypes) objectsPerType[this.typeName(t)] = n;
    for (const [k, n] of this.namedTypes) objectsPerType[k] = n;
    const has = this.minTimestamp !== Infinity;
    return {
      bytesRead,
      totalBytes,
      frames: this.frames,
      errorFrames: this.errorFrames,
      framesPerChannel,
      objectsPerType,
      firstTimestamp: this.firstTimestamp,
      lastTimestamp: this.lastTimestamp,
      minTimestamp: has ? this.minTimestamp : undefined,
      maxTimestamp: has ? this.maxTimestamp : undefined,
      startTime: this.startTime,
      endTime:
        this.startTime && has ? new Date(this.startTime.getTime() + this.maxTimestamp * 1000) : undefined,
      writer: this.writer,
      warningCount,
    };
  }
}

/** Collects warnings up to a bound; later ones are only counted. */
export class WarningSink {
  readonly list: ReadWarning[] = [];
  count = 0;
  constructor(private readonly max: number) {}
  add(code: string, message: string, where: { offset?: number; line?: number } = {}): void {
    this.count++;
    if (this.list.length < this.max) {
      const w: ReadWarning = { code, message };
      if (where.offset !== undefined) w.offset = where.offset;
      if (where.line !== undefined) w.line = where.line;
      this.list.push(w);
    } else if (this.list.length === this.max && this.max > 0) {
      this.list.push({
        code: 'WARNINGS_TRUNCATED',
        message: `more than ${this.max} warnings; the rest are only counted`,
      });
    }
  }
}
