/**
 * LLM refinement with knowledge evidence: a real auth service (the workers' service account
 * logs in to it), small real gRPC servers for knowledge (ListCollections, Retrieve) and
 * training (GetDefaultModel), and the scripted OpenAI-compatible LLM, whose endpoint comes
 * from the default flow_control model version (no LLM_BASE_URL configured).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { analysisV1, authV1, knowledgeV1, trainingV1 } from '@charge/contracts';
import { createLogger, type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  startTestService,
  TestNatsServer,
  unary,
  withToken,
  type TestDatabase,
  migrateSchemas,
} from '@charge/testing';
import * as authApp from '../../auth/src/app';
import * as authConfig from '../../auth/src/config';
import * as authSchema from '../../auth/src/persistence/schema';
import { build } from '../src/app';
import { loadConfig, type AnalysisConfig } from '../src/config';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';
import { KnowledgeSource } from '../src/use-cases/knowledge-source';

const LOG_001 = path.resolve(__dirname, '../../../../shared/data/gbt/orange-gi_charge_Log_001.blf');
const S = analysisV1.AnalysisStatus;
const ADMIN = { email: 'root@example.com', password: 'root-password-123' };

/** OpenAI-compatible chat completions answering one scripted verdict per request. */
async function startLlm(answer: () => string) {
  const requests: { model: string; messages: { role: string; content: string }[] }[] = [];
  const server: HttpServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      requests.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-test',
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: answer() }, finish_reason: 'stop' }],
        }),
      );
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return {
    requests,
    url: `http://127.0.0.1:${port}/v1`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Mode = 'up' | 'hang' | 'error';

/** knowledge's Retrieve/ListCollections and training's GetDefaultModel on one real gRPC server. */
async function startPeers(llmUrl: string) {
  const state = { mode: 'up' as Mode, queries: [] as string[], authorization: [] as string[] };
  const server = new Server();
  const unimplemented = (_call: unknown, cb: (e: { code: number; details: string }) => void) =>
    cb({ code: status.UNIMPLEMENTED, details: 'not in this test' });
  const knowledge: Record<string, unknown> = {};
  for (const key of Object.keys(knowledgeV1.KnowledgeServiceService)) knowledge[key] = unimplemented;
  const gate = (
    call: { metadata: { get(k: string): unknown[] } },
    cb: (e: { code: number; details: string } | null) => void,
  ): boolean => {
    state.authorization.push(String(call.metadata.get('authorization')[0] ?? ''));
    if (state.mode === 'hang') return false; // never answers: the caller's deadline ends it
    if (state.mode === 'error') {
      cb({ code: status.UNAVAILABLE, details: 'knowledge is down' });
      return false;
    }
    return true;
  };
  knowledge.listCollections = (
    call: { metadata: { get(k: string): unknown[] } },
    cb: (e: unknown, r?: knowledgeV1.ListCollectionsResponse) => void,
  ) => {
    if (!gate(call, cb)) return;
    cb(
      null,
      knowledgeV1.ListCollectionsResponse.fromPartial({
        collections: [{ id: 7, name: 'manuals', documentCount: 1 }],
      }),
    );
  };
  knowledge.retrieve = (
    call: { request: knowledgeV1.RetrieveRequest; metadata: { get(k: string): unknown[] } },
    cb: (e: unknown, r?: knowledgeV1.RetrieveResponse) => void,
  ) => {
    if (!gate(call, cb)) return;
    state.queries.push(call.request.query);
    expect(call.request.collectionIds).toEqual([7]);
    cb(
      null,
      knowledgeV1.RetrieveResponse.fromPartial({
        queryTimeMs: 1,
        passages: [
          {
            content: 'CST 停止原因 1.3: 充电机人工中止 (manual stop at the charger).',
            score: 0.91,
            citation: { collectionId: 7, documentId: 3, filename: 'GBT27930-2015.pdf', chunkId: 'doc3-c12' },
            vectorScore: 0.9,
            keywordScore: 0.8,
          },
        ],
      }),
    );
  };
  const training: Record<string, unknown> = {};
  for (const key of Object.keys(trainingV1.TrainingServiceService)) training[key] = unimplemented;
  training.getDefaultModel = (
    call: { request: trainingV1.GetDefaultModelRequest; metadata: { get(k: string): unknown[] } },
    cb: (e: unknown, r?: trainingV1.GetDefaultModelResponse) => void,
  ) => {
    expect(call.request.modelType).toBe(trainingV1.ModelType.MODEL_TYPE_FLOW_CONTROL);
    state.authorization.push(String(call.metadata.get('authorization')[0] ?? ''));
    cb(
      null,
      trainingV1.GetDefaultModelResponse.fromPartial({
        modelVersion: {
          id: 4,
          name: 'flow-lm',
          version: 'v2',
          config: JSON.stringify({ endpoint: llmUrl }),
          isDefault: true,
        },
      }),
    );
  };
  server.addService(knowledgeV1.KnowledgeServiceService, knowledge as never);
  server.addService(trainingV1.TrainingServiceService, training as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { state, address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

const verdict = (evidence: string[]) =>
  JSON.stringify({
    summary: 'The charger was stopped manually (CST 1.3).',
    isGbt2015Charger: true,
    responsibility: 'charger',
    stageBreakdown: [{ stage: 'ending', issue: 'manual stop at the charger', evidence }],
    rootCauses: ['operator stop'],
    recommendations: ['Check the charger stop button'],
    confidence: 0.9,
    neededEvidence: [],
  });

describe('analysis LLM refinement with knowledge evidence', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let auth: RunningService;
  let llm: Awaited<ReturnType<typeof startLlm>>;
  let peers: Awaited<ReturnType<typeof startPeers>>;
  let service: RunningService<AnalysisConfig>;
  let client: analysisV1.AnalysisServiceClient;
  let blobDir: string;
  let keyDir: string;
  let token: string;
  let nextVerdict = verdict(['F1', 'P1']);
  const log001 = readFileSync(LOG_001);

  beforeAll(async () => {
    db = await createTestDatabase('analysisrag');
    nats = await TestNatsServer.start();
    llm = await startLlm(() => nextVerdict);
    peers = await startPeers(llm.url);
    blobDir = mkdtempSync(path.join(tmpdir(), 'ct-analysis-rag-'));
    keyDir = mkdtempSync(path.join(tmpdir(), 'ct-analysis-rag-key-'));
    await migrateSchemas(db.url, { SCHEMA, entities, migrations }, authSchema);
    auth = await startTestService(
      { name: 'auth', loadConfig: authConfig.loadConfig, build: authApp.build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_SIGNING_KEY_FILE: path.join(keyDir, 'signing.pem'),
          AUTH_DEV_GENERATE_KEY: '1',
          ADMIN_EMAIL: ADMIN.email,
          ADMIN_PASSWORD: ADMIN.password,
        },
      },
    );
    service = await startTestService(
      { name: 'analysis', loadConfig, build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_GRPC_ADDR: auth.address,
          ANALYSIS_BLOB_DIR: blobDir,
          KNOWLEDGE_GRPC_ADDR: peers.address,
          TRAINING_GRPC_ADDR: peers.address,
          ANALYSIS_SERVICE_EMAIL: ADMIN.email,
          ANALYSIS_SERVICE_PASSWORD: ADMIN.password,
          KNOWLEDGE_TIMEOUT_MS: '1000',
          LLM_RETRIES: '0',
          LLM_TIMEOUT_MS: '5000',
        },
      },
    );
    client = clientFor(analysisV1.AnalysisServiceClient, service);
    const authClient = clientFor(authV1.AuthServiceClient, auth);
    const login = await unary<authV1.LoginRequest, authV1.LoginResponse>(
      authClient.login.bind(authClient),
      ADMIN,
    );
    authClient.close();
    token = login.accessToken;
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
    await auth?.stop();
    peers?.stop();
    await llm?.stop();
    await nats?.dispose();
    await db?.drop();
    for (const dir of [blobDir, keyDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const analyse = async () => {
    const { analysis } = await new Promise<analysisV1.UploadLogResponse>((resolve, reject) => {
      const call = client.uploadLog(
        withToken(token),
        (err: ServiceError | null, res?: analysisV1.UploadLogResponse) => (err ? reject(err) : resolve(res!)),
      );
      call.write({
        metadata: { name: 'rag', description: '', fileName: 'log.blf', declaredSize: String(log001.length) },
      });
      call.write({ chunk: log001 });
      call.end();
    });
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
      { analysisId: id, useLlm: true, dbcId: 0 },
      withToken(token),
    );
    const events = await ended;
    const res = await unary<analysisV1.GetReportRequest, analysisV1.GetReportResponse>(
      client.getReport.bind(client),
      { analysisId: id },
      withToken(token),
    );
    return { res, report: JSON.parse(res.reportJson), last: events[events.length - 1] };
  };

  test('passages from Retrieve reach the prompt with citations and are stored; the default model serves as the LLM', async () => {
    peers.state.mode = 'up';
    llm.requests.length = 0;
    nextVerdict = verdict(['F1', 'P1']);
    const { report, last } = await analyse();
    expect(last.status).toBe(S.ANALYSIS_STATUS_COMPLETED);
    // The service account's token (from the real auth service) was sent to knowledge and training.
    expect(peers.state.authorization.length).toBeGreaterThanOrEqual(3);
    expect(peers.state.authorization.every((a) => /^Bearer \S+\.\S+\.\S+$/.test(a))).toBe(true);
    expect(peers.state.queries.some((q) => q.includes('CHARGER_MANUAL_STOP'))).toBe(true);
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0].model).toBe('flow-lm');
    const prompt = llm.requests[0].messages[1].content;
    expect(prompt).toMatch(
      /P1: \[GBT27930-2015\.pdf, document 3, chunk doc3-c12, score 0\.910\] CST 停止原因 1\.3: 充电机人工中止/,
    );
    expect(report.llm).toMatchObject({
      status: 'completed',
      model: 'flow-lm',
      defaultModel: { name: 'flow-lm', version: 'v2', endpoint: llm.url },
      passages: [
        {
          id: 'P1',
          documentId: 3,
          chunkId: 'doc3-c12',
          filename: 'GBT27930-2015.pdf',
          score: 0.91,
          collectionId: 7,
        },
      ],
    });
    expect(report.llm.knowledge).toMatch(/knowledge consulted: 1 passages/);
    expect(report.llm.verdict.stageBreakdown[0].evidence).toEqual(['F1', 'P1']);
  });

  test.each<Mode>(['hang', 'error'])(
    'knowledge %s: the job still completes, without passages, and the report notes it',
    async (mode) => {
      peers.state.mode = mode;
      llm.requests.length = 0;
      nextVerdict = verdict(['F1']);
      const started = Date.now();
      const { report, last } = await analyse();
      expect(last.status).toBe(S.ANALYSIS_STATUS_COMPLETED);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(llm.requests).toHaveLength(1);
      expect(llm.requests[0].messages[1].content).not.toMatch(/P1:/);
      expect(report.llm.status).toBe('completed');
      expect(report.llm.passages).toEqual([]);
      expect(report.llm.knowledge).toMatch(
        mode === 'hang' ? /knowledge not consulted: Retrieve failed \(.*[Dd]eadline/ : /knowledge is down/,
      );
    },
  );

  test('without a service account, knowledge and training are not consulted and that is noted', async () => {
    const source = new KnowledgeSource({
      knowledgeAddr: peers.address,
      trainingAddr: peers.address,
      authAddr: auth.address,
      collectionIds: [],
      timeoutMs: 1000,
      topK: 5,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    const before = peers.state.authorization.length;
    const consulted = await source.consult({ sessions: [] } as never, 'r1');
    source.close();
    expect(consulted.passages).toEqual([]);
    expect(consulted.notes).toContain('knowledge not consulted: no service credentials');
    expect(peers.state.authorization.length).toBe(before);
  });
});
