import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Registers a tracer provider so that every call has trace and span ids (in logs, and
 * propagated to downstream calls). Spans are exported only when an OTLP endpoint is set.
 * Call once per process, from runService.
 */
export function startTelemetry(serviceName: string, otlpEndpoint?: string): Telemetry {
  const spanProcessors: SpanProcessor[] = otlpEndpoint
    ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, '')}/v1/traces` }))]
    : [];
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors,
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
