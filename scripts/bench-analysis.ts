/**
 * `npm run bench:analysis`: writes a ~100 MB BLF (@charge/gbt27930's `writeSampleSession`,
 * fault `none`; the frame count is derived from the bytes per frame of a small sample), then
 * times
 *   1. the CLI: `charge-analysis analyze FILE --json` in a child process, and
 *   2. the service: UploadLog (1 MiB chunks) + StartAnalysis + WatchAnalysis until the job is
 *      terminal, against the analysis service started in-process on a fresh test database
 *      (local Postgres), a test-owned nats-server and a TestTokenIssuer token,
 * and prints both times and their ratio against the 1.5× target. Not part of CI.
 *
 *   npm run bench:analysis [-- --mb 100] [--frames N] [--keep]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { analysisV1 } from '@charge/contracts';
import { writeSampleSession } from '@charge/gbt27930';
import {
  clientFor,
  createTestDatabase,
  startTestService,
  TestNatsServer,
  TestTokenIssuer,
  unary,
  withToken,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../services/analysis/src/app';
import { loadConfig } from '../services/analysis/src/config';
import { entities, migrations, SCHEMA } from '../services/analysis/src/persistence/schema';

const TARGET_RATIO = 1.5;
const CHUNK = 1024 * 1024;
const ROOT = path.resolve(__dirname, '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function framesFor(targetBytes: number, dir: string): Promise<number> {
  const probe = path.join(dir, 'probe.blf');
  const n = 200_000;
  await writeSampleSession(probe, { frames: n, fault: 'none' });
  const perFrame = fs.statSync(probe).size / n;
  fs.rmSync(probe);
  console.log(`bytes per frame: ${perFrame.toFixed(2)}`);
  return Math.round(targetBytes / perFrame);
}

function timeCli(file: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/.bin/charge-analysis'), 'analyze', file, '--json'],
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`charge-analysis exited ${r.status ?? r.signal}`);
  return seconds;
}

async function timeService(file: string): Promise<{ seconds: number; upload: number; status: string }> {
  const db = await createTestDatabase('benchanalysis');
  const nats = await TestNatsServer.start();
  const issuer = await TestTokenIssuer.start();
  const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-analysis-blobs-'));
  await migrateSchemas(db.url, { SCHEMA, entities, migrations });
  const service = await startTestService(
    { name: 'analysis', loadConfig, build },
    {
      env: {
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        AUTH_GRPC_ADDR: issuer.address,
        ANALYSIS_BLOB_DIR: blobDir,
        ANALYSIS_WORKERS: '1',
        ANALYSIS_JOB_ACK_WAIT_MS: '120000',
      },
    },
  );
  const client = clientFor(analysisV1.AnalysisServiceClient, service);
  const token = issuer.issue({ userId: 1 });
  const size = fs.statSync(file).size;
  try {
    const t0 = process.hrtime.bigint();
    const { analysis } = await new Promise<analysisV1.UploadLogResponse>((resolve, reject) => {
      const call = client.uploadLog(
        withToken(token),
        (err: ServiceError | null, res?: analysisV1.UploadLogResponse) => (err ? reject(err) : resolve(res!)),
      );
      call.write({
        metadata: { name: 'bench', description: '', fileName: 'bench.blf', declaredSize: String(size) },
      });
      (async () => {
        for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK })) {
          if (!call.write({ chunk })) await new Promise((r) => call.once('drain', r));
        }
        call.end();
      })().catch(reject);
    });
    const upload = Number(process.hrtime.bigint() - t0) / 1e9;
    const id = analysis!.id;
    const ended = new Promise<analysisV1.WatchAnalysisResponse[]>((resolve, reject) => {
      const got: analysisV1.WatchAnalysisResponse[] = [];
      const stream = client.watchAnalysis({ analysisId: id }, withToken(token));
      stream.on('data', (e: analysisV1.WatchAnalysisResponse) => got.push(e));
      stream.on('error', reject);
      stream.on('end', () => resolve(got));
    });
    await unary<analysisV1.StartAnalysisRequest, analysisV1.StartAnalysisResponse>(
      client.startAnalysis.bind(client),
      { analysisId: id, useLlm: false, dbcId: 0 },
      withToken(token),
    );
    const events = await ended;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const last = events[events.length - 1];
    return { seconds, upload, status: analysisV1.AnalysisStatus[last?.status ?? 0] ?? String(last?.status) };
  } finally {
    client.close();
    await service.stop();
    await issuer.stop();
    await nats.dispose();
    await db.drop();
    fs.rmSync(blobDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-analysis-'));
  const file = path.join(dir, 'bench.blf');
  try {
    const mb = Number(arg('mb') ?? 100);
    const frames = Number(arg('frames') ?? (await framesFor(mb * 1e6, dir)));
    const tw = Date.now();
    await writeSampleSession(file, { frames, fault: 'none' });
    const size = fs.statSync(file).size;
    console.log(
      `wrote ${frames.toLocaleString('en')} frames, ${(size / 1e6).toFixed(1)} MB in ${((Date.now() - tw) / 1000).toFixed(1)} s: ${file}`,
    );
    const cli = timeCli(file);
    console.log(`CLI analyze --json:                          ${cli.toFixed(2)} s`);
    const svc = await timeService(file);
    console.log(
      `service upload + StartAnalysis + completion: ${svc.seconds.toFixed(2)} s ` +
        `(upload ${svc.upload.toFixed(2)} s, final status ${svc.status})`,
    );
    const ratio = svc.seconds / cli;
    console.log(
      `ratio service/CLI: ${ratio.toFixed(2)}× (target ≤ ${TARGET_RATIO}×): ${ratio <= TARGET_RATIO ? 'MET' : 'MISSED'}`,
    );
    if (!svc.status.endsWith('COMPLETED')) process.exitCode = 1;
  } finally {
    if (process.argv.includes('--keep')) console.log(`kept ${file}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
