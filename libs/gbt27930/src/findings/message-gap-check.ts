/**
 * MESSAGE_TIMEOUT_BCL / _CCS / _BCS: during the charging phase, a gap between two instances
 * of a periodic message longer than its timeout, measured up to the first BST/CST.
 */
import type { FindingRecorder } from './finding-recorder';

const NO_DATA = new Uint8Array(0);

/** Tracks the gaps of one message within one session. */
export class MessageGapCheck {
  private last = Number.NaN;
  private lastId = 0;
  /** Allocated at the first instance (most sessions of a many-session log never get one). */
  private lastData: Uint8Array = NO_DATA;
  private lastLen = 0;
  private closed = false;

  constructor(
    readonly code: string,
    readonly messageName: string,
    readonly limitS: number,
  ) {}

  /** An instance arrived at `t` (only call during the charging phase). */
  observe(
    recorder: FindingRecorder,
    t: number,
    canId: number,
    data: Uint8Array,
    off: number,
    len: number,
    sessionStart: number,
  ): void {
    if (this.closed) return;
    if (this.last === this.last && t - this.last > this.limitS) {
      this.report(recorder, t, sessionStart, canId, data, off, len, 'next');
    }
    this.last = t;
    this.lastId = canId;
    const n = Math.min(len, 64);
    if (this.lastData === NO_DATA) this.lastData = new Uint8Array(64);
    for (let i = 0; i < n; i++) this.lastData[i] = data[off + i];
    this.lastLen = n;
  }

  /** Stops tracking at `t` (first BST/CST, or the end of the session), reporting a final gap. */
  close(recorder: FindingRecorder, t: number, sessionStart: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.last === this.last && t - this.last > this.limitS) {
      this.report(recorder, t, sessionStart, 0, null, 0, 0, reason);
    }
  }

  private report(
    recorder: FindingRecorder,
    t: number,
    sessionStart: number,
    canId: number,
    data: Uint8Array | null,
    off: number,
    len: number,
    until: string,
  ): void {
    const gap = t - this.last;
    const evidence = [
      {
        message: this.messageName,
        time: this.last,
        canId: this.lastId,
        data: hex(this.lastData, this.lastLen),
      },
    ];
    if (data) {
      evidence.push({ message: this.messageName, time: t, canId, data: hex(data.subarray(off), len) });
    }
    const what =
      until === 'next'
        ? `下一帧在 ${rel(t, sessionStart)} s`
        : `直到${until}（${rel(t, sessionStart)} s）仍未收到`;
    recorder.episode(
      this.code,
      'warning',
      this.last,
      t,
      `充电阶段 ${this.messageName} 报文中断 ${gap.toFixed(1)} s（超时 ${this.limitS} s）：最后一帧在会话第 ${rel(this.last, sessionStart)} s，${what}`,
      evidence,
    );
  }
}

function rel(t: number, start: number): string {
  return (t - start).toFixed(1);
}

function hex(data: Uint8Array, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += (data[i] < 16 ? '0' : '') + data[i].toString(16);
  return s;
}
