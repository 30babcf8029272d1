import { z } from 'zod';
import { baseConfigSchema, databaseConfigSchema, parseConfig } from '@charge/service-kit';
import { natsConfigSchema } from '@charge/events';
import { PASSWORD_MIN_LENGTH } from './domain/credentials';

const flag = z
  .enum(['0', '1', 'true', 'false'])
  .default('0')
  .transform((v) => v === '1' || v === 'true');

export const authConfigSchema = baseConfigSchema
  .extend({
    ...databaseConfigSchema.shape,
    ...natsConfigSchema.shape,
    GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50051),
    /** PEM file holding the ES256 (P-256) signing key. Never committed. */
    AUTH_SIGNING_KEY_FILE: z.string().min(1),
    /** Local runs and tests: create the key file (mode 0600) when it does not exist. */
    AUTH_DEV_GENERATE_KEY: flag,
    ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(30).max(86_400).default(900),
    REFRESH_TOKEN_TTL_S: z.coerce
      .number()
      .int()
      .min(60)
      .max(90 * 86_400)
      .default(604_800),
    /** The first admin, created at start when no user has this email. */
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().min(PASSWORD_MIN_LENGTH).optional(),
  })
  .refine((c) => (c.ADMIN_EMAIL === undefined) === (c.ADMIN_PASSWORD === undefined), {
    message: 'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
    path: ['ADMIN_PASSWORD'],
  });

export type AuthConfig = z.infer<typeof authConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): AuthConfig {
  return parseConfig(authConfigSchema, env);
}
