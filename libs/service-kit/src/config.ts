import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's config schema. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Exit code for a configuration error (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

/** Settings every service reads. Services extend this with `.extend({...})`. */
export const baseConfigSchema = z.object({
  GRPC_HOST: z.string().default('0.0.0.0'),
  /** 0 binds a free port (tests). */
  GRPC_PORT: z.coerce.number().int().min(0).max(65535),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Human-readable logs instead of JSON lines (local runs). */
  LOG_PRETTY: z
    .enum(['0', '1', 'true', 'false'])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  /** Milliseconds between NOT_SERVING and closing the listener, so load balancers drain. */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** Deadline for in-flight calls to finish after the drain delay. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Port of the Prometheus `/metrics` HTTP endpoint (on GRPC_HOST); 0 disables it. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** OTLP/HTTP traces endpoint; tracing exports only when set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** Parses `env` with `schema`; throws a ConfigError listing every problem at once. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return Object.freeze(result.data) as Readonly<z.infer<S>>;
}
