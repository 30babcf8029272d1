/**
 * `npm run bench:gateway`: what the REST gateway costs on the analysis reads. Starts auth
 * and analysis in-process on a fresh test database (local Postgres) and a test-owned
 * nats-server, the gateway in a child process (its own event loop, as deployed), and seeds
 * ~20 completed analyses of real sample sessions for the admin (ADMIN_EMAIL/ADMIN_PASSWORD).
 * Two reads are each driven
 *   1. directly over gRPC (scripts/bench-gateway/load-grpc.ts: a closed-loop generator on one
 *      channel), and
 *   2. through the gateway's REST (scripts/bench-gateway/load-http.ts: autocannon, keep-alive
 *      HTTP/1.1),
 *      GetAnalysis    `GET /v1/analyses/{id}`
 *      ListAnalyses   `GET /v1/analyses?page.page_size=20`
 * with the same N concurrent clients (one request in flight each), warm-up and duration, the
 * load in a child process of its own. Runs go in ABBA order per read (direct, gateway,
 * gateway, direct, …) so warm-up favours neither path; req/s is over all rounds, p50/p99 the
 * mean of the rounds'. Prints both side by side per read and PASS/FAIL against the targets
 * (gateway adds ≤ 2 ms at p50, keeps ≥ 70 % of the direct throughput) — a report, not an
 * assertion: exit 0 either way, 1 when any request failed or anything else went wrong, 2 on
 * the hard timeout. Loopback only. Not part of CI.
 *
 *   npm run bench:gateway [-- --clients 16] [--seconds 5] [--warmup 1] [--rounds 2] [--analyses 20]
 */
import path from 'node:path';
import { analysisV1 } from '@charge/contracts';
import { clientFor, unary, withToken } from '@charge/testing';
import { exited, firstMessage, forkChild, killAll } from './bench-gateway/child';
import { parseOptions, type Options } from './bench-gateway/options';
import { login, seedAnalyses, type Seeded } from './bench-gateway/seed';
import { ADMIN, Cleanup, startStack, type Stack } from './bench-gateway/stack';
import { combine, rps, type LoadJob, type LoadResult, type ReadName } from './bench-gateway/stats';

const MAX_ADDED_P50_MS = 2;
const MIN_THROUGHPUT_RATIO = 0.7;
const PAGE_SIZE = 20;
const READS: readonly ReadName[] = ['GetAnalysis', 'ListAnalyses'];
type Path = 'grpc' | 'http';

function restPath(read: ReadName, id: number): string {
  return read === 'GetAnalysis' ? `/v1/analyses/${id}` : `/v1/analyses?page.page_size=${PAGE_SIZE}`;
}

/** One read once on both paths, before any load: both answer 200/OK with the same analyses. */
async function smokeCheck(stack: Stack, seeded: Seeded): Promise<void> {
  const client = clientFor(analysisV1.AnalysisServiceClient, stack.analysis);
  const md = () => withToken(seeded.token);
  try {
    const direct = await unary<analysisV1.GetAnalysisRequest, analysisV1.GetAnalysisResponse>(
      client.getAnalysis.bind(client),
      { analysisId: seeded.analysisId },
      md(),
    );
    const list = await unary<analysisV1.ListAnalysesRequest, analysisV1.ListAnalysesResponse>(
      client.listAnalyses.bind(client),
      analysisV1.ListAnalysesRequest.fromPartial({ page: { pageSize: PAGE_SIZE } }),
      md(),
    );
    const rest = async (read: ReadName) => {
      const res = await fetch(new URL(restPath(read, seeded.analysisId), stack.gatewayUrl), {
        headers: { authorization: `Bearer ${seeded.token}` },
      });
      if (res.status !== 200)
        throw new Error(`${read} through the gateway: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as { analysis?: { id: number }; analyses?: { id: number }[] };
    };
    const restGet = await rest('GetAnalysis');
    const restList = await rest('ListAnalyses');
    const directIds = list.analyses.map((a) => a.id).join(',');
    const restIds = (restList.analyses ?? []).map((a) => a.id).join(',');
    if (direct.analysis?.id !== seeded.analysisId || restGet.analysis?.id !== seeded.analysisId)
      throw new Error('GetAnalysis answered another analysis');
    if (list.analyses.length !== Math.min(PAGE_SIZE, seeded.count) || directIds !== restIds)
      throw new Error(`ListAnalyses differ: gRPC [${directIds}] vs REST [${restIds}]`);
  } finally {
    client.close();
  }
}

async function measure(kind: Path, job: LoadJob): Promise<LoadResult> {
  const file = path.join(__dirname, 'bench-gateway', kind === 'grpc' ? 'load-grpc.ts' : 'load-http.ts');
  const child = forkChild(file, job);
  const result = await firstMessage<LoadResult>(child);
  await exited(child);
  return result;
}

function report(read: ReadName, label: string, direct: LoadResult, gateway: LoadResult): boolean {
  const num = (v: number, digits: number, width: number) => v.toFixed(digits).padStart(width);
  const row = (name: string, r: LoadResult) =>
    `  ${name.padEnd(26)}${num(rps(r), 0, 9)}${num(r.p50, 2, 9)}${num(r.p99, 2, 9)}${String(r.errors).padStart(8)}`;
  console.log(`\n${read}  ${label}`);
  console.log(
    `  ${''.padEnd(26)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}`,
  );
  console.log(row('gRPC direct', direct));
  console.log(row('gateway REST (autocannon)', gateway));
  const added = gateway.p50 - direct.p50;
  const ratio = rps(gateway) / rps(direct);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  console.log(
    `  gateway adds ${added >= 0 ? '+' : ''}${added.toFixed(2)} ms at p50 (target ≤ ${MAX_ADDED_P50_MS} ms): ` +
      `${verdict(added <= MAX_ADDED_P50_MS)}; keeps ${(ratio * 100).toFixed(1)} % of direct req/s ` +
      `(target ≥ ${MIN_THROUGHPUT_RATIO * 100} %): ${verdict(ratio >= MIN_THROUGHPUT_RATIO)}`,
  );
  for (const [name, r] of [
    ['gRPC direct', direct],
    ['gateway REST', gateway],
  ] as const)
    if (r.errors > 0) console.log(`  ${name}: ${r.errors} failed requests, e.g. ${r.firstError ?? '?'}`);
  return direct.errors === 0 && gateway.errors === 0;
}

async function main(options: Options, cleanup: Cleanup): Promise<boolean> {
  const { clients, seconds, warmup, rounds } = options;
  const stack = await startStack(cleanup);
  const token = await login(stack.auth, ADMIN.email, ADMIN.password);
  const t0 = Date.now();
  const seeded = await seedAnalyses(stack.analysis, token, options.analyses);
  console.log(
    `seeded ${seeded.count} completed analyses in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
      `gateway ${stack.gatewayUrl}, analysis ${stack.analysis.address}`,
  );
  await smokeCheck(stack, seeded);

  const label = `${clients} client${clients === 1 ? '' : 's'}, ${rounds} ABBA round${rounds === 1 ? '' : 's'} of ${warmup} s warm-up + ${seconds} s per path`;
  let clean = true;
  for (const read of READS) {
    const runs: Record<Path, LoadResult[]> = { grpc: [], http: [] };
    for (let i = 0; i < rounds; i++) {
      const order: Path[] = i % 2 === 0 ? ['grpc', 'http'] : ['http', 'grpc'];
      for (const kind of order) {
        const target =
          kind === 'grpc'
            ? stack.analysis.address
            : new URL(restPath(read, seeded.analysisId), stack.gatewayUrl).href;
        runs[kind].push(
          await measure(kind, {
            target,
            read,
            token,
            clients,
            seconds,
            warmup,
            analysisId: seeded.analysisId,
            pageSize: PAGE_SIZE,
          }),
        );
      }
    }
    clean = report(read, label, combine(runs.grpc), combine(runs.http)) && clean;
  }
  return clean;
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error(`bench:gateway: ${(error as Error).message}`);
  process.exit(1);
}
const cleanup = new Cleanup();
/** Setup (migrations, seeding, gateway start) + every run with its warm-up and child start-up. */
const hardTimeoutMs =
  240_000 + READS.length * 2 * options.rounds * (options.warmup + options.seconds + 10) * 1000;

let stopping = false;
const finish = async (code: number) => {
  stopping = true;
  await cleanup.run();
  killAll();
  process.exit(code);
};
const hard = setTimeout(() => {
  console.error(`bench:gateway: hard timeout after ${Math.round(hardTimeoutMs / 1000)} s; cleaning up`);
  killAll();
  void finish(2);
}, hardTimeoutMs);
hard.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    console.error(`bench:gateway: ${signal}; cleaning up`);
    killAll();
    void finish(130);
  });

main(options, cleanup).then(
  (clean) => {
    if (!clean) console.error('bench:gateway: some requests failed (errors column): exit 1');
    return finish(clean ? 0 : 1);
  },
  (error: unknown) => {
    if (stopping) return; // interrupted: the load child was killed on purpose
    console.error(error);
    return finish(1);
  },
);
