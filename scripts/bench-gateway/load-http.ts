/**
 * Child process: HTTP load from autocannon against the gateway. `clients` keep-alive
 * HTTP/1.1 connections, one request in flight each (closed loop, no pipelining): a warm-up
 * run that is discarded, then the measured run. autocannon's own latency histogram has 1 ms
 * resolution, so p50/p99 are taken from the exact per-response times it reports in its
 * `response` events (the gRPC side measures the same way); errors are its connection
 * errors + timeouts + non-2xx responses.
 */
import autocannon from 'autocannon';
import { childMain } from './child';
import { summarise, type LoadJob, type LoadResult } from './stats';

function cannon(job: LoadJob, seconds: number, latencies?: number[]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.target,
        connections: job.clients,
        pipelining: 1,
        duration: seconds,
        sampleInt: 100,
        timeout: 10,
        headers: { authorization: `Bearer ${job.token}` },
      },
      (err: unknown, result: autocannon.Result) => (err ? reject(err as Error) : resolve(result)),
    );
    if (latencies)
      instance.on('response', (_client, statusCode, _bytes, ms) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
      });
  });
}

async function run(job: LoadJob): Promise<LoadResult> {
  if (job.warmup > 0) await cannon(job, job.warmup);
  const latencies: number[] = [];
  const t0 = process.hrtime.bigint();
  const result = await cannon(job, job.seconds, latencies);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const errors = result.errors + result.non2xx + result.mismatches;
  const codes = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, { count }]) => `HTTP ${code} ×${count ?? 0}`);
  const firstError =
    errors > 0
      ? [...codes, `${result.errors} connection errors (${result.timeouts} timeouts)`].join(', ')
      : undefined;
  return { ...summarise(latencies, errors, seconds), firstError };
}

childMain(run);
