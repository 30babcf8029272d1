import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { status } from '@grpc/grpc-js';
import { Counter, Histogram, labels, secondsSince } from '@charge/metrics';

/** Latency buckets in seconds (the gateway's, so the two histograms line up). */
export const RPC_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** More metrics for the same endpoint (e.g. @charge/events' EventMetrics), read at scrape time. */
export interface MetricsCollector {
  /** Exposition text (format 0.0.4) of metric families not rendered by anyone else. */
  collect(): Promise<string> | string;
}

/**
 * Prometheus metrics of one service's RPCs: calls handled by method and gRPC code, handling
 * latency by method, and calls in flight. One instance per service (created by startService);
 * rendered in the text exposition format 0.0.4. It is also the service's registry: added
 * collectors (queue depths, job durations: startBackbone adds them) are served with it.
 */
export class RpcMetrics {
  private readonly handled = new Counter(
    'grpc_server_handled_total',
    'RPCs completed on the server, by method and gRPC code.',
  );
  private readonly latency = new Histogram(
    'grpc_server_handling_seconds',
    'Time from the start of an RPC to its final status.',
    RPC_BUCKETS_S,
  );
  private readonly collectors = new Set<MetricsCollector>();
  private inflight = 0;

  /** Serves `collector`'s metrics on this service's endpoint too. */
  addCollector(collector: MetricsCollector): void {
    this.collectors.add(collector);
  }

  /** Everything the endpoint serves: the RPC metrics, then each collector's. */
  async scrape(): Promise<string> {
    const parts = [this.render()];
    for (const collector of this.collectors) {
      const text = await collector.collect();
      if (text) parts.push(text.endsWith('\n') ? text : `${text}\n`);
    }
    return parts.join('');
  }

  /** Starts timing one call on `path` (`/pkg.Service/Method`); call the result once with its final code. */
  start(path: string): (code: status) => void {
    const t0 = process.hrtime.bigint();
    this.inflight += 1;
    let done = false;
    return (code) => {
      if (done) return;
      done = true;
      this.inflight -= 1;
      const method = methodLabels(path);
      this.handled.inc(`${method},grpc_code="${status[code] ?? String(code)}"`);
      this.latency.observe(method, secondsSince(t0));
    };
  }

  /** Calls in progress. */
  get inFlight(): number {
    return this.inflight;
  }

  render(): string {
    const lines = [
      ...this.handled.render(),
      ...this.latency.render(),
      '# HELP grpc_server_in_flight RPCs being handled.',
      '# TYPE grpc_server_in_flight gauge',
      `grpc_server_in_flight ${this.inflight}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}

/** `/charge.auth.v1.AuthService/GetMe` → `grpc_service="charge.auth.v1.AuthService",grpc_method="GetMe"`. */
function methodLabels(path: string): string {
  const [, service = '', method = path] = path.split('/');
  return labels({ grpc_service: service, grpc_method: method });
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (text format 0.0.4) on host:port; 404 for anything else. */
export async function serveMetrics(metrics: RpcMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      metrics.scrape().then(
        (body) => {
          res.writeHead(200, {
            'content-type': 'text/plain; version=0.0.4; charset=utf-8',
            'content-length': Buffer.byteLength(body),
          });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`metrics collection failed: ${String((error as Error)?.message ?? error)}\n`);
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
