import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { analysisV1 } from '@charge/contracts';
import { type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  startTestService,
  TestNatsServer,
  TestTokenIssuer,
  unary,
  withToken,
  type TestDatabase,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig, type AnalysisConfig } from '../src/config';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';

const LOG_001 = path.resolve(__dirname, '../../../../shared/data/gbt/orange-gi_charge_Log_001.blf');
const S = analysisV1.AnalysisStatus;

interface Scripted {
  status?: number;
  content?: string;
}

/** A small OpenAI-compatible chat-completions server answering from a script. */
class ScriptedLlm {
  readonly requests: { model: string; messages: { role: string; content: string }[] }[] = [];
  private script: Scripted[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ScriptedLlm> {
    const holder: { self?: ScriptedLlm } = {};
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
          res.writeHead(404).end();
          return;
        }
        const self = holder.self!;
        self.requests.push(JSON.parse(body));
        const next = self.script.shift() ?? { status: 500 };
        if (next.status && next.status !== 200) {
          res.writeHead(next.status).end('{}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-test',
            object: 'chat.completion',
            choices: [
              { index: 0, message: { role: 'assistant', content: next.content }, finish_reason: 'stop' },
            ],
          }),
        );
      });
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    holder.self = new ScriptedLlm(server, `http://127.0.0.1:${port}/v1`);
    return holder.self;
  }

  answer(...script: Scripted[]): void {
    this.script = script;
    this.requests.length = 0;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const verdict = (confidence: number, evidence = ['F1']) =>
  JSON.stringify({
    summary: 'The charger was stopped manually (CST 1.3); the BMS followed.',
    isGbt2015Charger: true,
    responsibility: 'charger',
    stageBreakdown: [{ stage: 'ending', issue: 'manual stop at the charger', evidence }],
    rootCauses: ['operator stop'],
    recommendations: ['Check the charger stop button', 'Review the operator log'],
    confidence,
    neededEvidence: confidence < 0.7 ? ['charger event log'] : [],
  });

describe('analysis LLM refinement', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let issuer: TestTokenIssuer;
  let llm: ScriptedLlm;
  let service: RunningService<AnalysisConfig>;
  let client: analysisV1.AnalysisServiceClient;
  let blobDir: string;
  let token: string;
  const log001 = readFileSync(LOG_001);

  beforeAll(async () => {
    db = await createTestDatabase('analysisllm');
    nats = await TestNatsServer.start();
    issuer = await TestTokenIssuer.start();
    llm = await ScriptedLlm.start();
    blobDir = mkdtempSync(path.join(tmpdir(), 'ct-analysis-llm-'));
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    service = await startTestService(
      { name: 'analysis', loadConfig, build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_GRPC_ADDR: issuer.address,
          ANALYSIS_BLOB_DIR: blobDir,
          LLM_BASE_URL: llm.url,
          LLM_MODEL: 'test-model',
          LLM_RETRIES: '1',
          LLM_TIMEOUT_MS: '5000',
        },
      },
    );
    client = clientFor(analysisV1.AnalysisServiceClient, service);
    token = issuer.issue({ userId: 21 });
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
    await llm?.stop();
    await issuer?.stop();
    await nats?.dispose();
    await db?.drop();
    if (blobDir) rmSync(blobDir, { recursive: true, force: true });
  });

  /** Uploads LOG_001, starts it and waits for the terminal event; returns the stored report. */
  const analyse = async (useLlm: boolean) => {
    const { analysis } = await new Promise<analysisV1.UploadLogResponse>((resolve, reject) => {
      const call = client.uploadLog(
        withToken(token),
        (err: ServiceError | null, res?: analysisV1.UploadLogResponse) => (err ? reject(err) : resolve(res!)),
      );
      call.write({
        metadata: { name: 'llm', description: '', fileName: 'log.blf', declaredSize: String(log001.length) },
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
      { analysisId: id, useLlm, dbcId: 0 },
      withToken(token),
    );
    const events = await ended;
    const res = await unary<analysisV1.GetReportRequest, analysisV1.GetReportResponse>(
      client.getReport.bind(client),
      { analysisId: id },
      withToken(token),
    );
    return { events, res, report: JSON.parse(res.reportJson), last: events[events.length - 1] };
  };

  test('a confident, valid answer completes with every verdict field and recommendation rows (after a retried 503)', async () => {
    llm.answer({ status: 503 }, { content: verdict(0.9) });
    const { res, report, last } = await analyse(true);
    expect(last.status).toBe(S.ANALYSIS_STATUS_COMPLETED);
    expect(res.analysis!.status).toBe(S.ANALYSIS_STATUS_COMPLETED);
    expect(llm.requests).toHaveLength(2);
    expect(llm.requests[1].model).toBe('test-model');
    expect(llm.requests[1].messages[1].content).toMatch(/F1: CHARGER_MANUAL_STOP|F\d+: CHARGER_MANUAL_STOP/);
    expect(report.llm).toMatchObject({ status: 'completed', rounds: 1, model: 'test-model' });
    expect(report.llm.verdict).toEqual(JSON.parse(verdict(0.9)));
    expect(report.sessions[0].stopInitiator).toBe('charger');
    const recs = res.results.filter((r) => r.resultType === 'recommendation');
    expect(recs.map((r) => [r.content, r.confidenceScore])).toEqual([
      ['Check the charger stop button', 0.9],
      ['Review the operator log', 0.9],
    ]);
  });

  test('an answer invalid twice in a round ends validation_failed and keeps the rule-based report', async () => {
    llm.answer({ content: 'I think the charger did it.' }, { content: verdict(0.9, ['F99']) });
    const { res, report, last } = await analyse(true);
    expect(last.status).toBe(S.ANALYSIS_STATUS_VALIDATION_FAILED);
    expect(res.analysis!.errorMessage).toMatch(/invalid twice in round 1: .*F99/);
    expect(llm.requests).toHaveLength(2);
    expect(llm.requests[1].messages[1].content).toMatch(
      /previous answer was invalid \(the answer is not JSON\)/,
    );
    expect(report.llm).toMatchObject({ status: 'validation_failed', rounds: 1 });
    expect(report.sessions).toHaveLength(1);
    expect(res.results.map((r) => r.resultType)).not.toContain('recommendation');
    expect(res.results[0].resultType).toBe('summary');
  });

  test('confidence below 0.7 after the last round ends max_iterations_reached', async () => {
    llm.answer({ content: verdict(0.3) }, { content: verdict(0.4) }, { content: verdict(0.5) });
    const { res, report, last } = await analyse(true);
    expect(last.status).toBe(S.ANALYSIS_STATUS_MAX_ITERATIONS_REACHED);
    expect(res.analysis!.status).toBe(S.ANALYSIS_STATUS_MAX_ITERATIONS_REACHED);
    expect(llm.requests).toHaveLength(3);
    expect(llm.requests[2].messages[1].content).toMatch(/confidence 0.4 is below 0.7.*charger event log/);
    expect(report.llm).toMatchObject({ status: 'max_iterations_reached', rounds: 3 });
    expect(report.llm.verdict.confidence).toBe(0.5);
  });

  test('an LLM that keeps failing after its retries leaves the analysis completed, rule-based, marked unavailable', async () => {
    llm.answer({ status: 500 }, { status: 502 });
    const { res, report, last } = await analyse(true);
    expect(last.status).toBe(S.ANALYSIS_STATUS_COMPLETED);
    expect(llm.requests).toHaveLength(2); // the call and its one retry (LLM_RETRIES=1)
    expect(report.llm).toMatchObject({ status: 'unavailable', rounds: 1 });
    expect(report.llm.error).toMatch(/HTTP 502/);
    expect(res.results.map((r) => r.resultType)).not.toContain('recommendation');
  });

  test('without use_llm the analysis stays rule-based and the LLM is not called', async () => {
    llm.answer();
    const { report, last } = await analyse(false);
    expect(last.status).toBe(S.ANALYSIS_STATUS_COMPLETED);
    expect(llm.requests).toHaveLength(0);
    expect(report.llm).toBeUndefined();
  });
});
