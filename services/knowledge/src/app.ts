import path from 'node:path';
import { knowledgeV1 } from '@charge/contracts';
import { onUsersDeleted } from '@charge/events';
import {
  jwksVerifierFromAuth,
  Rpc,
  startBackbone,
  type BuildContext,
  type BuiltService,
} from '@charge/service-kit';
import type { KnowledgeConfig } from './config';
import { Tokenizer } from './domain/tokenizer';
import { EmbeddingRegistry } from './embeddings/provider';
import { knowledgeHandlers } from './grpc/knowledge.handlers';
import { createDifyRetrievalServer } from './http/dify-retrieval';
import { AnswerSynthesizer } from './llm/answer-synthesizer';
import * as persistence from './persistence/schema';
import type { UseCaseDeps } from './use-cases/caller';
import { CollectionUseCases } from './use-cases/collections';
import { DocumentUseCases } from './use-cases/documents';
import { IngestWorker } from './use-cases/ingest';
import { RetrievalUseCases } from './use-cases/retrieval';
import { forgetUser } from './use-cases/user-deletions';
import { startVectorSweep } from './use-cases/vector-sweep';
import { ChromaStore } from './vector/chroma-store';

/** Composition root of the knowledge service. Migrations are applied by `npm run migrate`. */
export async function build(ctx: BuildContext<KnowledgeConfig>): Promise<BuiltService> {
  const { config, logger, lifecycle, inflight, metrics } = ctx;
  const { orm, nc, relay } = await startBackbone(ctx, persistence);

  lifecycle.onStop(
    'users-deleted',
    await onUsersDeleted(nc, { queue: 'knowledge', handler: (userId) => forgetUser(orm, userId), logger }),
  );

  const tokenizer = new Tokenizer();
  const deps: UseCaseDeps = {
    relay,
    chroma: new ChromaStore(config.CHROMA_URL),
    embeddings: new EmbeddingRegistry({
      tokenizer,
      apiUrl: config.EMBEDDING_API_URL,
      apiKey: config.EMBEDDING_API_KEY,
      apiModels: config.EMBEDDING_API_MODELS,
      batchSize: config.EMBEDDING_BATCH_SIZE,
      retries: config.EMBEDDING_RETRIES,
      timeoutMs: config.EMBEDDING_TIMEOUT_MS,
    }),
    dataDir: path.resolve(config.KNOWLEDGE_DATA_DIR),
    defaultEmbeddingModel: config.KNOWLEDGE_DEFAULT_EMBEDDING_MODEL,
  };
  deps.embeddings.get(config.KNOWLEDGE_DEFAULT_EMBEDDING_MODEL, 'KNOWLEDGE_DEFAULT_EMBEDDING_MODEL');

  const worker = new IngestWorker(orm, deps, tokenizer, logger, config.KNOWLEDGE_INGEST_CONCURRENCY);
  lifecycle.onStop('ingest', () => worker.stop());
  const collections = new CollectionUseCases(deps);
  const documents = new DocumentUseCases(deps, collections, (id) => worker.enqueue(id));
  for (const id of await documents.unfinished(orm.em.fork())) worker.enqueue(id);
  lifecycle.onStop('vector-sweep', startVectorSweep(orm, deps.chroma, logger, config));

  const synthesizer = config.LLM_API_URL
    ? new AnswerSynthesizer({
        baseUrl: config.LLM_API_URL,
        apiKey: config.LLM_API_KEY,
        model: config.LLM_MODEL,
        timeoutMs: config.LLM_TIMEOUT_MS,
        retries: 2,
      })
    : undefined;
  const retrieval = new RetrievalUseCases(deps, collections, tokenizer, synthesizer);
  const verifier = jwksVerifierFromAuth(config.AUTH_GRPC_ADDR, lifecycle);

  if (config.KNOWLEDGE_HTTP_PORT > 0) {
    const http = createDifyRetrievalServer({
      orm,
      retrieval,
      verifier,
      apiKeys: config.KNOWLEDGE_DIFY_API_KEYS,
      logger,
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.KNOWLEDGE_HTTP_PORT, config.GRPC_HOST, () => resolve());
    });
    lifecycle.onStop('http', () => new Promise<void>((resolve) => http.close(() => resolve())));
    logger.info({ port: config.KNOWLEDGE_HTTP_PORT }, 'Dify external knowledge endpoint: POST /retrieval');
  }

  const implementation = knowledgeHandlers({
    rpc: new Rpc({ logger, verifier, orm, inflight, metrics }),
    collections,
    documents,
    retrieval,
    maxDocumentBytes: config.KNOWLEDGE_MAX_DOCUMENT_BYTES,
    watchIntervalMs: 200,
  });
  return { services: [{ definition: knowledgeV1.KnowledgeServiceService, implementation }] };
}
