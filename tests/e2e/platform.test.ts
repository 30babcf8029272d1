/**
 * End to end through the gateway only: auth, audit, analysis (API + worker), knowledge
 * (API + ingest, ChromaDB started the README's way), training (API + runner) and the
 * gateway as separate processes (their real main.ts, configuration from the environment,
 * free ports), a fresh database and a test-owned NATS. Every call is REST (uploads stream
 * the file as the request body) or gRPC-web via the gateway.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { analysisV1, authV1 } from '@charge/contracts';
import { writeSampleSession } from '@charge/gbt27930';
import { dataFrame, unaryReply } from './grpc-web';
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
  /** A raw-body upload (HttpBody), as curl --data-binary would send it. */
  const upload = async (
    route: string,
    token: string,
    bytes: Uint8Array,
    type = 'application/octet-stream',
  ) => {
    const res = await fetch(`${platform.gatewayUrl}${route}`, {
      method: 'POST',
      headers: { 'content-type': type, authorization: `Bearer ${token}` },
      body: bytes,
    });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  /** An NDJSON stream read to its end, one parsed object per line. */
  const ndjson = (r: { text: string }) =>
    r.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Body);
  const account = async (email: string) => {
    await rest('POST', '/v1/auth/register', undefined, { email, password: 'correct horse battery' });
    return json(await rest('POST', '/v1/auth/login', undefined, { email, password: 'correct horse battery' }))
      .accessToken as string;
  };

  beforeAll(async () => {
    await platform.start(['auth', 'audit', 'analysis', 'knowledge', 'training'], {
      ANALYSIS_BLOB_DIR: path.join(platform.scratch, 'blobs'),
      ANALYSIS_WORKERS: '1',
      TRAINING_DATA_DIR: path.join(platform.scratch, 'training'),
      MAX_UPLOAD_BYTES: String(4 * 1024 * 1024),
    });
  }, 180_000);

  afterAll(async () => {
    const codes = await platform.stop();
    expect(codes).toEqual({ auth: 0, audit: 0, analysis: 0, knowledge: 0, training: 0, gateway: 0 });
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
    const oversize = await upload(
      '/v1/analyses:upload?name=big&file_name=big.blf',
      user,
      new Uint8Array(5 << 20),
    );
    expect(oversize.status).toBe(413);
    expect(json(oversize)).toMatchObject({ code: 8 });
    expect(json(await rest('GET', '/v1/analyses?page.page_size=10', user)).analyses ?? []).toEqual([]);
  });

  test('gRPC-web: GetMe with a bearer token', async () => {
    const token = await account('e2e-user@example.com');
    const frame = dataFrame(authV1.GetMeRequest.encode({}).finish());
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
    const reply = unaryReply(Buffer.concat(chunks.map((c) => Buffer.from(c, 'base64'))));
    expect(reply.flag).toBe(0);
    expect(authV1.GetMeResponse.decode(reply.message).user?.email).toBe('e2e-user@example.com');
    expect(reply.trailers).toMatch(/^grpc-status: ?0\r\n/m);
  });

  test('upload, read, start, follow NDJSON progress to COMPLETED, fetch the report; other users get 404', async () => {
    const alice = await account('alice-e2e@example.com');
    const bob = await account('bob-e2e@example.com');
    const file = path.join(platform.scratch, 'session.blf');
    await writeSampleSession(file, { frames: 20_000, fault: 'bcl-timeout', seed: 7 });
    const bytes = readFileSync(file);

    const uploaded = await upload(
      `/v1/analyses:upload?name=${encodeURIComponent('e2e session')}&file_name=session.blf`,
      alice,
      bytes,
    );
    expect(uploaded.status).toBe(200);
    expect(json(uploaded).analysis).toMatchObject({
      name: 'e2e session',
      fileName: 'session.blf',
      fileType: 'LOG_FILE_TYPE_BLF',
    });
    const id = json(uploaded).analysis.id as number;

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

    // The original log back over REST: the response body is the file (HttpBody stream).
    const download = await fetch(`${platform.gatewayUrl}/v1/analyses/${id}/log`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await rest('GET', `/v1/analyses/${id}/log`, bob)).status).toBe(404);

    const series = await rest(
      'GET',
      `/v1/analyses/${id}/series?names=soc&names=voltageOutputV&max_points=50`,
      alice,
    );
    expect(series.status).toBe(200);
    const charts = json(series).series as Body[];
    expect(charts.map((c) => c.name)).toEqual(['soc', 'voltageOutputV']);
    for (const chart of charts) {
      expect(chart.points.length).toBeGreaterThan(1);
      expect(chart.points.length).toBeLessThanOrEqual(50);
    }
    const times = (charts[0].points as Body[]).map((p) => p.t ?? 0);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((await rest('GET', `/v1/analyses/${id}/series?names=nonsense`, alice)).status).toBe(400);

    // The same list over gRPC-web (binary framing), as a browser client would call it.
    const frame = dataFrame(
      analysisV1.ListAnalysesRequest.encode(
        analysisV1.ListAnalysesRequest.fromPartial({ page: { pageSize: 10 } }),
      ).finish(),
    );
    const web = await fetch(`${platform.gatewayUrl}/charge.analysis.v1.AnalysisService/ListAnalyses`, {
      method: 'POST',
      headers: {
        'content-type': 'application/grpc-web+proto',
        'x-grpc-web': '1',
        authorization: `Bearer ${alice}`,
      },
      body: frame,
    });
    expect(web.status).toBe(200);
    expect(web.headers.get('content-type')).toBe('application/grpc-web+proto');
    const reply = unaryReply(Buffer.from(await web.arrayBuffer()));
    expect(reply.flag).toBe(0);
    expect(analysisV1.ListAnalysesResponse.decode(reply.message).analyses.map((a) => a.id)).toEqual([id]);
    expect(reply.trailerFlag).toBe(0x80);
    expect(reply.trailers).toMatch(/^grpc-status: ?0\r\n/m);

    const admin = json(await rest('POST', '/v1/auth/login', undefined, platform.admin)).accessToken as string;
    let actions: string[] = [];
    for (let i = 0; i < 150 && !['uploaded', 'started'].every((a) => actions.includes(a)); i++) {
      const logs = await rest('GET', `/v1/audit/logs?service=analysis&resource_id=${id}`, admin);
      expect(logs.status).toBe(200);
      actions = ((json(logs).logs as Body[] | undefined) ?? []).map((l) => l.action as string);
      if (!['uploaded', 'started'].every((a) => actions.includes(a)))
        await new Promise((r) => setTimeout(r, 100));
    }
    expect(actions).toEqual(expect.arrayContaining(['uploaded', 'started']));
  });

  test('knowledge: create a collection, upload a CSV over REST, watch the ingest, query it; audited', async () => {
    const token = await account('librarian@example.com');
    const other = await account('outsider@example.com');
    const created = await rest('POST', '/v1/knowledge/collections', token, {
      name: 'e2e fault codes',
      collectionType: 'COLLECTION_TYPE_TABLE',
    });
    expect(created.status).toBe(200);
    const collection = json(created).collection as Body;
    expect(collection).toMatchObject({ name: 'e2e fault codes', collectionType: 'COLLECTION_TYPE_TABLE' });

    const csv = [
      '停充码,故障名称,原因,处理建议',
      '1001.0,BMS通信超时,BCL报文超时未收到,检查CAN线束与终端电阻',
      '1002,绝缘故障,直流回路绝缘电阻低于阈值,检查直流回路绝缘与接地',
      '1003,电池过温,单体温度超过允许最高温度,降低充电电流并检查电池冷却系统',
    ].join('\n');
    const uploaded = await upload(
      `/v1/knowledge/collections/${collection.id}/documents:upload?filename=codes.csv`,
      token,
      Buffer.from(csv),
      'text/csv',
    );
    expect(uploaded.status).toBe(200);
    const document = json(uploaded).document as Body;
    expect(document).toMatchObject({ filename: 'codes.csv', fileType: 'csv' });
    expect(
      (
        await upload(
          `/v1/knowledge/collections/${collection.id}/documents:upload?filename=x.csv`,
          other,
          Buffer.from(csv),
        )
      ).status,
    ).toBe(404);

    const watched = await rest('GET', `/v1/knowledge/documents/${document.id}:watch`, token);
    expect(watched.status).toBe(200);
    expect(watched.type).toBe('application/x-ndjson');
    expect(ndjson(watched).some((e) => e.error)).toBe(false);
    const done = json(await rest('GET', `/v1/knowledge/documents/${document.id}`, token)).document as Body;
    expect(done).toMatchObject({ uploadStatus: 'UPLOAD_STATUS_COMPLETED', chunkCount: 3 });

    const exact = await rest('POST', `/v1/knowledge/collections/${collection.id}:query`, token, {
      query: '1001',
    });
    expect(exact.status).toBe(200);
    const top = (json(exact).passages as Body[])[0];
    expect(top.primaryTag).toBe('停充码=1001');
    expect(top.citation).toMatchObject({ documentId: document.id, filename: 'codes.csv', row: 2 });
    const paraphrase = await rest('POST', `/v1/knowledge/collections/${collection.id}:query`, token, {
      query: '绝缘电阻太低怎么处理',
    });
    expect((json(paraphrase).passages as Body[])[0].primaryTag).toBe('停充码=1002');
    const history = json(await rest('GET', `/v1/knowledge/collections/${collection.id}/queries`, token));
    expect((history.queries as Body[]).map((q) => q.queryText).sort()).toEqual([
      '1001',
      '绝缘电阻太低怎么处理',
    ]);
    expect(
      (await rest('POST', `/v1/knowledge/collections/${collection.id}:query`, other, { query: '1001' }))
        .status,
    ).toBe(404);

    const admin = json(await rest('POST', '/v1/auth/login', undefined, platform.admin)).accessToken as string;
    const wanted = ['collection:created', 'document:created'];
    let seen: string[] = [];
    for (let i = 0; i < 150 && !wanted.every((a) => seen.includes(a)); i++) {
      const logs = await rest('GET', '/v1/audit/logs?service=knowledge&page.page_size=200', admin);
      expect(logs.status).toBe(200);
      seen = ((json(logs).logs as Body[] | undefined) ?? []).map((l) => `${l.resourceType}:${l.action}`);
      if (!wanted.every((a) => seen.includes(a))) await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toEqual(expect.arrayContaining(wanted));
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

    const uploadedDataset = await upload(
      '/v1/training/datasets:upload?name=e2e%20flow%20control&dataset_type=DATASET_TYPE_FLOW_CONTROL&file_name=fc.jsonl',
      token,
      Buffer.from(separableJsonl(300)),
      'application/x-ndjson',
    );
    expect(uploadedDataset.status).toBe(200);
    const dataset = json(uploadedDataset) as { dataset: { id: number; sampleCount: number } };
    expect(dataset.dataset.sampleCount).toBe(300);

    const created = await rest('POST', '/v1/training/tasks', token, {
      name: 'e2e-fc',
      datasetId: dataset.dataset.id,
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
