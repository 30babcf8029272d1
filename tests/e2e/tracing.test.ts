/**
 * One trace across the platform: a REST call to the gateway starts an analysis with LLM
 * refinement; the job travels through the outbox and JetStream (trace context in message
 * headers) to the analysis worker, which asks knowledge for evidence over gRPC. Every
 * process exports its spans over OTLP/HTTP to a small real collector; the test finds the
 * caller's trace id in spans of the gateway, analysis (API and worker) and knowledge, and
 * follows the parent links from knowledge's Retrieve back to the caller.
 */
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { writeSampleSession } from '@charge/gbt27930';
import { readFileSync } from 'node:fs';
import { OtlpCollector, type CollectedSpan } from './otlp-collector';
import { E2ePlatform } from './platform';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
type Body = Record<string, any>;

/** OpenAI-compatible chat completions answering with a valid verdict citing finding F1. */
async function startLlm(): Promise<{ url: string; requests: string[]; stop: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
      requests.push(body);
      const verdict = {
        summary: 'The BMS stopped charging after the charger missed BCL messages.',
        isGbt2015Charger: true,
        responsibility: 'charger',
        stageBreakdown: [{ stage: 'charging', issue: 'BCL timeout', evidence: ['F1'] }],
        rootCauses: ['CAN communication loss'],
        recommendations: ['Check the CAN wiring and termination'],
        confidence: 0.9,
        neededEvidence: [],
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-e2e',
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: JSON.stringify(verdict) },
              finish_reason: 'stop',
            },
          ],
        }),
      );
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('e2e: one trace from the gateway through JetStream to knowledge', () => {
  const platform = new E2ePlatform();
  let collector: OtlpCollector;
  let llm: Awaited<ReturnType<typeof startLlm>>;

  const rest = async (method: string, route: string, token?: string, body?: unknown, headers = {}) => {
    const res = await fetch(`${platform.gatewayUrl}${route}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Body = { text };
    try {
      parsed = JSON.parse(text) as Body;
    } catch {
      // NDJSON streams and plain-text errors stay as text.
    }
    return { status: res.status, body: parsed };
  };

  beforeAll(async () => {
    collector = await OtlpCollector.start();
    llm = await startLlm();
    await platform.start(['auth', 'analysis', 'knowledge'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ANALYSIS_BLOB_DIR: path.join(platform.scratch, 'blobs'),
      ANALYSIS_WORKERS: '1',
      LLM_BASE_URL: llm.url,
      LLM_MODEL: 'e2e-verdict',
      ANALYSIS_SERVICE_EMAIL: platform.admin.email,
      ANALYSIS_SERVICE_PASSWORD: platform.admin.password,
    });
  }, 180_000);

  afterAll(async () => {
    const codes = await platform.stop();
    await llm?.stop();
    await collector?.stop();
    expect(codes).toEqual({ auth: 0, analysis: 0, knowledge: 0, gateway: 0 });
  }, 60_000);

  test('gateway → analysis API → JetStream → analysis worker → knowledge Retrieve share the caller’s trace', async () => {
    const token = (await rest('POST', '/v1/auth/login', undefined, platform.admin)).body
      .accessToken as string;
    const collection = (
      await rest('POST', '/v1/knowledge/collections', token, {
        name: 'trace evidence',
        collectionType: 'COLLECTION_TYPE_TABLE',
      })
    ).body.collection as Body;
    const csv =
      '停充码,故障名称,处理建议\n3001,BCL报文超时,检查CAN线束与终端电阻\n3002,BCS报文超时,检查BMS供电\n';
    const doc = await rest(
      'POST',
      `/v1/knowledge/collections/${collection.id}/documents:upload?filename=timeouts.csv`,
      token,
      Buffer.from(csv),
      { 'content-type': 'text/csv' },
    );
    expect(doc.status).toBe(200);
    await rest('GET', `/v1/knowledge/documents/${doc.body.document.id}:watch`, token);

    const file = path.join(platform.scratch, 'trace.blf');
    await writeSampleSession(file, { frames: 5_000, fault: 'bcl-timeout', seed: 3 });
    const uploaded = await rest(
      'POST',
      '/v1/analyses:upload?name=traced&file_name=trace.blf',
      token,
      readFileSync(file),
      {
        'content-type': 'application/octet-stream',
      },
    );
    expect(uploaded.status).toBe(200);
    const id = uploaded.body.analysis.id as number;

    const traceId = '5e1f00d5a0c0ffee0123456789abcdef';
    const callerSpan = '00f067aa0ba902b7';
    const started = await rest(
      'POST',
      `/v1/analyses/${id}:start`,
      token,
      { useLlm: true },
      {
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
    );
    expect(started.status).toBe(200);
    const watched = await rest('GET', `/v1/analyses/${id}:watch`, token);
    expect(watched.status).toBe(200);
    const report = await rest('GET', `/v1/analyses/${id}/report`, token);
    expect(report.body.analysis.status).toBe('ANALYSIS_STATUS_COMPLETED');
    expect(llm.requests.length).toBeGreaterThan(0);
    expect(llm.requests[0]).toContain('3001');

    // Spans are exported in batches every 100 ms (a parent only when it ends): wait until the
    // chain from knowledge's Retrieve up the parent links reaches the caller's span.
    const chainOf = (spans: CollectedSpan[]) => {
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      const chain: string[] = [];
      let span = spans.find((s) => s.service === 'knowledge' && s.name.endsWith('KnowledgeService/Retrieve'));
      while (span) {
        chain.push(`${span.service}:${span.name}`);
        if (span.parentSpanId === callerSpan) return { chain, complete: true };
        span = byId.get(span.parentSpanId);
      }
      return { chain, complete: false };
    };
    const deadline = Date.now() + 20_000;
    let spans = collector.trace(traceId);
    while (!chainOf(spans).complete && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      spans = collector.trace(traceId);
    }
    // auth is in it too: the worker signs in with its service account before asking knowledge.
    expect([...new Set(spans.map((s) => s.service))].sort()).toEqual([
      'analysis',
      'auth',
      'gateway',
      'knowledge',
    ]);
    const { chain, complete } = chainOf(spans);
    expect({ chain, complete }).toMatchObject({ complete: true });
    expect(chain[0]).toBe('knowledge:/charge.knowledge.v1.KnowledgeService/Retrieve');
    expect(chain.at(-1)).toMatch(/^gateway:POST \/v1\/analyses\/\{analysis_id\}:start$/);
    expect(chain).toEqual(
      expect.arrayContaining(['analysis:/charge.analysis.v1.AnalysisService/StartAnalysis']),
    );
    expect(chain.some((c) => c.startsWith('analysis:') && !c.includes('AnalysisService/'))).toBe(true);
  });
});
