import { createHash, randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { createBlfWriter, createMemorySink, writeSyntheticBlf } from '@charge/can-log';
import { analysisV1, type googleApi } from '@charge/contracts';
import { connectNats } from '@charge/events';
import { type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  startTestService,
  statusOf,
  TestNatsServer,
  TestTokenIssuer,
  unary,
  withClient,
  withToken,
  type TestDatabase,
  eventually,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig, type AnalysisConfig } from '../src/config';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';

const DATA = path.resolve(__dirname, '../../../../shared/data/gbt');
const LOG_001 = path.join(DATA, 'orange-gi_charge_Log_001.blf');
const EXPECTED_001 = JSON.parse(readFileSync(path.join(DATA, 'EXPECTED_LOG_001.json'), 'utf8'));
const MAX_LOG_BYTES = 2_000_000;
const { AnalysisStatus: S } = analysisV1;

describe('analysis service', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let issuer: TestTokenIssuer;
  let service: RunningService<AnalysisConfig>;
  let client: analysisV1.AnalysisServiceClient;
  let blobDir: string;
  let alice: string;
  let bob: string;
  let admin: string;
  let log001: Buffer;

  const rows = (sql: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(sql, params).then((r) => r.rows));
  const blobFiles = () => [
    ...readdirSync(path.join(blobDir, 'logs')).map((f) => `logs/${f}`),
    ...readdirSync(path.join(blobDir, 'tmp')).map((f) => `tmp/${f}`),
  ];

  /** Streams metadata then `bytes` in chunks; resolves with the response or rejects with the status. */
  const upload = (
    token: string,
    bytes: Uint8Array,
    meta: Partial<analysisV1.UploadLogMetadata> = {},
    chunkSize = 64 * 1024,
  ) =>
    new Promise<analysisV1.UploadLogResponse>((resolve, reject) => {
      const call = client.uploadLog(
        withToken(token),
        (err: ServiceError | null, res?: analysisV1.UploadLogResponse) => (err ? reject(err) : resolve(res!)),
      );
      call.on('error', () => undefined);
      call.write({
        metadata: {
          name: 'log',
          description: '',
          fileName: 'log.blf',
          declaredSize: String(bytes.length),
          ...meta,
        },
      });
      for (let off = 0; off < bytes.length; off += chunkSize) {
        call.write({ chunk: Buffer.from(bytes.subarray(off, off + chunkSize)) });
      }
      call.end();
    });

  const A = analysisV1;
  const get = (id: number, token = alice) =>
    unary<analysisV1.GetAnalysisRequest, analysisV1.GetAnalysisResponse>(
      client.getAnalysis.bind(client),
      { analysisId: id },
      withToken(token),
    ).then((r) => r.analysis!);
  const start = (id: number, token = alice, dbcId = 0) =>
    unary<analysisV1.StartAnalysisRequest, analysisV1.StartAnalysisResponse>(
      client.startAnalysis.bind(client),
      { analysisId: id, useLlm: false, dbcId },
      withToken(token),
    ).then((r) => r.analysis!);
  const cancel = (id: number, token = alice) =>
    unary<analysisV1.CancelAnalysisRequest, analysisV1.CancelAnalysisResponse>(
      client.cancelAnalysis.bind(client),
      { analysisId: id },
      withToken(token),
    ).then((r) => r.analysis!);
  const report = (id: number, token = alice) =>
    unary<analysisV1.GetReportRequest, analysisV1.GetReportResponse>(
      client.getReport.bind(client),
      { analysisId: id },
      withToken(token),
    );
  const remove = (id: number, token = alice) =>
    unary<analysisV1.DeleteAnalysisRequest, analysisV1.DeleteAnalysisResponse>(
      client.deleteAnalysis.bind(client),
      { analysisId: id },
      withToken(token),
    );
  const list = (req: Partial<analysisV1.ListAnalysesRequest>, token = alice) =>
    unary<analysisV1.ListAnalysesRequest, analysisV1.ListAnalysesResponse>(
      client.listAnalyses.bind(client),
      A.ListAnalysesRequest.fromPartial(req),
      withToken(token),
    );

  /** Collects WatchAnalysis events until the stream ends. */
  const watch = (id: number, token = alice) =>
    new Promise<analysisV1.WatchAnalysisResponse[]>((resolve, reject) => {
      const events: analysisV1.WatchAnalysisResponse[] = [];
      const stream = client.watchAnalysis({ analysisId: id }, withToken(token));
      stream.on('data', (e: analysisV1.WatchAnalysisResponse) => events.push(e));
      stream.on('error', reject);
      stream.on('end', () => resolve(events));
    });

  const reasonOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      const e = error as ServiceError;
      return { code: e.code, reason: String(e.metadata?.get('error-reason')[0] ?? '') };
    }
    throw new Error('expected the call to fail');
  };

  beforeAll(async () => {
    db = await createTestDatabase('analysis');
    nats = await TestNatsServer.start();
    issuer = await TestTokenIssuer.start();
    blobDir = mkdtempSync(path.join(tmpdir(), 'ct-analysis-blobs-'));
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    service = await startTestService(
      { name: 'analysis', loadConfig, build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_GRPC_ADDR: issuer.address,
          ANALYSIS_BLOB_DIR: blobDir,
          MAX_LOG_BYTES: String(MAX_LOG_BYTES),
          ANALYSIS_WORKERS: '2',
          // Jobs last long enough to be cancelled however fast the engine gets (100k frames ≥ 2.5 s).
          ANALYSIS_MAX_FRAMES_PER_S: '40000',
        },
      },
    );
    client = clientFor(analysisV1.AnalysisServiceClient, service);
    nc = await connectNats(nats.url, 'analysis-test');
    alice = issuer.issue({ userId: 11 });
    bob = issuer.issue({ userId: 12 });
    admin = issuer.issue({ userId: 1, role: 'admin' });
    log001 = readFileSync(LOG_001);
  });

  afterAll(async () => {
    client?.close();
    await nc?.close();
    await service?.stop();
    await issuer?.stop();
    await nats?.dispose();
    await db?.drop();
    if (blobDir) rmSync(blobDir, { recursive: true, force: true });
  });

  test('bad uploads are rejected with clear codes and leave no row and no file', async () => {
    expect(await reasonOf(upload(alice, randomBytes(50_000)))).toEqual({
      code: status.INVALID_ARGUMENT,
      reason: 'UNSUPPORTED_LOG_FORMAT',
    });
    expect(await reasonOf(upload(alice, log001.subarray(0, 100_000)))).toEqual({
      code: status.INVALID_ARGUMENT,
      reason: 'LOG_TRUNCATED',
    });
    expect(await reasonOf(upload(alice, log001.subarray(0, 100)))).toEqual({
      code: status.INVALID_ARGUMENT,
      reason: 'LOG_TRUNCATED',
    });
    // Declared above the limit: refused before any byte is stored.
    expect(
      await reasonOf(upload(alice, log001.subarray(0, 10), { declaredSize: String(MAX_LOG_BYTES + 1) })),
    ).toEqual({ code: status.RESOURCE_EXHAUSTED, reason: 'LOG_TOO_LARGE' });
    // Declared within the limit but more is streamed: refused while streaming.
    const tooMuch = Buffer.concat([log001, log001, log001, log001, log001, log001, log001]);
    expect(await reasonOf(upload(alice, tooMuch, { declaredSize: String(MAX_LOG_BYTES) }))).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      reason: 'LOG_TOO_LARGE',
    });
    // Fewer bytes than declared, chunk too large, metadata missing or blank.
    expect(await reasonOf(upload(alice, log001, { declaredSize: String(log001.length + 1) }))).toEqual({
      code: status.INVALID_ARGUMENT,
      reason: 'UPLOAD_INCOMPLETE',
    });
    const big = Buffer.concat([log001, log001, log001, log001]);
    expect(await statusOf(upload(alice, big, {}, 1024 * 1024 + 1))).toBe(status.INVALID_ARGUMENT);
    expect(await statusOf(upload(alice, log001, { name: '   ' }))).toBe(status.INVALID_ARGUMENT);
    expect(
      await statusOf(
        new Promise((resolve, reject) => {
          const c = client.uploadLog(withToken(alice), (err: ServiceError | null, res?: unknown) =>
            err ? reject(err) : resolve(res),
          );
          c.write({ chunk: log001.subarray(0, 1000) });
          c.end();
        }),
      ),
    ).toBe(status.INVALID_ARGUMENT);
    expect(await statusOf(upload('', log001))).toBe(status.UNAUTHENTICATED);

    // A client that gives up mid-upload.
    await new Promise<void>((resolve) => {
      const c = client.uploadLog(withToken(alice), () => resolve());
      c.on('error', () => undefined);
      c.write({
        metadata: { name: 'x', description: '', fileName: 'a.blf', declaredSize: String(log001.length) },
      });
      c.write({ chunk: log001.subarray(0, 65536) });
      setTimeout(() => c.cancel(), 200);
    });

    const leftovers = await eventually(
      async () => ({ rows: await rows('select id from analysis.charging_analyses'), files: blobFiles() }),
      (v) => v.rows.length === 0 && v.files.length === 0,
      5000,
    );
    expect(leftovers).toEqual({ rows: [], files: [] });
  });

  test('UploadLogFile (the REST binding): fields in the first message, HttpBody chunks, size optional', async () => {
    const uploadFile = (
      bytes: Uint8Array,
      first: Partial<analysisV1.UploadLogFileRequest>,
      chunkSize = 64 * 1024,
    ) =>
      new Promise<analysisV1.UploadLogFileResponse>((resolve, reject) => {
        const call = client.uploadLogFile(
          withToken(alice),
          (err: ServiceError | null, res?: analysisV1.UploadLogFileResponse) =>
            err ? reject(err) : resolve(res!),
        );
        call.on('error', () => undefined);
        for (let off = 0; off < bytes.length; off += chunkSize) {
          const file = {
            contentType: 'application/octet-stream',
            data: Buffer.from(bytes.subarray(off, off + chunkSize)),
            extensions: [],
          };
          call.write(analysisV1.UploadLogFileRequest.fromPartial(off === 0 ? { ...first, file } : { file }));
        }
        call.end();
      });
    const created = await uploadFile(log001, { name: 'rest upload', fileName: 'Log_001.blf' });
    expect(created.analysis).toMatchObject({
      name: 'rest upload',
      fileName: 'Log_001.blf',
      fileSize: String(log001.length),
      fileType: analysisV1.LogFileType.LOG_FILE_TYPE_BLF,
      status: analysisV1.AnalysisStatus.ANALYSIS_STATUS_PENDING,
    });
    const stored = await rows('select file_size, file_sha256 from analysis.charging_analyses where id = $1', [
      created.analysis!.id,
    ]);
    expect(stored).toEqual([
      { file_size: String(log001.length), file_sha256: createHash('sha256').update(log001).digest('hex') },
    ]);
    // A declared size is still checked; MAX_LOG_BYTES applies without one.
    expect(
      await reasonOf(uploadFile(log001, { name: 'x', declaredSize: String(log001.length + 1) })),
    ).toEqual({ code: status.INVALID_ARGUMENT, reason: 'UPLOAD_INCOMPLETE' });
    const tooMuch = Buffer.concat([log001, log001, log001, log001, log001, log001, log001]);
    expect(await reasonOf(uploadFile(tooMuch, { name: 'x' }))).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      reason: 'LOG_TOO_LARGE',
    });
    expect(await statusOf(uploadFile(log001, { name: '' }))).toBe(status.INVALID_ARGUMENT);

    // DownloadLog streams the stored bytes back in chunks of at most 256 KiB, owner only.
    const download = (id: number, token: string) =>
      new Promise<googleApi.HttpBody[]>((resolve, reject) => {
        const parts: googleApi.HttpBody[] = [];
        const stream = client.downloadLog({ analysisId: id }, withToken(token));
        stream.on('data', (p: googleApi.HttpBody) => parts.push(p));
        stream.on('error', reject);
        stream.on('end', () => resolve(parts));
      });
    const parts = await download(created.analysis!.id, alice);
    expect(Buffer.concat(parts.map((p) => p.data)).equals(log001)).toBe(true);
    expect(Math.max(...parts.map((p) => p.data.length))).toBeLessThanOrEqual(256 * 1024);
    expect(parts.length).toBe(Math.ceil(log001.length / (256 * 1024)));
    expect(new Set(parts.map((p) => p.contentType))).toEqual(new Set(['application/octet-stream']));
    expect(await statusOf(download(created.analysis!.id, bob))).toBe(status.NOT_FOUND);
    expect((await download(created.analysis!.id, admin)).length).toBe(parts.length);
    await remove(created.analysis!.id);
    expect(await rows('select id from analysis.charging_analyses')).toEqual([]);
  });

  test('full pipeline on a real GB/T log: upload, start, watch, report matching EXPECTED_LOG_001', async () => {
    const { analysis } = await upload(alice, log001, {
      name: 'Log 001',
      description: 'orange-gi',
      fileName: '../../etc/passwd.txt',
    });
    expect(analysis).toMatchObject({
      name: 'Log 001',
      fileName: '../../etc/passwd.txt',
      fileSize: String(log001.length),
      fileSha256: createHash('sha256').update(log001).digest('hex'),
      fileType: analysisV1.LogFileType.LOG_FILE_TYPE_BLF,
      status: S.ANALYSIS_STATUS_PENDING,
      userId: 11,
    });
    // Stored under a server-made key, never under the client's file name.
    const [stored] = await rows('select file_path from analysis.charging_analyses where id = $1', [
      analysis!.id,
    ]);
    expect(stored.file_path).toMatch(/^logs\/[0-9a-f-]{36}$/);
    expect(readFileSync(path.join(blobDir, stored.file_path)).equals(log001)).toBe(true);

    const watching = watch(analysis!.id);
    const started = await start(analysis!.id);
    expect(started.stage).toBe(analysisV1.AnalysisStage.ANALYSIS_STAGE_QUEUED);
    expect(await reasonOf(start(analysis!.id))).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: 'ALREADY_STARTED',
    });
    const events = await watching;
    const progress = events.map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(events[events.length - 1]).toMatchObject({ status: S.ANALYSIS_STATUS_COMPLETED, progress: 1 });

    const done = await get(analysis!.id);
    expect(done.status).toBe(S.ANALYSIS_STATUS_COMPLETED);
    expect(done.startedAt).toBeInstanceOf(Date);
    expect(done.completedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());

    const res = await report(analysis!.id);
    const r = JSON.parse(res.reportJson);
    const expected = EXPECTED_001.sessions[0];
    expect(r.file).toMatchObject({ format: 'blf', canFrames: EXPECTED_001.blf.canFrames, channels: [1] });
    expect(r.sessions).toHaveLength(1);
    expect(r.sessions[0]).toMatchObject({
      edition: expected.edition,
      lastPhase: expected.lastPhase,
      stopInitiator: expected.stopInitiator,
      vehicle: expected.vehicle,
      stats: expected.stats,
    });
    const codes = r.sessions[0].findings.map((f: { code: string }) => f.code);
    expect(codes).toEqual(expect.arrayContaining(expected.codesPresent));

    // One summary row, then one row per finding, in report order.
    expect(res.results.map((x) => x.resultType)).toEqual(['summary', ...codes.map(() => 'finding')]);
    expect(res.results.slice(1).map((x) => JSON.parse(x.metaInfoJson).code)).toEqual(codes);
    const dbRows = await rows(
      `select result_type, meta_info from analysis.analysis_results where analysis_id = $1 order by id`,
      [analysis!.id],
    );
    expect(dbRows).toHaveLength(codes.length + 1);
    expect(dbRows[1].meta_info.evidence.length).toBeGreaterThan(0);
    const [jsonb] = await rows(
      `select jsonb_typeof(result_data) as t, result_data->'file'->>'canFrames' as frames from analysis.charging_analyses where id = $1`,
      [analysis!.id],
    );
    expect(jsonb).toEqual({ t: 'object', frames: String(EXPECTED_001.blf.canFrames) });

    // Chart series: window and point budget applied, peaks kept.
    const series = (req: Partial<analysisV1.GetSeriesRequest>, token = alice) =>
      unary<analysisV1.GetSeriesRequest, analysisV1.GetSeriesResponse>(
        client.getSeries.bind(client),
        analysisV1.GetSeriesRequest.fromPartial({ analysisId: analysis!.id, ...req }),
        withToken(token),
      );
    const charted = await series({ names: ['currentOutputA', 'voltageOutputV'], maxPoints: 100 });
    expect(charted.sessionCount).toBe(1);
    expect(charted.sessionStartTime).toBe(r.sessions[0].startTime);
    expect(charted.series.map((x) => x.name)).toEqual(['currentOutputA', 'voltageOutputV']);
    for (const x of charted.series) {
      expect(x.points.length).toBeGreaterThan(10);
      expect(x.points.length).toBeLessThanOrEqual(100);
    }
    expect(Math.max(...charted.series[0].points.map((p) => p.value))).toBe(expected.stats.maxOutputCurrentA);
    expect(Math.max(...charted.series[1].points.map((p) => p.value))).toBe(expected.stats.maxOutputVoltageV);
    const windowed = await series({ names: ['soc'], fromSeconds: 100, toSeconds: 200 });
    expect(windowed.series[0].points.length).toBeGreaterThan(0);
    expect(windowed.series[0].points.every((p) => p.t >= 100 && p.t <= 200)).toBe(true);
    expect((await series({})).series).toHaveLength(10);
    expect(await reasonOf(series({ names: ['nope'] }))).toEqual({
      code: status.INVALID_ARGUMENT,
      reason: '',
    });
    expect(await statusOf(series({ sessionIndex: 1 }))).toBe(status.INVALID_ARGUMENT);
    expect(await statusOf(series({}, bob))).toBe(status.NOT_FOUND);

    // A redelivered job (worker died after its commit but before the ack would be dropped;
    // here the analysis is forced back to processing so the job really reruns) replaces the
    // result rows instead of adding to them.
    const [job] = await rows('select job_id from analysis.charging_analyses where id = $1', [analysis!.id]);
    await rows(`update analysis.charging_analyses set status = 'processing' where id = $1`, [analysis!.id]);
    await jetstream(nc).publish(
      'jobs.analysis',
      analysisV1.AnalysisJob.encode({ analysisId: analysis!.id, jobId: job.job_id, useLlm: false }).finish(),
    );
    await eventually(
      () => get(analysis!.id),
      (a) => a.status === S.ANALYSIS_STATUS_COMPLETED,
    );
    expect(
      await rows('select count(*)::int as n from analysis.analysis_results where analysis_id = $1', [
        analysis!.id,
      ]),
    ).toEqual([{ n: codes.length + 1 }]);
    expect((await get(analysis!.id)).progress).toBe(1);

    // Audit events for upload and start reached the AUDIT stream through the outbox.
    const jsm = await jetstreamManager(nc);
    const subjects = await eventually(
      async () => {
        const info = await jsm.streams.info('AUDIT', { subjects_filter: 'audit.analysis.>' });
        return Object.keys(info.state.subjects ?? {});
      },
      (s) => s.includes('audit.analysis.analysis.started'),
      10_000,
    );
    expect(subjects).toEqual(
      expect.arrayContaining(['audit.analysis.analysis.uploaded', 'audit.analysis.analysis.started']),
    );
  });

  test('cancel stops a running job within a second and stores cancelled; progress never decreases', async () => {
    const sink = createMemorySink();
    await writeSyntheticBlf(sink, { frames: 100_000, channels: 1 });
    const bytes = sink.bytes();
    expect(bytes.length).toBeLessThan(MAX_LOG_BYTES);
    const { analysis } = await upload(alice, bytes, { name: 'synthetic' });
    const watching = watch(analysis!.id);
    await start(analysis!.id);
    await eventually(
      () => get(analysis!.id),
      (a) => a.status === S.ANALYSIS_STATUS_PROCESSING && a.progress >= 0.05,
    );
    const cancelled = await cancel(analysis!.id);
    expect(cancelled.status).toBe(S.ANALYSIS_STATUS_CANCELLED);
    const events = await watching;
    expect(events[events.length - 1].status).toBe(S.ANALYSIS_STATUS_CANCELLED);
    const progress = events.map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // The worker let go of the job: its message is acknowledged, nothing is left in flight,
    // and the analysis stays cancelled.
    const jsm = await jetstreamManager(nc);
    const consumer = await eventually(
      () => jsm.consumers.info('ANALYSIS_JOBS', 'analysis-workers'),
      (c) => c.num_ack_pending === 0 && c.num_pending === 0,
      10_000,
    );
    expect([consumer.num_ack_pending, consumer.num_pending]).toEqual([0, 0]);
    const after = await get(analysis!.id);
    expect(after.status).toBe(S.ANALYSIS_STATUS_CANCELLED);
    expect(after.progress).toBe(cancelled.progress);
    expect(
      await rows('select id from analysis.analysis_results where analysis_id = $1', [analysis!.id]),
    ).toEqual([]);
    expect(await reasonOf(cancel(analysis!.id))).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: 'ALREADY_TERMINAL',
    });
    expect(await reasonOf(report(analysis!.id))).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: 'REPORT_NOT_READY',
    });
  });

  test('a log the engine refuses ends failed with the reason, and keeps no report', async () => {
    // A valid header, then an object claiming 1 GiB: fatal for the reader (OBJECT_TOO_LARGE).
    const hs = log001.readUInt32LE(4);
    const bad = Buffer.alloc(log001.length);
    log001.copy(bad, 0, 0, hs);
    bad.write('LOBJ', hs, 'latin1');
    bad.writeUInt16LE(16, hs + 4);
    bad.writeUInt16LE(1, hs + 6);
    bad.writeUInt32LE(0x40000000, hs + 8);
    bad.writeUInt32LE(10, hs + 12);
    const { analysis } = await upload(alice, bad, { name: 'broken' });
    const watching = watch(analysis!.id);
    await start(analysis!.id);
    const events = await watching;
    expect(events[events.length - 1]).toMatchObject({ status: S.ANALYSIS_STATUS_FAILED });
    const failed = await get(analysis!.id);
    expect(failed.status).toBe(S.ANALYSIS_STATUS_FAILED);
    expect(failed.errorMessage).toMatch(/^OBJECT_TOO_LARGE: /);
    expect(failed.completedAt).toBeInstanceOf(Date);
    expect(await reasonOf(report(analysis!.id))).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: 'REPORT_NOT_READY',
    });
    await remove(analysis!.id);
  });

  test('a zip bomb (a container inflating to 64 MiB from a few KiB) fails cleanly with INFLATE_LIMIT', async () => {
    const header = Buffer.alloc(144);
    header.write('LOGG', 0, 'latin1');
    header.writeUInt32LE(144, 4);
    const inflated = 64 * 1024 * 1024;
    const payload = deflateSync(Buffer.alloc(inflated), { level: 9 });
    const fields = Buffer.alloc(16);
    fields.writeUInt16LE(2, 0); // zlib
    fields.writeUInt32LE(inflated, 8);
    const obj = Buffer.alloc(16);
    obj.write('LOBJ', 0, 'latin1');
    obj.writeUInt16LE(16, 4);
    obj.writeUInt16LE(1, 6);
    obj.writeUInt32LE(32 + payload.length, 8);
    obj.writeUInt32LE(10, 12); // LOG_CONTAINER
    const bomb = Buffer.concat([header, obj, fields, payload]);
    expect(bomb.length).toBeLessThan(200_000);
    const { analysis } = await upload(alice, bomb, { name: 'bomb' });
    const watching = watch(analysis!.id);
    await start(analysis!.id);
    const events = await watching;
    expect(events[events.length - 1].status).toBe(S.ANALYSIS_STATUS_FAILED);
    expect((await get(analysis!.id)).errorMessage).toMatch(/^INFLATE_LIMIT: /);
    await remove(analysis!.id);
    expect(blobFiles().filter((f) => f.startsWith('tmp/'))).toEqual([]);
  });

  test('DBC files: upload (parsed first), list per user, decode signals into the report', async () => {
    const dbcText = readFileSync(path.resolve(DATA, '../dbc/gbt27930_2015.dbc'));
    const uploadDbc = (req: Partial<analysisV1.UploadDbcRequest>, token = alice) =>
      unary<analysisV1.UploadDbcRequest, analysisV1.UploadDbcResponse>(
        client.uploadDbc.bind(client),
        analysisV1.UploadDbcRequest.fromPartial({ name: 'GB/T', fileName: 'gbt.dbc', ...req }),
        withToken(token),
      );
    const listDbcs = (token = alice) =>
      unary<analysisV1.ListDbcsRequest, analysisV1.ListDbcsResponse>(
        client.listDbcs.bind(client),
        analysisV1.ListDbcsRequest.fromPartial({}),
        withToken(token),
      );
    const { dbc } = await uploadDbc({ content: dbcText });
    expect(dbc).toMatchObject({
      name: 'GB/T',
      fileSize: String(dbcText.length),
      fileSha256: createHash('sha256').update(dbcText).digest('hex'),
      userId: 11,
    });
    expect(dbc!.messageCount).toBeGreaterThan(10);
    expect(dbc!.signalCount).toBeGreaterThan(dbc!.messageCount);
    expect(await reasonOf(uploadDbc({ content: Buffer.from('BO_ nonsense here\n SG_ ???') }))).toEqual({
      code: status.INVALID_ARGUMENT,
      reason: 'DBC_INVALID',
    });
    expect(await statusOf(uploadDbc({ content: Buffer.alloc(0) }))).toBe(status.INVALID_ARGUMENT);
    expect((await listDbcs()).dbcs.map((d) => d.id)).toEqual([dbc!.id]);
    expect((await listDbcs(bob)).dbcs).toEqual([]);

    // Signals of a DBC are decoded from the frames that are not GB/T traffic: a log with a
    // proprietary 11-bit frame 0x123 and a DBC describing it.
    const probeDbc = Buffer.from(
      [
        'VERSION ""',
        'BU_: A',
        'BO_ 291 Probe: 8 A',
        ' SG_ Counter : 0|8@1+ (1,0) [0|255] "" A',
        ' SG_ Temp : 8|8@1+ (1,-40) [0|215] "degC" A',
        '',
      ].join('\n'),
    );
    const { dbc: probe } = await uploadDbc({ name: 'probe', content: probeDbc });
    expect([probe!.messageCount, probe!.signalCount]).toEqual([1, 2]);
    const sink = createMemorySink();
    const writer = await createBlfWriter(sink);
    for (let i = 0; i < 200; i++)
      await writer.writeFrame({ timestamp: i * 0.1, id: 0x123, data: [i, 60 + (i % 10), 0, 0, 0, 0, 0, 0] });
    await writer.close();
    const probeLog = sink.bytes();

    const { analysis } = await upload(alice, probeLog, { name: 'with dbc' });
    const { analysis: bobs } = await upload(bob, probeLog, { name: 'bob with alice dbc' });
    expect(await statusOf(start(bobs!.id, bob, probe!.id))).toBe(status.NOT_FOUND);
    expect(await statusOf(start(analysis!.id, alice, 999_999))).toBe(status.NOT_FOUND);
    const watching = watch(analysis!.id);
    expect((await start(analysis!.id, alice, probe!.id)).dbcId).toBe(probe!.id);
    const events = await watching;
    expect(events[events.length - 1].status).toBe(S.ANALYSIS_STATUS_COMPLETED);
    const r = JSON.parse((await report(analysis!.id)).reportJson);
    const bySignal = Object.fromEntries(
      r.signals.map((x: { signal: string; unit: string; points: [number, number][] }) => [x.signal, x]),
    );
    expect(Object.keys(bySignal).sort()).toEqual(['Counter', 'Temp']);
    expect(bySignal.Temp.unit).toBe('degC');
    expect(Math.max(...bySignal.Counter.points.map((p: [number, number]) => p[1]))).toBe(199);
    expect(Math.max(...bySignal.Temp.points.map((p: [number, number]) => p[1]))).toBe(29);
    await remove(analysis!.id);
    await remove(bobs!.id, bob);
  });

  test('GetTrace pages the uploaded log with id/time filters and GB/T labels', async () => {
    const { analysis } = await upload(alice, log001, { name: 'trace' });
    const trace = (req: Partial<analysisV1.GetTraceRequest>, token = alice) =>
      unary<analysisV1.GetTraceRequest, analysisV1.GetTraceResponse>(
        client.getTrace.bind(client),
        analysisV1.GetTraceRequest.fromPartial({ analysisId: analysis!.id, ...req }),
        withToken(token),
      );
    const p1 = await trace({ pageSize: 1000, decode: true });
    expect(p1.frames).toHaveLength(1000);
    expect(p1.frames.map((f) => Number(f.index))).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(p1.nextPageToken).not.toBe('');
    expect(p1.frames.every((f) => f.extended && f.channel === 1)).toBe(true);
    expect(p1.frames.some((f) => ['CHM', 'BHM', 'CRM'].includes(f.message))).toBe(true);
    const p2 = await trace({ pageSize: 1000, decode: true, pageToken: p1.nextPageToken });
    expect(Number(p2.frames[0].index)).toBe(1000);

    const window = await trace({ fromSeconds: 100, toSeconds: 110, pageSize: 5000 });
    expect(window.frames.length).toBeGreaterThan(0);
    expect(window.frames.every((f) => f.timestamp >= 100 && f.timestamp <= 110)).toBe(true);
    const id = window.frames[0].canId;
    const filtered = await trace({ canIds: [id], fromSeconds: 100, toSeconds: 110, pageSize: 5000 });
    expect(filtered.frames.map((f) => f.index)).toEqual(
      window.frames.filter((f) => f.canId === id).map((f) => f.index),
    );
    expect(filtered.nextPageToken).toBe('');
    expect(filtered.frames.every((f) => f.canId === id && f.timestamp >= 100 && f.timestamp <= 110)).toBe(
      true,
    );

    expect(await statusOf(trace({ pageToken: p1.nextPageToken }))).toBe(status.INVALID_ARGUMENT);
    expect(await statusOf(trace({}, bob))).toBe(status.NOT_FOUND);
    await remove(analysis!.id);
  });

  test('ownership: other users get NOT_FOUND, admins see everything, lists are per user', async () => {
    const { analysis } = await upload(alice, log001, { name: 'mine' });
    const id = analysis!.id;
    for (const attempt of [
      get(id, bob),
      start(id, bob),
      cancel(id, bob),
      report(id, bob),
      remove(id, bob),
      watch(id, bob),
    ]) {
      expect(await statusOf(attempt)).toBe(status.NOT_FOUND);
    }
    expect(await statusOf(get(999_999))).toBe(status.NOT_FOUND);
    expect((await get(id, admin)).userId).toBe(11);
    const bobs = await list({}, bob);
    expect(bobs.analyses).toEqual([]);
    const alices = await list({ status: S.ANALYSIS_STATUS_PENDING }, alice);
    expect(alices.analyses.map((a) => a.id)).toEqual([id]);
    const all = await list({}, admin);
    expect(all.analyses.length).toBeGreaterThanOrEqual(3);
    const ids = all.analyses.map((a) => a.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    // Paging newest first, 1 per page.
    const p1 = await list({ page: { pageSize: 1, pageToken: '' } }, admin);
    const p2 = await list({ page: { pageSize: 1, pageToken: p1.page!.nextPageToken } }, admin);
    expect([p1.analyses[0].id, p2.analyses[0].id]).toEqual(ids.slice(0, 2));
    expect(await statusOf(list({ page: { pageSize: 1, pageToken: 'garbage' } }))).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  test('delete removes the row, its results and its file; users.deleted removes all of a user', async () => {
    const { analysis } = await upload(bob, log001, { name: 'to delete' });
    const [{ file_path: file }] = await rows(
      'select file_path from analysis.charging_analyses where id = $1',
      [analysis!.id],
    );
    await remove(analysis!.id, bob);
    expect(await statusOf(get(analysis!.id, bob))).toBe(status.NOT_FOUND);
    expect(blobFiles()).not.toContain(file);

    const aliceIds = (await rows('select id from analysis.charging_analyses where user_id = 11')).map(
      (r) => r.id,
    );
    expect(aliceIds.length).toBeGreaterThan(0);
    const { analysis: kept } = await upload(bob, log001, { name: 'kept' });
    nc.publish('users.deleted', JSON.stringify({ user_id: 11, deleted_at: new Date().toISOString() }));
    // Rows go first, files right after: wait for both.
    const left = await eventually(
      async () => ({
        rows: await rows('select id, user_id from analysis.charging_analyses order by id'),
        files: blobFiles().length,
      }),
      (v) => v.rows.every((x) => x.user_id !== 11) && v.files === 1,
      10_000,
    );
    expect(left).toEqual({ rows: [{ id: kept!.id, user_id: 12 }], files: 1 });
    expect(
      await rows('select count(*)::int as n from analysis.analysis_results where analysis_id = any($1)', [
        aliceIds,
      ]),
    ).toEqual([{ n: 0 }]);
  });
});
