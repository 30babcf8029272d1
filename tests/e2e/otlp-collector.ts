import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One exported span, flattened from an OTLP/HTTP JSON export. */
export interface CollectedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
}

interface OtlpValue {
  stringValue?: string;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: {
      spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string; kind?: number }[];
    }[];
  }[];
}

/** OTLP JSON ids are hex; some exporters send base64. Normalised to lower-case hex. */
function hexId(id: string | undefined, bytes: number): string {
  if (!id) return '';
  if (new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i').test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

/**
 * A small real OTLP/HTTP trace receiver (`POST /v1/traces`, JSON, optionally gzip) standing
 * in for an OpenTelemetry collector: the services export to it exactly as they would to a
 * real one (OTEL_EXPORTER_OTLP_ENDPOINT).
 */
export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  url = '';
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        this.accept(JSON.parse(body.toString('utf8')) as OtlpExport);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });

  static async start(): Promise<OtlpCollector> {
    const collector = new OtlpCollector();
    const port = await new Promise<number>((resolve) =>
      collector.server.listen(0, '127.0.0.1', () =>
        resolve((collector.server.address() as { port: number }).port),
      ),
    );
    collector.url = `http://127.0.0.1:${port}`;
    return collector;
  }

  private accept(payload: OtlpExport): void {
    for (const rs of payload.resourceSpans ?? []) {
      const service =
        rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? 'unknown';
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          this.spans.push({
            service,
            name: s.name,
            traceId: hexId(s.traceId, 16),
            spanId: hexId(s.spanId, 8),
            parentSpanId: hexId(s.parentSpanId, 8),
            kind: s.kind ?? 0,
          });
    }
  }

  trace(traceId: string): CollectedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
