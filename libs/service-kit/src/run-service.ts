import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { healthV1 } from '@charge/contracts';
import { ConfigError, EXIT_CONFIG, type BaseConfig } from './config';
import { HealthRegistry } from './health';
import { Lifecycle } from './lifecycle';
import { createLogger, LogShipper, type Logger } from './logger';
import { RpcMetrics, serveMetrics } from './metrics';
import { InflightCounter } from './rpc';
import { startTelemetry } from './telemetry';

/** One gRPC service the process serves. */
export interface ServiceRegistration {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface BuildContext<C extends BaseConfig> {
  name: string;
  config: C;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Attach a SYSLOG sink once NATS is connected. */
  shipper: LogShipper;
  /** Pass to `new Rpc({...})` so shutdown waits for in-flight calls. */
  inflight: InflightCounter;
  /** Pass to `new Rpc({...})` so calls are counted and timed; served on METRICS_PORT when > 0. */
  metrics: RpcMetrics;
}

export interface BuiltService {
  services: ServiceRegistration[];
}

export interface ServiceSpec<C extends BaseConfig> {
  name: string;
  /** Parses the environment; throws ConfigError listing every problem. */
  loadConfig: (env: Record<string, string | undefined>) => C;
  /** Composition root: construct dependencies, register stop hooks, return registrations. */
  build: (ctx: BuildContext<C>) => Promise<BuiltService>;
}

export interface RunningService<C extends BaseConfig = BaseConfig> {
  port: number;
  /** `127.0.0.1:<port>` (or the bound host). */
  address: string;
  config: C;
  logger: Logger;
  health: HealthRegistry;
  /** This service's RPC metrics. */
  metrics: RpcMetrics;
  /** Port of the `/metrics` HTTP endpoint; undefined when METRICS_PORT is 0. */
  metricsPort?: number;
  /** Graceful stop: NOT_SERVING, drain delay, wait for calls (deadline), stop hooks. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  shipper?: LogShipper;
}

/** Builds and binds a service with an already-parsed config (used by runService and tests). */
export async function startService<C extends BaseConfig>(
  spec: ServiceSpec<C>,
  config: C,
  options: StartOptions = {},
): Promise<RunningService<C>> {
  const shipper = options.shipper ?? new LogShipper();
  const logger =
    options.logger ??
    createLogger({ service: spec.name, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, shipper });
  const lifecycle = new Lifecycle();
  const inflight = new InflightCounter();
  const metrics = new RpcMetrics();
  let built: BuiltService;
  let metricsPort: number | undefined;
  try {
    if (config.METRICS_PORT > 0) {
      // Registered first, so it closes last: scrapes still answer while the service drains.
      const endpoint = await serveMetrics(metrics, config.GRPC_HOST, config.METRICS_PORT);
      lifecycle.onStop('metrics endpoint', () => endpoint.close());
      metricsPort = endpoint.port;
    }
    built = await spec.build({ name: spec.name, config, logger, lifecycle, shipper, inflight, metrics });
  } catch (error) {
    await lifecycle.stop(logger);
    throw error;
  }
  const server = new Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  const health = new HealthRegistry(built.services.map((s) => serviceName(s.definition)));
  server.addService(healthV1.HealthService, health.implementation());
  for (const s of built.services) server.addService(s.definition, s.implementation);
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${config.GRPC_HOST}:${config.GRPC_PORT}`,
        ServerCredentials.createInsecure(),
        (err, p) => (err ? reject(err) : resolve(p)),
      ),
    );
  } catch (error) {
    await lifecycle.stop(logger);
    throw error;
  }
  health.setAll(true);
  const host = config.GRPC_HOST === '0.0.0.0' ? '127.0.0.1' : config.GRPC_HOST;
  logger.info({ port, metrics_port: metricsPort }, `${spec.name} serving on ${host}:${port}`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ inflight: inflight.size }, `${spec.name} stopping`);
      health.setAll(false);
      health.closeWatchers();
      if (config.SHUTDOWN_DELAY_MS > 0) await new Promise((r) => setTimeout(r, config.SHUTDOWN_DELAY_MS));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          logger.warn({ inflight: inflight.size }, 'shutdown deadline passed; cancelling remaining calls');
          server.forceShutdown();
          resolve();
        }, config.SHUTDOWN_TIMEOUT_MS);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await lifecycle.stop(logger);
      logger.info(`${spec.name} stopped`);
    })());
  return { port, address: `${host}:${port}`, config, logger, health, metrics, metricsPort, stop };
}

function serviceName(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0] as { path: string } | undefined;
  return first ? first.path.split('/')[1] : '';
}

/**
 * The whole life of a service process: parse config (exit 78 listing every problem),
 * start telemetry and the logger, build, bind, serve; on SIGTERM/SIGINT stop gracefully
 * and exit 0.
 */
export async function runService<C extends BaseConfig>(spec: ServiceSpec<C>): Promise<void> {
  let config: C;
  try {
    config = spec.loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${spec.name}: ${error.message}`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  const telemetry = startTelemetry(spec.name, config.OTEL_EXPORTER_OTLP_ENDPOINT);
  const shipper = new LogShipper();
  const logger = createLogger({
    service: spec.name,
    level: config.LOG_LEVEL,
    pretty: config.LOG_PRETTY,
    shipper,
  });
  let running: RunningService<C>;
  try {
    running = await startService(spec, config, { logger, shipper });
  } catch (error) {
    logger.fatal({ err: error }, `${spec.name} failed to start`);
    await telemetry.shutdown();
    process.exit(1);
  }
  const onSignal = (signal: string) => {
    logger.info({ signal }, 'signal received');
    void running
      .stop()
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
