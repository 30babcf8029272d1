import { z } from 'zod';
import { natsConfigSchema } from '@charge/events';
import { baseConfigSchema, databaseConfigSchema, parseConfig } from '@charge/service-kit';

const schema = baseConfigSchema.extend({
  ...databaseConfigSchema.shape,
  ...natsConfigSchema.shape,
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50055),
  /** auth's gRPC address, for the token keys (JWKS). */
  AUTH_GRPC_ADDR: z.string().default('127.0.0.1:50051'),
  /** Durable consumer names; change only to replay into a fresh store. */
  AUDIT_CONSUMER: z.string().default('audit-store'),
  SYSLOG_CONSUMER: z.string().default('syslog-store'),
});

export type AuditConfig = z.infer<typeof schema>;

export function loadConfig(env: Record<string, string | undefined>): AuditConfig {
  return parseConfig(schema, env);
}
