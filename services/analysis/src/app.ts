import { analysisV1 } from '@charge/contracts';
import { onUsersDeleted, startDurableConsumer, type RunningConsumer } from '@charge/events';
import {
  jwksVerifierFromAuth,
  Rpc,
  startBackbone,
  type BuildContext,
  type BuiltService,
} from '@charge/service-kit';
import type { AnalysisConfig } from './config';
import { analysisHandlers, progressCodec } from './grpc/analysis.handlers';
import * as persistence from './persistence/schema';
import { LocalBlobStore } from './storage/blob-store';
import { AnalysisUseCases } from './use-cases/analyses';
import { KnowledgeSource } from './use-cases/knowledge-source';
import { LlmRefiner } from './use-cases/llm-refiner';
import { ProgressBus } from './use-cases/progress-bus';
import { TraceCursors } from './use-cases/trace-cursors';
import { AnalysisWorker } from './workers/analysis-worker';

/** Composition root of the analysis service (API and, with ANALYSIS_WORKERS > 0, workers). */
export async function build(ctx: BuildContext<AnalysisConfig>): Promise<BuiltService> {
  const { config, logger, lifecycle, inflight, metrics } = ctx;
  const blobs = new LocalBlobStore(config.ANALYSIS_BLOB_DIR);
  await blobs.init();

  const { orm, nc, relay } = await startBackbone(ctx, persistence, { streams: ['ANALYSIS_JOBS'] });

  const bus = new ProgressBus(nc, progressCodec);
  const knowledge = new KnowledgeSource({
    knowledgeAddr: config.KNOWLEDGE_GRPC_ADDR,
    trainingAddr: config.TRAINING_GRPC_ADDR,
    authAddr: config.AUTH_GRPC_ADDR,
    email: config.ANALYSIS_SERVICE_EMAIL,
    password: config.ANALYSIS_SERVICE_PASSWORD,
    collectionIds: config.KNOWLEDGE_COLLECTION_IDS,
    timeoutMs: config.KNOWLEDGE_TIMEOUT_MS,
    topK: config.KNOWLEDGE_TOP_K,
    logger,
  });
  lifecycle.onStop('knowledge-clients', () => knowledge.close());
  const worker = new AnalysisWorker({
    orm,
    blobs,
    bus,
    logger,
    maxAttempts: config.ANALYSIS_JOB_MAX_ATTEMPTS,
    maxFramesPerSecond: config.ANALYSIS_MAX_FRAMES_PER_S,
    llm:
      (config.LLM_BASE_URL && config.LLM_MODEL) || config.TRAINING_GRPC_ADDR
        ? new LlmRefiner({
            baseUrl: config.LLM_BASE_URL,
            model: config.LLM_MODEL,
            apiKey: config.LLM_API_KEY,
            timeoutMs: config.LLM_TIMEOUT_MS,
            retries: config.LLM_RETRIES,
            maxIterations: config.MAX_ITERATIONS,
            logger,
            knowledge,
          })
        : undefined,
  });
  const traces = new TraceCursors();
  lifecycle.onStop('trace-cursors', () => traces.close());
  const analyses = new AnalysisUseCases({
    blobs,
    bus,
    traces,
    relay,
    maxLogBytes: config.MAX_LOG_BYTES,
    logger,
    abortLocal: (id) => worker.abort(id, 'cancelled'),
  });

  // Removes a deleted user's analyses, files and DBCs (idempotent; one replica per event).
  lifecycle.onStop(
    'users-deleted',
    await onUsersDeleted(nc, {
      queue: 'analysis',
      handler: (userId) => analyses.onUserDeleted(orm.em.fork(), userId),
      logger,
    }),
  );

  if (config.ANALYSIS_WORKERS > 0) {
    worker.start();
    const consumers: RunningConsumer[] = [];
    // One pull loop per worker slot, one message in hand each: a job never waits in a
    // prefetch buffer while its ack wait runs out.
    for (let i = 0; i < config.ANALYSIS_WORKERS; i++) {
      consumers.push(
        await startDurableConsumer({
          nc,
          stream: 'ANALYSIS_JOBS',
          durable: config.ANALYSIS_JOBS_CONSUMER,
          handler: (msg) => worker.handle(msg),
          logger,
          ackWaitMs: config.ANALYSIS_JOB_ACK_WAIT_MS,
          maxMessages: 1,
        }),
      );
    }
    lifecycle.onStop('analysis-workers', async () => {
      worker.stop();
      await Promise.all(consumers.map((c) => c.stop()));
    });
  }

  const verifier = jwksVerifierFromAuth(config.AUTH_GRPC_ADDR, lifecycle);
  const rpc = new Rpc({ logger, verifier, orm, inflight, metrics });
  return {
    services: [
      { definition: analysisV1.AnalysisServiceService, implementation: analysisHandlers(rpc, analyses) },
    ],
  };
}
