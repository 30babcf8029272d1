/**
 * With a tracer provider registered (as runService does), the gateway's server span is a
 * child of the caller's traceparent and the parent of the upstream call.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { RunningService } from '@charge/service-kit';
import { startTestService } from '@charge/testing';
import { build, type GatewayHandle } from '../src/app';
import { loadConfig, type GatewayConfig } from '../src/config';
import { StubAnalysis } from './support/stub-analysis';

describe('gateway tracing', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let stub: StubAnalysis;
  let gateway: RunningService<GatewayConfig>;
  const handle: Partial<GatewayHandle> = {};

  beforeAll(async () => {
    provider.register();
    stub = await StubAnalysis.start();
    gateway = await startTestService(
      { name: 'gateway', loadConfig, build: (ctx) => build(ctx, handle) },
      { env: { HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ANALYSIS_GRPC_ADDR: stub.address } },
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await stub?.stop();
    await provider.shutdown();
  });

  test('caller → gateway span → upstream call share one trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await fetch(`${handle.url}/v1/analyses/1`, {
      headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const deadline = Date.now() + 5000;
    while (exporter.getFinishedSpans().length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const span = exporter.getFinishedSpans().find((s) => s.name === 'GET /v1/analyses/{analysis_id}');
    expect(span).toBeDefined();
    expect(span!.spanContext().traceId).toBe(traceId);
    expect(span!.parentSpanContext?.spanId).toBe(callerSpan);
    expect(span!.attributes['http.response.status_code']).toBe(200);
    const [, upstreamTrace, upstreamParent] = stub.seen.traceparent!.split('-');
    expect(upstreamTrace).toBe(traceId);
    expect(upstreamParent).toBe(span!.spanContext().spanId);
  });
});
