/**
 * End to end through the gateway only: auth, audit, analysis (API + worker), training
 * (API + runner) and the gateway as separate processes (their real main.ts, configuration
 * from the environment, free ports), a fresh database and a test-owned NATS. Two setup
 * steps use gRPC because the contracts give them no REST binding (client-streaming
 * uploads: UploadLog, UploadDataset); everything else is REST or gRPC-web via the gateway.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { analysisV1, authV1, trainingV1 } from '@charge/contracts';
import { writeSampleSession } from '@charge/gbt27930';
import { E2ePlatform } from './platform';

/** Three well-separated classes in 6 dimensions (deterministic). */
function separableJsonl(n: number): string {
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const labels = ['charger_side', 'bms_side', 'cable'];
  return Array.from({ length: n }, (_, i) => {
    const c = i % 3;
    return JSON.stringify({
      features: Array.from({ length: 6 }, (_, j) => rand() + (j === c ? 4 : 0)),
      label: labels[c],
    });
  }).join('\n');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
type Body = Record<string, any>;

describe('e2e: the platform through the gateway', () => {
  const platform = new E2ePlatform();
  const rest = async (method: string, route: string, token?: string, body?: unknown) => {
    const res = await fetch(`${platform.gatewayUrl}${route}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const json = (r: { text: string }) => JSON.parse(r.text) as Body;
  const account = async (email: string) => {
    await rest('POST', '/v1/auth/register', undefined, { email, password: 'correct horse battery' });
    return json(await rest('POST', '/v1/auth/login', undefined, { email, password: 'correct horse battery' }))
      .accessToken as string;
  };

  beforeAll(async () => {
    await platform.start(['auth', 'audit', 'analysis', 'training'], {
      ANALYSIS_BLOB_DIR: path.join(platform.scratch, 'blobs'),
      ANALYSIS_WORKERS: '1',
      TRAINING_DATA_DIR: path.join(platform.scratch, 'training'),
    });
  }, 180_000);

  afterAll(async () => {
    const codes = await platform.stop();
    expect(codes).toEqual({ auth: 0, audit: 0, analysis: 0, training: 0, gateway: 0 });
  }, 60_000);

  test('register, log in, read the profile; the admin finds both actions in the audit trail', async () => {
    const registered = await rest('POST', '/v1/auth/register', undefined, {
      email: 'e2e-user@example.com',
      password: 'correct horse battery',
      username: 'e2e-user',
    });
    expect(registered.status).toBe(200);
    const token = await account('e2e-user@example.com');
    const me = await rest('GET', '/v1/auth/me', token);
    expect(me.status).toBe(200);
    expect(json(me).user).toMatchObject({ email: 'e2e-user@example.com', role: 'ROLE_USER' });

    const admin = json(await rest('POST', '/v1/auth/login', undefined, platform.admin)).accessToken as string;
    const userId = String(json(registered).user.id);
    const wanted = ['created', 'logged_in'];
    let actions: string[] = [];
    for (let i = 0; i < 150 && !wanted.every((a) => actions.includes(a)); i++) {
      const logs = await rest('GET', `/v1/audit/logs?resource_id=${userId}&service=auth`, admin);
      expect(logs.status).toBe(200);
      actions = ((json(logs).logs as Body[] | undefined) ?? []).map((l) => l.action as string);
      if (!wanted.every((a) => actions.includes(a))) await new Promise((r) => setTimeout(r, 100));
    }
    expect(actions).toEqual(expect.arrayContaining(wanted));
  });

  test('refusals: no token → 401, not an admin → 403, oversize → 413, malformed JSON → 400 naming the field', async () => {
    expect((await rest('GET', '/v1/auth/me')).status).toBe(401);
    const user = await account('refused@example.com');
    expect((await rest('GET', '/v1/audit/logs', user)).status).toBe(403);
    const big = await rest('POST', '/v1/auth/login', undefined, {
      email: 'x@example.com',
      password: 'p'.repeat(100_000),
    });
    expect(big.status).toBe(413);
    const wrong = await rest('POST', '/v1/auth/login', undefined, {
      email: ['not', 'a', 'string'],
      password: 'x',
    });
    expect(wrong.status).toBe(400);
    expect(json(wrong).message).toEqual(expect.stringContaining('email'));
    const malformed = await rest('POST', '/v1/auth/login', undefined, '{"email": "x@example.com",');
    expect(malformed.status).toBe(400);
    expect(json(malformed).code).toBe(3);
  });

  test('gRPC-web: GetMe with a bearer token', async () => {
    const token = await account('e2e-user@example.com');
    const message = authV1.GetMeRequest.encode({}).finish();
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    Buffer.from(message).copy(frame, 5);
    const res = await fetch(`${platform.gatewayUrl}/charge.auth.v1.AuthService/GetMe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/grpc-web-text',
        'x-grpc-web': '1',
        authorization: `Bearer ${token}`,
      },
      body: frame.toString('base64'),
    });
    expect(res.status).toBe(200);
    const chunks = (await res.text()).match(/[A-Za-z0-9+/]+={0,2}/g) ?? [];
    const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c, 'base64')));
    const length = bytes.readUInt32BE(1);
    expect(bytes[0]).toBe(0);
    expect(authV1.GetMeResponse.decode(bytes.subarray(5, 5 + length)).user?.email).toBe(
      'e2e-user@example.com',
    );
    expect(bytes.subarray(5 + length + 5).toString()).toContain('grpc-status: 0');
  });

  test('upload, read, start, follow NDJSON progress to COMPLETED, fetch the report; other users get 404', async () => {
    const alice = await account('alice-e2e@example.com');
    const bob = await account('bob-e2e@example.com');
    const file = path.join(platform.scratch, 'session.blf');
    await writeSampleSession(file, { frames: 20_000, fault: 'bcl-timeout', seed: 7 });
    const bytes = readFileSync(file);

    const client = new analysisV1.AnalysisServiceClient(
      `127.0.0.1:${platform.grpcPorts.analysis}`,
      credentials.createInsecure(),
    );
    const md = new Metadata();
    md.set('authorization', `Bearer ${alice}`);
    const uploaded = await new Promise<analysisV1.UploadLogResponse>((resolve, reject) => {
      const call = client.uploadLog(md, (err: ServiceError | null, res?: analysisV1.UploadLogResponse) =>
        err ? reject(err) : resolve(res!),
      );
      call.write({
        metadata: {
          name: 'e2e session',
          description: '',
          fileName: 'session.blf',
          declaredSize: String(bytes.length),
        },
      });
      for (let off = 0; off < bytes.length; off += 256 * 1024)
        call.write({ chunk: bytes.subarray(off, off + 256 * 1024) });
      call.end();
    });
    client.close();
    const id = uploaded.analysis!.id;

    const read = await rest('GET', `/v1/analyses/${id}`, alice);
    expect(read.status).toBe(200);
    expect(json(read).analysis).toMatchObject({ id, name: 'e2e session', status: 'ANALYSIS_STATUS_PENDING' });
    expect((await rest('GET', `/v1/analyses/${id}`, bob)).status).toBe(404);
    expect((await rest('GET', `/v1/analyses/${id}`)).status).toBe(401);
    const listed = json(await rest('GET', '/v1/analyses?page.page_size=10', alice));
    expect(listed.analyses.map((a: { id: number }) => a.id)).toContain(id);
    expect(json(await rest('GET', '/v1/analyses?page.page_size=10', bob)).analyses ?? []).toEqual([]);

    expect((await rest('POST', `/v1/analyses/${id}:start`, bob, {})).status).toBe(404);
    const started = await rest('POST', `/v1/analyses/${id}:start`, alice, {});
    expect(started.status).toBe(200);

    const watched = await rest('GET', `/v1/analyses/${id}:watch`, alice);
    expect(watched.status).toBe(200);
    expect(watched.type).toBe('application/x-ndjson');
    const events = watched.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status?: string; progress?: number; error?: unknown });
    expect(events.some((e) => e.error)).toBe(false);
    const progress = events.map((e) => e.progress ?? 0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(events[events.length - 1].status).toBe('ANALYSIS_STATUS_COMPLETED');

    const report = await rest('GET', `/v1/analyses/${id}/report`, alice);
    expect(report.status).toBe(200);
    expect(json(report).analysis).toMatchObject({ id, status: 'ANALYSIS_STATUS_COMPLETED' });
    expect(JSON.parse(json(report).reportJson as string)).toEqual(expect.any(Object));
    expect((await rest('GET', `/v1/analyses/${id}/report`, bob)).status).toBe(404);
  });

  test('create, run, watch to COMPLETED, publish, set default; the audit trail has every action', async () => {
    await rest('POST', '/v1/auth/register', undefined, {
      email: 'trainer@example.com',
      password: 'correct horse battery',
    });
    const token = json(
      await rest('POST', '/v1/auth/login', undefined, {
        email: 'trainer@example.com',
        password: 'correct horse battery',
      }),
    ).accessToken as string;

    const client = new trainingV1.TrainingServiceClient(
      `127.0.0.1:${platform.grpcPorts.training}`,
      credentials.createInsecure(),
    );
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    const dataset = await new Promise<trainingV1.UploadDatasetResponse>((resolve, reject) => {
      const call = client.uploadDataset(
        md,
        (err: ServiceError | null, res?: trainingV1.UploadDatasetResponse) =>
          err ? reject(err) : resolve(res!),
      );
      call.write({
        header: trainingV1.DatasetUploadHeader.fromPartial({
          name: 'e2e flow control',
          datasetType: trainingV1.DatasetType.DATASET_TYPE_FLOW_CONTROL,
        }),
      });
      call.write({ chunk: Buffer.from(separableJsonl(300)) });
      call.end();
    });
    client.close();

    const created = await rest('POST', '/v1/training/tasks', token, {
      name: 'e2e-fc',
      datasetId: dataset.dataset!.id,
      modelType: 'MODEL_TYPE_FLOW_CONTROL',
      hyperparameters: { numTrainEpochs: 6, perDeviceTrainBatchSize: 16, loggingSteps: 3, learningRate: 0.1 },
    });
    expect(created.status).toBe(200);
    const task = json(created).task as Body;
    expect(task.status).toBe('TASK_STATUS_PENDING');
    const started = await rest('POST', `/v1/training/tasks/${task.id}:start`, token, {});
    expect(started.status).toBe(200);
    expect(json(started).task.status).toBe('TASK_STATUS_QUEUED');
    expect((await rest('POST', `/v1/training/tasks/${task.id}:start`, token, {})).status).toBe(400);

    const watched = await rest('GET', `/v1/training/tasks/${task.id}:watch`, token);
    expect(watched.status).toBe(200);
    expect(watched.type).toBe('application/x-ndjson');
    const events = watched.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Body);
    expect(events.some((e) => e.error)).toBe(false);
    expect(events.filter((e) => e.metric).length).toBeGreaterThan(0);
    expect(events.filter((e) => e.task).at(-1)!.task.status).toBe('TASK_STATUS_COMPLETED');

    const published = await rest('POST', '/v1/training/models', token, {
      taskId: task.id,
      name: 'flow-control',
      version: 'e2e-1',
    });
    expect(published.status).toBe(200);
    const model = json(published).modelVersion as Body;
    expect((await rest('POST', `/v1/training/models/${model.id}:setDefault`, token, {})).status).toBe(200);
    const def = await rest('GET', '/v1/training/models:default?model_type=MODEL_TYPE_FLOW_CONTROL', token);
    expect(def.status).toBe(200);
    expect(json(def).modelVersion).toMatchObject({ id: model.id, isDefault: true });

    const admin = json(await rest('POST', '/v1/auth/login', undefined, platform.admin)).accessToken as string;
    let actions: string[] = [];
    const wanted = ['created', 'published'];
    for (let i = 0; i < 150 && !wanted.every((a) => actions.includes(a)); i++) {
      const logs = await rest('GET', '/v1/audit/logs?service=training&page.page_size=200', admin);
      expect(logs.status).toBe(200);
      actions = ((json(logs).logs as Body[] | undefined) ?? []).map((l) => l.action as string);
      if (!wanted.every((a) => actions.includes(a))) await new Promise((r) => setTimeout(r, 100));
    }
    expect(actions).toEqual(expect.arrayContaining(wanted));
  });
});
