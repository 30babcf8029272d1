import { z } from 'zod';
import { natsConfigSchema } from '@charge/events';
import { baseConfigSchema, databaseConfigSchema, parseConfig } from '@charge/service-kit';

const schema = baseConfigSchema.extend({
  ...databaseConfigSchema.shape,
  ...natsConfigSchema.shape,
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50054),
  /** auth's gRPC address, for the token keys (JWKS). */
  AUTH_GRPC_ADDR: z.string().default('127.0.0.1:50051'),
  /** Blob directory: uploaded datasets (`datasets/`) and trainer output (`runs/task-<id>/`). */
  TRAINING_DATA_DIR: z.string().min(1).default('.data/training'),
  /** Trainer processes this instance runs at once (GPU slots); 0 serves the API only. */
  TRAINING_SLOTS: z.coerce.number().int().min(0).max(64).default(1),
  /** Durable name of the runners' TRAINING_JOBS consumer (shared by every runner). */
  TRAINING_RUNNER_CONSUMER: z.string().min(1).default('training-runner'),
  /** How often a runner touches its running tasks (and checks for cancellation). */
  TRAINING_HEARTBEAT_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** A running task without a heartbeat for this long is failed by the reaper. */
  TRAINING_STALE_AFTER_MS: z.coerce.number().int().min(500).default(60_000),
  /** SIGTERM → SIGKILL grace period for a cancelled trainer's process group. */
  TRAINING_CANCEL_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(3000),
  TRAINING_MAX_DATASET_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(64 * 1024 * 1024),
  /** The LLaMA-Factory command (looked up on PATH when not absolute). */
  LLAMAFACTORY_CLI: z.string().min(1).default('llamafactory-cli'),
});

export type TrainingConfig = z.infer<typeof schema>;

export function loadConfig(env: Record<string, string | undefined>): TrainingConfig {
  return parseConfig(schema, env);
}
