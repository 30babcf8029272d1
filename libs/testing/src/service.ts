import { credentials, type ChannelOptions, type Client } from '@grpc/grpc-js';
import pino from 'pino';
import { startService, type BaseConfig, type RunningService, type ServiceSpec } from '@charge/service-kit';

export interface TestServiceOptions {
  /** Environment for loadConfig (GRPC_PORT=0 and GRPC_HOST=127.0.0.1 are added). */
  env: Record<string, string | undefined>;
  /** Log level for the service under test; silent unless TEST_LOG_LEVEL is set. */
  logLevel?: string;
}

/** Starts a service with its real build() on 127.0.0.1:0. */
export async function startTestService<C extends BaseConfig>(
  spec: ServiceSpec<C>,
  options: TestServiceOptions,
): Promise<RunningService<C>> {
  const config = spec.loadConfig({
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...options.env,
  });
  const logger = pino({
    level: options.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'silent',
    base: { service: spec.name },
  });
  return startService(spec, config, { logger });
}

/** A generated client connected to a running service. */
export function clientFor<T extends Client>(
  Ctor: new (
    address: string,
    creds: ReturnType<typeof credentials.createInsecure>,
    options?: Partial<ChannelOptions>,
  ) => T,
  service: { address: string },
): T {
  return new Ctor(service.address, credentials.createInsecure());
}
