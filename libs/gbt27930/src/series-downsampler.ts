/**
 * Streaming min/max-bucket downsampling with bounded memory: points go into time buckets of
 * a width that doubles (merging neighbours) whenever the buckets run out, and each bucket
 * keeps its minimum and maximum, so peaks survive. Output: at most `2 × buckets` points.
 *
 * Storage grows with the buckets actually reached (up to the bucket count), so a series of a
 * few points costs a few bytes: a log of very many short sessions (10 series each) must not
 * pay for 2,000 points per series and session.
 */

/** Smallest storage allocated once the first point arrives (buckets). */
const MIN_CAPACITY = 8;
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);

/** A fixed-memory downsampler for one series. */
export class SeriesDownsampler {
  private minT: Float64Array = EMPTY_F64;
  private minV: Float64Array = EMPTY_F64;
  private maxT: Float64Array = EMPTY_F64;
  private maxV: Float64Array = EMPTY_F64;
  /** Bucket in use; its length is the storage allocated so far (buckets beyond are unused). */
  private used: Uint8Array = EMPTY_U8;
  /** Number of buckets (the storage never grows beyond). */
  private readonly buckets: number;
  private width: number;
  private inverseWidth: number;
  private origin = Number.NaN;
  private count = 0;

  /**
   * @param maxPoints largest number of points {@link points} returns (even, ≥ 2).
   * @param initialWidth starting bucket width in seconds.
   */
  constructor(maxPoints = 2000, initialWidth = 0.05) {
    this.buckets = Math.max(1, Math.floor(maxPoints / 2));
    this.width = initialWidth;
    this.inverseWidth = 1 / initialWidth;
  }

  /** Number of points added so far. */
  get size(): number {
    return this.count;
  }

  /** Adds a point; `t` in seconds (any origin, non-decreasing in practice). */
  add(t: number, v: number): void {
    if (this.count === 0) this.origin = t;
    this.count++;
    let rel = t - this.origin;
    if (rel < 0) rel = 0;
    if (!(rel < 1e15)) rel = 0; // NaN / absurd timestamps go to the first bucket
    const n = this.buckets;
    let x = rel * this.inverseWidth;
    while (x >= n) {
      this.merge();
      x = rel * this.inverseWidth;
    }
    const b = x | 0;
    if (b >= this.used.length) this.grow(b);
    if (this.used[b] === 0) {
      this.used[b] = 1;
      this.minT[b] = t;
      this.minV[b] = v;
      this.maxT[b] = t;
      this.maxV[b] = v;
    } else {
      if (v < this.minV[b]) {
        this.minV[b] = v;
        this.minT[b] = t;
      }
      if (v > this.maxV[b]) {
        this.maxV[b] = v;
        this.maxT[b] = t;
      }
    }
  }

  /** The downsampled points `[t − origin, value]`, time-ordered, with `t` relative to `origin`. */
  points(origin: number, timeDigits = 3): [number, number][] {
    const out: [number, number][] = [];
    const f = 10 ** timeDigits;
    for (let b = 0; b < this.used.length; b++) {
      if (this.used[b] === 0) continue;
      const a = this.minT[b];
      const c = this.maxT[b];
      if (a === c && this.minV[b] === this.maxV[b]) out.push([rt(a, origin, f), this.minV[b]]);
      else if (a <= c) out.push([rt(a, origin, f), this.minV[b]], [rt(c, origin, f), this.maxV[b]]);
      else out.push([rt(c, origin, f), this.maxV[b]], [rt(a, origin, f), this.minV[b]]);
    }
    return out;
  }

  /** Extends the storage so that bucket `b` (< the bucket count) exists. */
  private grow(b: number): void {
    let cap = Math.max(MIN_CAPACITY, this.used.length * 2);
    while (cap <= b) cap *= 2;
    if (cap > this.buckets) cap = this.buckets;
    const minT = new Float64Array(cap);
    const minV = new Float64Array(cap);
    const maxT = new Float64Array(cap);
    const maxV = new Float64Array(cap);
    const used = new Uint8Array(cap);
    minT.set(this.minT);
    minV.set(this.minV);
    maxT.set(this.maxT);
    maxV.set(this.maxV);
    used.set(this.used);
    this.minT = minT;
    this.minV = minV;
    this.maxT = maxT;
    this.maxV = maxV;
    this.used = used;
  }

  private merge(): void {
    // Only the allocated buckets can be in use; the rest fold into buckets cleared below.
    const n = this.used.length;
    // Bucket i folds into i >> 1; sources are always read before they are overwritten.
    for (let i = 0; i < n; i++) {
      const j = i >> 1;
      if ((i & 1) === 0 || this.used[j] === 0) {
        if (this.used[i] === 0) {
          if ((i & 1) === 0) this.used[j] = 0;
          continue;
        }
        this.minT[j] = this.minT[i];
        this.minV[j] = this.minV[i];
        this.maxT[j] = this.maxT[i];
        this.maxV[j] = this.maxV[i];
        this.used[j] = 1;
        continue;
      }
      if (this.used[i] === 0) continue;
      if (this.minV[i] < this.minV[j]) {
        this.minV[j] = this.minV[i];
        this.minT[j] = this.minT[i];
      }
      if (this.maxV[i] > this.maxV[j]) {
        this.maxV[j] = this.maxV[i];
        this.maxT[j] = this.maxT[i];
      }
    }
    for (let i = (n + 1) >> 1; i < n; i++) this.used[i] = 0;
    this.width *= 2;
    this.inverseWidth = 1 / this.width;
  }
}

/** `t − origin` rounded to `1 / f` (a module function: no closure per call of `points`). */
function rt(t: number, origin: number, f: number): number {
  return Math.round((t - origin) * f) / f;
}
