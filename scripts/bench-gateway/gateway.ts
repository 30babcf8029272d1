/**
 * Child process: the gateway on 127.0.0.1:0 in its own process (its own event loop, as
 * deployed), routing `auth` and `analysis` to the in-process services. Sends its URL, then
 * stops gracefully on the parent's 'stop' message (or exits when the parent goes away).
 */
import { startTestService } from '@charge/testing';
import { build, type GatewayHandle } from '../../services/gateway/src/app';
import { loadConfig } from '../../services/gateway/src/config';

export interface GatewayUpstreams {
  auth: string;
  analysis: string;
}

async function main(upstreams: GatewayUpstreams): Promise<void> {
  const handle: Partial<GatewayHandle> = {};
  const gateway = await startTestService(
    { name: 'gateway', loadConfig, build: (ctx) => build(ctx, handle) },
    {
      env: {
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        AUTH_GRPC_ADDR: upstreams.auth,
        ANALYSIS_GRPC_ADDR: upstreams.analysis,
      },
    },
  );
  process.send!({ url: handle.url });
  process.once('message', () => void gateway.stop().then(() => process.exit(0)));
}

process.once('disconnect', () => process.exit(1));
main(JSON.parse(process.argv[2]) as GatewayUpstreams).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
