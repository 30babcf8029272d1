/**
 * A log of very many short sessions (the synthetic traffic of `writeSyntheticBlf` sends a CHM
 * every 9 frames, so every 9 frames starts a session) must cost time and memory linear in its
 * frames and sessions: each session used to allocate 2,000 points of storage for each of its
 * 10 series up front, so 60,000 frames took seconds. This test only has to finish well within
 * Jest's timeout; the exact report is asserted.
 */
import fc from 'fast-check';
import { createMemorySink, openLog, writeSyntheticBlf } from '@charge/can-log';
import { analyzeLog, SeriesDownsampler, type ChargingReport } from '@charge/gbt27930';

const FRAMES = 120_000;

async function syntheticReport(): Promise<ChargingReport> {
  const sink = createMemorySink();
  await writeSyntheticBlf(sink, { frames: FRAMES, channels: 1 });
  return analyzeLog(await openLog(sink.bytes()));
}

describe('a log of very many sessions', () => {
  let report: ChargingReport;
  beforeAll(async () => {
    report = await syntheticReport();
  });

  it('reports every session, in time order, with the file facts', () => {
    expect(report.file).toMatchObject({ format: 'blf', canFrames: FRAMES, errorFrames: 0, channels: [1] });
    expect(report.file.startTime).toBe('2024-01-01T00:00:00.000Z');
    expect(report.file.endTime).toBe('2024-01-01T00:01:00.000Z'); // frame 119999 at 59.9995 s
    // a CHM at frames 0, 9, 18, …: ⌈120000 / 9⌉ sessions
    expect(report.sessions).toHaveLength(13334);
    // frame k at k × 0.5 ms; session i starts at its CHM, frame 9i (plain checks: 13,334 expects are slow)
    const misplaced = report.sessions.filter(
      (s, i) => s.index !== i || Date.parse(s.startTime) !== Date.UTC(2024, 0, 1) + Math.round(9 * i * 0.5),
    );
    expect(misplaced).toEqual([]);
  });

  it('gives each session its phases, stats and series', () => {
    const first = report.sessions[0];
    expect(first.startTime).toBe('2024-01-01T00:00:00.000Z');
    expect(first.endTime).toBe('2024-01-01T00:00:00.003Z'); // its CCS, frame 6
    expect(first.edition).toBe('2015');
    expect(first.lastPhase).toBe('charging');
    expect(first.stopInitiator).toBe('none');
    expect(first.phases.map((p) => p.name)).toEqual(['handshake', 'charging']);
    expect(first.findings).toEqual([]);
    // every session but the last (cut off after its CRM) reaches charging with one BCL and one CCS
    const last = report.sessions[report.sessions.length - 1];
    expect(last.lastPhase).toBe('handshake');
    expect(last.findings.map((f) => f.code)).toEqual(['SESSION_INCOMPLETE']);
    const odd = report.sessions.slice(0, -1).filter((s) => {
      const points = Object.values(s.series).reduce((sum, p) => sum + p.length, 0);
      return (
        s.lastPhase !== 'charging' ||
        s.findings.length !== 0 ||
        points !== 4 ||
        s.series.voltageDemandV.length !== 1 ||
        s.series.voltageOutputV.length !== 1 ||
        s.stats.maxOutputVoltageV !== s.series.voltageOutputV[0][1] ||
        s.stats.maxOutputCurrentA !== s.series.currentOutputA[0][1]
      );
    });
    expect(odd).toEqual([]);
  });
});

/** The downsampler before its storage grew lazily: all buckets allocated up front. */
class EagerDownsampler {
  private readonly minT: Float64Array;
  private readonly minV: Float64Array;
  private readonly maxT: Float64Array;
  private readonly maxV: Float64Array;
  private readonly used: Uint8Array;
  private width: number;
  private origin = Number.NaN;
  private count = 0;

  constructor(maxPoints: number, initialWidth = 0.05) {
    const n = Math.max(1, Math.floor(maxPoints / 2));
    this.minT = new Float64Array(n);
    this.minV = new Float64Array(n);
    this.maxT = new Float64Array(n);
    this.maxV = new Float64Array(n);
    this.used = new Uint8Array(n);
    this.width = initialWidth;
  }

  add(t: number, v: number): void {
    if (this.count++ === 0) this.origin = t;
    let rel = t - this.origin;
    if (rel < 0) rel = 0;
    if (!(rel < 1e15)) rel = 0;
    const n = this.used.length;
    while (rel * (1 / this.width) >= n) this.merge();
    const b = (rel * (1 / this.width)) | 0;
    if (this.used[b] === 0) {
      this.used[b] = 1;
      this.minT[b] = this.maxT[b] = t;
      this.minV[b] = this.maxV[b] = v;
    } else {
      if (v < this.minV[b]) [this.minV[b], this.minT[b]] = [v, t];
      if (v > this.maxV[b]) [this.maxV[b], this.maxT[b]] = [v, t];
    }
  }

  points(origin: number): [number, number][] {
    const out: [number, number][] = [];
    const rt = (t: number) => Math.round((t - origin) * 1000) / 1000;
    for (let b = 0; b < this.used.length; b++) {
      if (this.used[b] === 0) continue;
      const a = this.minT[b];
      const c = this.maxT[b];
      if (a === c && this.minV[b] === this.maxV[b]) out.push([rt(a), this.minV[b]]);
      else if (a <= c) out.push([rt(a), this.minV[b]], [rt(c), this.maxV[b]]);
      else out.push([rt(c), this.maxV[b]], [rt(a), this.minV[b]]);
    }
    return out;
  }

  private merge(): void {
    const n = this.used.length;
    const next = {
      minT: new Float64Array(n),
      minV: new Float64Array(n),
      maxT: new Float64Array(n),
      maxV: new Float64Array(n),
    };
    const used = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (this.used[i] === 0) continue;
      const j = i >> 1;
      if (used[j] === 0) {
        used[j] = 1;
        next.minT[j] = this.minT[i];
        next.minV[j] = this.minV[i];
        next.maxT[j] = this.maxT[i];
        next.maxV[j] = this.maxV[i];
        continue;
      }
      if (this.minV[i] < next.minV[j]) [next.minV[j], next.minT[j]] = [this.minV[i], this.minT[i]];
      if (this.maxV[i] > next.maxV[j]) [next.maxV[j], next.maxT[j]] = [this.maxV[i], this.maxT[i]];
    }
    this.minT.set(next.minT);
    this.minV.set(next.minV);
    this.maxT.set(next.maxT);
    this.maxV.set(next.maxV);
    this.used.set(used);
    this.width *= 2;
  }
}

describe('SeriesDownsampler with storage grown on demand', () => {
  it('returns exactly the points of the all-buckets-up-front algorithm', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 64 }),
        fc.array(
          fc.record({
            dt: fc.oneof(
              fc.constant(0),
              fc.double({ min: 0, max: 0.2, noNaN: true }),
              fc.double({ min: 0, max: 50, noNaN: true }),
            ),
            v: fc.integer({ min: -1000, max: 1000 }),
          }),
          { maxLength: 400 },
        ),
        (maxPoints, steps) => {
          const lazy = new SeriesDownsampler(maxPoints);
          const eager = new EagerDownsampler(maxPoints);
          let t = 100;
          for (const { dt, v } of steps) {
            t += dt;
            lazy.add(t, v);
            eager.add(t, v);
          }
          expect(lazy.size).toBe(steps.length);
          expect(lazy.points(100)).toEqual(eager.points(100));
          expect(lazy.points(100).length).toBeLessThanOrEqual(maxPoints);
        },
      ),
      { numRuns: 300 },
    );
  });
});
