import { DomainError } from '@charge/errors';
import { SERIES_NAMES, type ChargingReport, type SeriesPoints } from '@charge/gbt27930';

export const MAX_SERIES_POINTS = 2000;

export interface SeriesQuery {
  sessionIndex: number;
  names: string[];
  fromSeconds: number;
  toSeconds: number;
  maxPoints: number;
}

export interface SeriesSlice {
  sessionStartTime: string;
  sessionCount: number;
  series: { name: string; points: SeriesPoints }[];
}

/**
 * Downsamples to at most `max` points with min/max buckets: each bucket keeps its lowest
 * and highest point (in time order), so peaks survive.
 */
export function minMaxDownsample(points: SeriesPoints, max: number): SeriesPoints {
  if (points.length <= max) return points;
  if (max < 2) return points.slice(0, max);
  const buckets = Math.floor(max / 2);
  const out: SeriesPoints = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * points.length) / buckets);
    const to = Math.floor(((b + 1) * points.length) / buckets);
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      if (points[i][1] < points[lo][1]) lo = i;
      if (points[i][1] > points[hi][1]) hi = i;
    }
    if (lo === hi) out.push(points[lo]);
    else if (lo < hi) out.push(points[lo], points[hi]);
    else out.push(points[hi], points[lo]);
  }
  return out;
}

/** Cuts the stored series of one session to a window and a point budget. */
export function sliceSeries(report: ChargingReport, q: SeriesQuery): SeriesSlice {
  const session = report.sessions[q.sessionIndex];
  if (!Number.isInteger(q.sessionIndex) || q.sessionIndex < 0 || !session)
    throw DomainError.invalidArgument(
      'session_index',
      `must be between 0 and ${report.sessions.length - 1} (the report has ${report.sessions.length} sessions)`,
    );
  if (q.fromSeconds < 0 || q.toSeconds < 0 || (q.toSeconds > 0 && q.toSeconds < q.fromSeconds))
    throw DomainError.invalidArgument(
      'to_seconds',
      'the window must satisfy 0 <= from_seconds <= to_seconds',
    );
  const unknown = q.names.filter((n) => !(SERIES_NAMES as readonly string[]).includes(n));
  if (unknown.length)
    throw DomainError.invalidArgument(
      'names',
      `unknown series ${unknown.join(', ')}; known: ${SERIES_NAMES.join(', ')}`,
    );
  const names = q.names.length ? q.names : [...SERIES_NAMES];
  const max = q.maxPoints > 0 ? Math.min(q.maxPoints, MAX_SERIES_POINTS) : MAX_SERIES_POINTS;
  const to = q.toSeconds > 0 ? q.toSeconds : Infinity;
  return {
    sessionStartTime: session.startTime,
    sessionCount: report.sessions.length,
    series: names.map((name) => {
      const all = (session.series as Record<string, SeriesPoints | undefined>)[name] ?? [];
      const window = all.filter(([t]) => t >= q.fromSeconds && t <= to);
      return { name, points: minMaxDownsample(window, max) };
    }),
  };
}
