import { z } from 'zod';
import { natsConfigSchema } from '@charge/events';
import { baseConfigSchema, databaseConfigSchema, parseConfig } from '@charge/service-kit';
import { BUILTIN_MODEL } from './domain/hashed-embedder';

const schema = baseConfigSchema.extend({
  ...databaseConfigSchema.shape,
  ...natsConfigSchema.shape,
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50053),
  /** auth's gRPC address, for the token keys (JWKS). */
  AUTH_GRPC_ADDR: z.string().default('127.0.0.1:50051'),
  /** ChromaDB server (scripts/ensure-chroma.sh starts one locally). */
  CHROMA_URL: z.url().default('http://127.0.0.1:8000'),
  /** Uploaded files (`documents/<collection>/`). */
  KNOWLEDGE_DATA_DIR: z.string().min(1).default('.data/knowledge'),
  KNOWLEDGE_MAX_DOCUMENT_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(64 * 1024 * 1024),
  /** Documents ingested at once by this instance. */
  KNOWLEDGE_INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** Orphaned-vector sweep (crash leftovers): at start-up and then every this many ms; 0 = start-up only. */
  KNOWLEDGE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(600_000),
  /** Unreferenced Chroma collections younger than this are in use (being created or reindexed). */
  KNOWLEDGE_SWEEP_GRACE_MS: z.coerce.number().int().min(60_000).default(900_000),
  /** Vectors examined per sweep run at most. */
  KNOWLEDGE_SWEEP_MAX_VECTORS: z.coerce.number().int().min(1000).default(200_000),
  /** Embedding model of new collections when the request names none. */
  KNOWLEDGE_DEFAULT_EMBEDDING_MODEL: z.string().min(1).default(BUILTIN_MODEL),
  /** OpenAI-compatible embeddings server (TEI, vLLM, Ollama, Xinference); empty for none. */
  EMBEDDING_API_URL: z.union([z.literal(''), z.url()]).default(''),
  EMBEDDING_API_KEY: z.string().default(''),
  /** Comma-separated models served by EMBEDDING_API_URL, e.g. `bge-base-zh-v1.5`. */
  EMBEDDING_API_MODELS: z
    .string()
    .default('bge-base-zh-v1.5')
    .transform((s) =>
      s
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    ),
  EMBEDDING_BATCH_SIZE: z.coerce.number().int().min(1).max(2048).default(64),
  EMBEDDING_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  EMBEDDING_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** OpenAI-compatible chat server for Query's synthesised answers; empty for none. */
  LLM_API_URL: z.union([z.literal(''), z.url()]).default(''),
  LLM_API_KEY: z.string().default(''),
  LLM_MODEL: z.string().min(1).default('qwen2.5-1.5b-instruct'),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** Port of the HTTP endpoint for Dify's External Knowledge API (`POST /retrieval`); 0 disables it. */
  KNOWLEDGE_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8053),
  /** Comma-separated API keys Dify may present; they read public collections only. */
  KNOWLEDGE_DIFY_API_KEYS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    ),
});

export type KnowledgeConfig = z.infer<typeof schema>;

export function loadConfig(env: Record<string, string | undefined>): KnowledgeConfig {
  return parseConfig(schema, env);
}
