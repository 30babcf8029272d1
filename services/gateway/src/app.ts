import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BuildContext, BuiltService } from '@charge/service-kit';
import type { GatewayConfig } from './config';
import { Gateway } from './gateway';
import { loadApi } from './routes';
import { Upstreams } from './upstreams';

/** What a started gateway exposes to tests (the HTTP port when HTTP_PORT=0). */
export interface GatewayHandle {
  httpPort: number;
  url: string;
}

/**
 * Composition root: routes from the descriptor set, upstream clients, the HTTP server.
 * The process also serves grpc.health (through service-kit) so the platform runner and
 * Kubernetes probe it like every other service.
 */
export async function build(
  ctx: BuildContext<GatewayConfig>,
  handle?: Partial<GatewayHandle>,
): Promise<BuiltService> {
  const { config, logger, lifecycle } = ctx;
  const api = loadApi(config.DESCRIPTOR_SET_PATH);
  for (const reason of api.skipped) logger.warn(`route not served: ${reason}`);
  const upstreams = new Upstreams(config.upstreams);
  lifecycle.onStop('upstream clients', () => upstreams.close());
  const gateway = new Gateway(api, upstreams, config, logger);
  const server: Server = createServer({ requestTimeout: 0, headersTimeout: 30_000 }, gateway.handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
  });
  lifecycle.onStop('http server', async () => {
    gateway.stopServing();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.HTTP_HOST;
  const url = `http://${host}:${port}`;
  if (handle) Object.assign(handle, { httpPort: port, url });
  const upstreamNames = [...new Set(api.routes.map((r) => r.upstream))].sort();
  logger.info(
    {
      routes: api.routes.length,
      upstreams: upstreamNames.map((n) => `${n}=${config.upstreams[n] ?? '(none)'}`),
    },
    `gateway listening on ${url}`,
  );
  return { services: [] };
}
