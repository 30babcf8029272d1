import { z } from 'zod';
import { baseConfigSchema, ConfigError, parseConfig } from '@charge/service-kit';
import { descriptorSetPath } from '@charge/contracts';

/** Default upstream ports, one per service (ARCHITECTURE.md). */
export const DEFAULT_UPSTREAM_PORTS: Readonly<Record<string, number>> = Object.freeze({
  auth: 50051,
  analysis: 50052,
  knowledge: 50053,
  training: 50054,
  audit: 50055,
});

const csv = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const schema = baseConfigSchema.extend({
  /** The gateway's own grpc.health endpoint (liveness for the platform runner and probes). */
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50050),
  HTTP_HOST: z.string().default('0.0.0.0'),
  /** 0 binds a free port (tests). */
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** `buf build` output of proto/; the routes are generated from it at start. */
  DESCRIPTOR_SET_PATH: z.string().min(1).default(descriptorSetPath()),
  /** Origins allowed by CORS (comma-separated; `*` allows any). Empty: no CORS headers. */
  CORS_ALLOWED_ORIGINS: csv,
  /** Largest JSON (or gRPC-web) request body; larger ones get 413. */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(1024 * 1024),
  /** Largest streamed HttpBody upload; larger ones get 413. */
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(512 * 1024 * 1024),
  /**
   * Keep the client's X-Forwarded-For chain (only behind a trusted proxy). Off: the chain
   * starts at the connecting peer, so clients cannot spoof the address services see.
   */
  TRUST_FORWARDED_FOR: z
    .enum(['0', '1', 'true', 'false'])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  /** Deadline of unary calls (streams have none). */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
});

export type GatewayConfig = z.infer<typeof schema> & {
  /** Upstream address per proto package segment (`auth` → `AUTH_GRPC_ADDR`). */
  upstreams: Readonly<Record<string, string>>;
};

export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  const problems: string[] = [];
  const upstreams: Record<string, string> = {};
  for (const [name, port] of Object.entries(DEFAULT_UPSTREAM_PORTS)) upstreams[name] = `127.0.0.1:${port}`;
  for (const [key, value] of Object.entries(env)) {
    const m = /^([A-Z][A-Z0-9_]*)_GRPC_ADDR$/.exec(key);
    if (!m || value === undefined) continue;
    if (!/^[^\s:]+:\d{1,5}$/.test(value)) problems.push(`${key}: expected host:port, got '${value}'`);
    upstreams[m[1].toLowerCase()] = value;
  }
  let base: z.infer<typeof schema> | undefined;
  try {
    base = parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.unshift(...error.problems);
  }
  if (problems.length || !base) throw new ConfigError(problems);
  return Object.freeze({ ...base, upstreams: Object.freeze(upstreams) });
}
