/**
 * A condition that must hold continuously for a minimum time before it becomes a finding
 * (OUTPUT_VOLTAGE_DEVIATION, OUTPUT_CURRENT_DEVIATION). Tracks the run and its worst sample.
 */
import type { FindingRecorder, RawEvidence } from './finding-recorder';

/** Flags returned by {@link DeviationRun.hold}. */
export const RunUpdate = {
  /** The run just started: call `setStart`. */
  Started: 1,
  /** This sample is the worst so far: call `setWorst`. */
  Worst: 2,
} as const;

/** One run-length check. Allocation-free while a run continues without getting worse. */
export class DeviationRun {
  private start = Number.NaN;
  private lastTrue = Number.NaN;
  private startEvidence: RawEvidence | null = null;
  private worstScore = -1;
  private worstText = '';
  private worstEvidence: RawEvidence | null = null;

  constructor(
    readonly code: string,
    readonly minDurationS: number,
  ) {}

  /** True while a run is open. */
  get open(): boolean {
    return this.start === this.start;
  }

  /** The condition holds at `t` with severity `score`; returns {@link RunUpdate} flags. */
  hold(t: number, score: number): number {
    let flags = 0;
    if (!this.open) {
      this.start = t;
      this.worstScore = -1;
      flags |= RunUpdate.Started;
    }
    this.lastTrue = t;
    if (score > this.worstScore) {
      this.worstScore = score;
      flags |= RunUpdate.Worst;
    }
    return flags;
  }

  /** Evidence of the first sample of the run. */
  setStart(evidence: RawEvidence): void {
    this.startEvidence = evidence;
  }

  /** Text and evidence of the worst sample. */
  setWorst(text: string, evidence: RawEvidence): void {
    this.worstText = text;
    this.worstEvidence = evidence;
  }

  /** The condition no longer holds (or charging stopped): emits a finding if the run lasted long enough. */
  release(recorder: FindingRecorder): void {
    if (!this.open) return;
    const duration = this.lastTrue - this.start;
    if (duration >= this.minDurationS && this.startEvidence) {
      const ev = [this.startEvidence];
      if (this.worstEvidence && this.worstEvidence.time !== this.startEvidence.time)
        ev.push(this.worstEvidence);
      recorder.episode(
        this.code,
        'warning',
        this.start,
        this.lastTrue,
        `${this.worstText}，持续 ${duration.toFixed(1)} s`,
        ev,
      );
    }
    this.start = Number.NaN;
    this.lastTrue = Number.NaN;
    this.startEvidence = null;
    this.worstEvidence = null;
  }
}
