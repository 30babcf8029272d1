/** What one load run measured, whichever tool drove it (same shape for gRPC and HTTP). */
export interface LoadResult {
  /** Successful responses in the measured window (gRPC OK / HTTP 2xx). */
  ok: number;
  /** Failed requests: gRPC errors, or HTTP non-2xx + connection errors + timeouts. */
  errors: number;
  /** Length of the measured window. */
  seconds: number;
  /** Latency percentiles of the successful responses, ms. */
  p50: number;
  p99: number;
  /** The first failure, for the report. */
  firstError?: string;
}

/** One closed-loop run: `clients` requests in flight for `seconds`, after `warmup` seconds unmeasured. */
export interface LoadJob {
  /** gRPC `host:port`, or the full HTTP URL of the read. */
  target: string;
  read: ReadName;
  token: string;
  clients: number;
  seconds: number;
  warmup: number;
  /** GetAnalysis's id. */
  analysisId: number;
  pageSize: number;
}

export type ReadName = 'GetAnalysis' | 'ListAnalyses';

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Summarises exact per-request latencies (ms) of one run. */
export function summarise(latencies: number[], errors: number, seconds: number): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    ok: latencies.length,
    errors,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Rounds of one path: req/s over all rounds, p50/p99 the mean of the rounds'. */
export function combine(rounds: readonly LoadResult[]): LoadResult {
  const sum = (f: (r: LoadResult) => number) => rounds.reduce((n, r) => n + f(r), 0);
  return {
    ok: sum((r) => r.ok),
    errors: sum((r) => r.errors),
    seconds: sum((r) => r.seconds),
    p50: sum((r) => r.p50) / rounds.length,
    p99: sum((r) => r.p99) / rounds.length,
    firstError: rounds.find((r) => r.firstError)?.firstError,
  };
}

export const rps = (r: LoadResult): number => r.ok / r.seconds;
