import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { createMemorySink, writeSyntheticBlf } from '@charge/can-log';
import { analysisV1 } from '@charge/contracts';
import { connectNats } from '@charge/events';
import { type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  freePort,
  startTestService,
  TestNatsServer,
  TestTokenIssuer,
  unary,
  withClient,
  withToken,
  type TestDatabase,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig, type AnalysisConfig } from '../src/config';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';

const S = analysisV1.AnalysisStatus;
const ROOT = path.resolve(__dirname, '../../..');

async function eventually<T>(
  probe: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined as T);
    if ((value !== undefined && done(value)) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A worker process killed (SIGKILL) in the middle of a job: its message was never acked, so
 * JetStream redelivers it after the ack wait and another worker restarts the job cleanly.
 */
describe('analysis worker recovery', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let issuer: TestTokenIssuer;
  let blobDir: string;
  let child: ChildProcess | undefined;
  let survivor: RunningService<AnalysisConfig> | undefined;
  let env: Record<string, string>;

  const rows = (sql: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(sql, params).then((r) => r.rows));

  beforeAll(async () => {
    db = await createTestDatabase('analysisrecovery');
    nats = await TestNatsServer.start();
    issuer = await TestTokenIssuer.start();
    blobDir = mkdtempSync(path.join(tmpdir(), 'ct-analysis-recovery-'));
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    env = {
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      AUTH_GRPC_ADDR: issuer.address,
      ANALYSIS_BLOB_DIR: blobDir,
      ANALYSIS_WORKERS: '1',
      ANALYSIS_JOB_ACK_WAIT_MS: '2000',
      // The job must still be running when the worker is killed, however fast the engine is.
      ANALYSIS_MAX_FRAMES_PER_S: '10000',
    };
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await survivor?.stop();
    await issuer?.stop();
    await nats?.dispose();
    await db?.drop();
    if (blobDir) rmSync(blobDir, { recursive: true, force: true });
  });

  test('a killed worker’s job is redelivered and completes once, with no duplicate rows', async () => {
    const token = issuer.issue({ userId: 5 });
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'services/analysis/src/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env, GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port), LOG_LEVEL: 'error' },
      stdio: 'ignore',
    });
    const doomed = clientFor(analysisV1.AnalysisServiceClient, { address: `127.0.0.1:${port}` });
    const listed = await eventually(
      () =>
        unary<analysisV1.ListAnalysesRequest, analysisV1.ListAnalysesResponse>(
          doomed.listAnalyses.bind(doomed),
          analysisV1.ListAnalysesRequest.fromPartial({}),
          withToken(token),
        ),
      () => true,
      45_000,
    );
    expect(listed?.analyses).toEqual([]);

    const sink = createMemorySink();
    await writeSyntheticBlf(sink, { frames: 30_000, channels: 1 });
    const bytes = sink.bytes();
    const uploaded = await new Promise<analysisV1.UploadLogResponse>((resolve, reject) => {
      const call = doomed.uploadLog(
        withToken(token),
        (err: ServiceError | null, res?: analysisV1.UploadLogResponse) => (err ? reject(err) : resolve(res!)),
      );
      call.write({
        metadata: { name: 'doomed', description: '', fileName: 's.blf', declaredSize: String(bytes.length) },
      });
      for (let off = 0; off < bytes.length; off += 1024 * 1024)
        call.write({ chunk: Buffer.from(bytes.subarray(off, off + 1024 * 1024)) });
      call.end();
    });
    const id = uploaded.analysis!.id;
    await unary<analysisV1.StartAnalysisRequest, analysisV1.StartAnalysisResponse>(
      doomed.startAnalysis.bind(doomed),
      { analysisId: id, useLlm: false, dbcId: 0 },
      withToken(token),
    );
    const running = await eventually(
      () => rows('select status, progress, started_at from analysis.charging_analyses where id = $1', [id]),
      (r) => r[0]?.status === 'processing' && r[0].progress >= 0.05,
    );
    expect(running[0].status).toBe('processing');
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    doomed.close();
    // Stuck in processing until someone else picks the job up.
    expect((await rows('select status from analysis.charging_analyses where id = $1', [id]))[0].status).toBe(
      'processing',
    );

    survivor = await startTestService({ name: 'analysis', loadConfig, build }, { env });
    const client = clientFor(analysisV1.AnalysisServiceClient, survivor);
    const events = await new Promise<analysisV1.WatchAnalysisResponse[]>((resolve, reject) => {
      const got: analysisV1.WatchAnalysisResponse[] = [];
      const stream = client.watchAnalysis({ analysisId: id }, withToken(token));
      stream.on('data', (e: analysisV1.WatchAnalysisResponse) => got.push(e));
      stream.on('error', reject);
      stream.on('end', () => resolve(got));
    });
    client.close();
    expect(events[events.length - 1].status).toBe(S.ANALYSIS_STATUS_COMPLETED);
    const progress = events.map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    const [done] = await rows(
      `select status, progress, started_at, completed_at, jsonb_array_length(result_data->'sessions') as sessions,
              (select count(*)::int from analysis.analysis_results r where r.analysis_id = a.id) as results,
              (select count(*)::int from jsonb_path_query(result_data, '$.sessions[*].findings[*]')) as findings
         from analysis.charging_analyses a where id = $1`,
      [id],
    );
    expect(done).toMatchObject({ status: 'completed', progress: 1 });
    expect(done.started_at).toEqual(running[0].started_at);
    expect(done.results).toBe(done.findings + 1);

    const nc = await connectNats(nats.url, 'analysis-recovery-test');
    try {
      const info = await (await jetstreamManager(nc)).consumers.info('ANALYSIS_JOBS', 'analysis-workers');
      expect([info.num_ack_pending, info.num_pending]).toEqual([0, 0]);
    } finally {
      await nc.close();
    }
  }, 120_000);
});
