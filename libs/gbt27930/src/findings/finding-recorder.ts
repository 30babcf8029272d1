/**
 * Collects the findings of one session. A finding that repeats under the same key (a BST
 * sent 60 times) is kept once, with its first and last time and frame; episode findings
 * (a pause, a gap) are added separately.
 */
import { formatCanId } from '../can-id';
import { toHex } from '../byte-fields';
import type { EvidenceReport, FindingReport } from '../report-types';
import type { Severity } from '../status-fields';

/** Most findings of one code kept per session (episodes beyond are counted, not listed). */
export const MAX_EPISODES_PER_CODE = 50;

const NO_DATA = new Uint8Array(0);

/** One evidence frame before ISO conversion. */
export interface RawEvidence {
  message: string;
  time: number;
  canId: number;
  data: string;
}

/** A finding being collected. */
export class FindingRecord {
  count = 1;
  last: RawEvidence | null = null;
  private lastTime = Number.NaN;
  private lastId = 0;
  private lastName = '';
  /** Allocated at the first repeat that carries data. */
  private lastData: Uint8Array = NO_DATA;
  private lastLen = 0;

  constructor(
    readonly code: string,
    readonly severity: Severity,
    readonly startTime: number,
    public endTime: number,
    public message: string,
    readonly evidence: RawEvidence[],
  ) {}

  /** Records a repeat without allocating (the last frame is materialised at report time). */
  repeat(time: number, name: string, canId: number, data: Uint8Array | null, off: number, len: number): void {
    this.count++;
    if (time > this.endTime) this.endTime = time;
    this.lastTime = time;
    this.lastName = name;
    this.lastId = canId;
    if (data) {
      const n = Math.min(len, 64);
      if (this.lastData === NO_DATA) this.lastData = new Uint8Array(64);
      for (let i = 0; i < n; i++) this.lastData[i] = data[off + i];
      this.lastLen = n;
    } else this.lastLen = 0;
  }

  /** The evidence list: the first frame(s), plus the last repeat when it differs in time. */
  evidenceList(): RawEvidence[] {
    const out = this.evidence.slice();
    if (this.count > 1 && !Number.isNaN(this.lastTime) && this.lastTime !== out[out.length - 1]?.time) {
      out.push({
        message: this.lastName,
        time: this.lastTime,
        canId: this.lastId,
        data: toHex(this.lastData, 0, this.lastLen),
      });
    }
    return out;
  }
}

/** Converts seconds-from-log-start to ISO-8601 with the log's time origin (ms since epoch). */
export type TimeFormatter = (t: number) => string;

/** Per-session finding collector. */
export class FindingRecorder {
  // Created on first use: a log of very many sessions holds one recorder per session.
  private keyed: Map<string, FindingRecord> | null = null;
  private readonly all: FindingRecord[] = [];
  private episodesPerCode: Map<string, number> | null = null;

  /** The keyed finding, if raised. */
  get(key: string): FindingRecord | undefined {
    return this.keyed?.get(key);
  }

  /**
   * Raises a deduplicated finding: the first call creates it, later calls with the same `key`
   * extend its span. Returns the record.
   */
  raise(
    key: string,
    code: string,
    severity: Severity,
    time: number,
    message: string,
    evidenceName: string,
    canId: number,
    data: Uint8Array | null,
    off: number,
    len: number,
  ): FindingRecord {
    const existing = this.keyed?.get(key);
    if (existing) {
      existing.repeat(time, evidenceName, canId, data, off, len);
      return existing;
    }
    const rec = new FindingRecord(code, severity, time, time, message, [
      { message: evidenceName, time, canId, data: data ? toHex(data, off, len) : '' },
    ]);
    (this.keyed ??= new Map()).set(key, rec);
    this.all.push(rec);
    return rec;
  }

  /** Adds one episode finding (a pause, a gap, a deviation). Returns null past the per-code cap. */
  episode(
    code: string,
    severity: Severity,
    startTime: number,
    endTime: number,
    message: string,
    evidence: RawEvidence[],
  ): FindingRecord | null {
    const counts = (this.episodesPerCode ??= new Map());
    const n = (counts.get(code) ?? 0) + 1;
    counts.set(code, n);
    if (n > MAX_EPISODES_PER_CODE) return null;
    const rec = new FindingRecord(code, severity, startTime, endTime, message, evidence);
    this.all.push(rec);
    return rec;
  }

  /** Episodes of `code` dropped past the cap. */
  droppedEpisodes(code: string): number {
    return Math.max(0, (this.episodesPerCode?.get(code) ?? 0) - MAX_EPISODES_PER_CODE);
  }

  /** True when at least one finding of `code` exists. */
  has(code: string): boolean {
    return this.all.some((r) => r.code === code);
  }

  /** The findings as report entries, ordered by start time. */
  toReport(iso: TimeFormatter): FindingReport[] {
    return this.all
      .slice()
      .sort((a, b) => a.startTime - b.startTime)
      .map((r) => ({
        code: r.code,
        severity: r.severity,
        startTime: iso(r.startTime),
        endTime: iso(r.endTime),
        message: r.count > 1 ? `${r.message}（共 ${r.count} 帧）` : r.message,
        evidence: r.evidenceList().map((e): EvidenceReport => ({
          message: e.message,
          time: iso(e.time),
          canId: formatCanId(e.canId),
          data: e.data,
        })),
      }));
  }
}
