/**
 * Child process: closed-loop gRPC load, the counterpart of autocannon for the direct path.
 * `clients` callers share one channel (as a gRPC client would); each sends the next call
 * when the previous one answers. Latency is measured per call with hrtime; calls that start
 * during the warm-up or end after the window are not counted.
 */
import { credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { analysisV1 } from '@charge/contracts';
import { withToken } from '@charge/testing';
import { childMain } from './child';
import { summarise, type LoadJob, type LoadResult } from './stats';

async function run(job: LoadJob): Promise<LoadResult> {
  const client = new analysisV1.AnalysisServiceClient(job.target, credentials.createInsecure());
  const call: (md: Metadata, done: (err: ServiceError | null) => void) => void =
    job.read === 'GetAnalysis'
      ? (md, done) => client.getAnalysis({ analysisId: job.analysisId }, md, (err) => done(err))
      : (md, done) =>
          client.listAnalyses(
            analysisV1.ListAnalysesRequest.fromPartial({ page: { pageSize: job.pageSize } }),
            md,
            (err) => done(err),
          );
  let firstError: string | undefined;
  const once = () =>
    new Promise<boolean>((resolve) =>
      call(withToken(job.token), (err) => {
        if (err) firstError ??= `${err.code} ${err.details}`;
        resolve(err === null);
      }),
    );

  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stopped = false;
  const caller = async () => {
    while (!stopped) {
      const counted = measuring;
      const t0 = process.hrtime.bigint();
      const ok = await once();
      if (!counted || stopped) continue;
      if (ok) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else errors++;
    }
  };
  const callers = Array.from({ length: job.clients }, caller);
  await new Promise((r) => setTimeout(r, job.warmup * 1000));
  measuring = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, job.seconds * 1000));
  stopped = true;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all(callers);
  client.close();
  return { ...summarise(latencies, errors, seconds), firstError };
}

childMain(run);
