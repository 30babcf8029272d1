import { z } from 'zod';
import { natsConfigSchema } from '@charge/events';
import { baseConfigSchema, databaseConfigSchema, parseConfig } from '@charge/service-kit';

const schema = baseConfigSchema
  .extend({
    ...databaseConfigSchema.shape,
    ...natsConfigSchema.shape,
    GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50052),
    /** auth's gRPC address, for the token keys (JWKS). */
    AUTH_GRPC_ADDR: z.string().default('127.0.0.1:50051'),
    /** Directory of the local blob store (uploaded logs). Created when missing. */
    ANALYSIS_BLOB_DIR: z.string().min(1).default('.data/analysis-blobs'),
    /** Largest accepted log, enforced while the upload streams in. Default 2 GiB. */
    MAX_LOG_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(2 ** 40)
      .default(2 * 1024 ** 3),
    /** Concurrent analysis jobs in this process; 0 runs the API only. */
    ANALYSIS_WORKERS: z.coerce.number().int().min(0).max(64).default(2),
    /** Durable name of the workers' consumer on ANALYSIS_JOBS (shared by every replica). */
    ANALYSIS_JOBS_CONSUMER: z.string().min(1).default('analysis-workers'),
    /** JetStream ack wait of a job; a running job sends progress heartbeats well within it. */
    ANALYSIS_JOB_ACK_WAIT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
    /** Caps the frames per second one job analyses (0: no cap), bounding the CPU jobs take from the API. */
    ANALYSIS_MAX_FRAMES_PER_S: z.coerce.number().int().min(0).default(0),
    /** Deliveries of a job that keeps failing unexpectedly before it is stored as failed. */
    ANALYSIS_JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
    /** OpenAI-compatible endpoint for the LLM refinement; without it analyses stay rule-based. */
    LLM_BASE_URL: z.url().optional(),
    LLM_MODEL: z.string().min(1).optional(),
    LLM_API_KEY: z.string().min(1).optional(),
    LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
    /** Retries of one failed LLM call (HTTP 5xx/429, network, timeout), with exponential backoff. */
    LLM_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    /** Refinement rounds before `max_iterations_reached`. */
    MAX_ITERATIONS: z.coerce.number().int().min(1).max(10).default(3),
    /** knowledge's gRPC address (Retrieve, for the LLM's evidence); unset: not consulted (noted). */
    KNOWLEDGE_GRPC_ADDR: z.string().min(1).optional(),
    /** training's gRPC address (GetDefaultModel flow_control); unset: not consulted (noted). */
    TRAINING_GRPC_ADDR: z.string().min(1).optional(),
    /** The workers' service account (auth Login) for knowledge and training; unset: neither is consulted. */
    ANALYSIS_SERVICE_EMAIL: z.string().min(1).optional(),
    ANALYSIS_SERVICE_PASSWORD: z.string().min(1).optional(),
    /** Deadline of one call to auth, knowledge or training from a worker. */
    KNOWLEDGE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
    /** Collections to search, comma-separated ids; empty: the first 20 the service account can read. */
    KNOWLEDGE_COLLECTION_IDS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .map(Number),
      )
      .pipe(z.array(z.number().int().positive()).max(20)),
    /** Passages per Retrieve query. */
    KNOWLEDGE_TOP_K: z.coerce.number().int().min(1).max(50).default(5),
  })
  .refine((c) => (c.LLM_BASE_URL === undefined) === (c.LLM_MODEL === undefined), {
    message: 'LLM_BASE_URL and LLM_MODEL must be set together',
    path: ['LLM_MODEL'],
  });

export type AnalysisConfig = z.infer<typeof schema>;

export function loadConfig(env: Record<string, string | undefined>): AnalysisConfig {
  return parseConfig(schema, env);
}
