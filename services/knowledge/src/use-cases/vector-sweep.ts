import type { MikroORM } from '@mikro-orm/postgresql';
import { isDomainError } from '@charge/errors';
import type { Logger } from '@charge/service-kit';
import type { KnowledgeConfig } from '../config';
import type { ChromaStore } from '../vector/chroma-store';
import { sql } from './caller';
import { CHROMA_PREFIX, vectorOwner } from './vector-owner';

export interface VectorSweepOptions {
  /** Vectors read per Chroma page. */
  pageSize: number;
  /** At most this many vectors are examined per run (the rest wait for the next run). */
  maxVectorsPerRun: number;
  /** Unreferenced Chroma collections younger than this (create, reindex in progress) are kept. */
  graceMs: number;
}

export interface VectorSweepResult {
  vectorsRemoved: number;
  collectionsDropped: string[];
}

const IN_FLIGHT = `('uploading', 'processing')`;

/**
 * Removes what a crash mid-ingest (or mid-reindex) leaves in Chroma: vectors no chunk row
 * references, and Chroma collections of this deployment no knowledge collection references.
 * Vectors of documents still being ingested are never touched: whether a vector is an orphan
 * is decided in one statement (one snapshot) over the chunk and document tables.
 */
export class VectorSweeper {
  constructor(
    private readonly orm: MikroORM,
    private readonly chroma: ChromaStore,
    private readonly logger: Logger,
    private readonly options: VectorSweepOptions,
  ) {}

  async sweep(): Promise<VectorSweepResult> {
    const em = this.orm.em.fork();
    const result: VectorSweepResult = { vectorsRemoved: 0, collectionsDropped: [] };
    const collections = await sql<{ id: number; chroma: string; chunks: string; busy: string }>(
      em,
      `select c.id, c.chroma_collection_id as chroma,
         (select count(*) from knowledge.knowledge_chunks k where k.collection_id = c.id) as chunks,
         (select count(*) from knowledge.knowledge_documents d
           where d.collection_id = c.id and d.upload_status in ${IN_FLIGHT}) as busy
       from knowledge.knowledge_collections c where c.chroma_collection_id is not null order by c.id`,
    );
    let budget = this.options.maxVectorsPerRun;
    for (const c of collections) {
      if (budget <= 0) break;
      if (Number(c.busy) > 0) continue;
      try {
        // Every chunk has its vector, so no more vectors than chunks means no orphans.
        const total = await this.chroma.count(c.chroma);
        if (total <= Number(c.chunks)) continue;
        const removed = await this.sweepCollection(c.id, c.chroma, total, budget);
        result.vectorsRemoved += removed.removed;
        budget -= removed.examined;
      } catch (error) {
        // Dropped meanwhile (deleted or reindexed): nothing left to sweep there.
        if (!(isDomainError(error) && error.kind === 'notFound')) throw error;
      }
    }
    result.collectionsDropped = await this.sweepCollections();
    if (result.vectorsRemoved || result.collectionsDropped.length) {
      this.logger.info(
        { vectors: result.vectorsRemoved, collections: result.collectionsDropped },
        'swept orphaned vectors',
      );
    }
    return result;
  }

  private async sweepCollection(collectionId: number, name: string, total: number, budget: number) {
    const em = this.orm.em.fork();
    let examined = 0;
    let removed = 0;
    let offset = 0;
    while (offset < total && examined < budget) {
      const page = await this.chroma.page(name, offset, this.options.pageSize);
      if (!page.length) break;
      examined += page.length;
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
      const orphans = await sql<{ id: string }>(
        em,
        `select v.id from jsonb_to_recordset(?::jsonb) as v(id text, chunk_id uuid, document_id int)
         where not exists (select 1 from knowledge.knowledge_chunks k
                           where k.id = v.chunk_id and k.collection_id = ?)
           and not exists (select 1 from knowledge.knowledge_documents d
                           where d.id = v.document_id and d.upload_status in ${IN_FLIGHT})`,
        [
          JSON.stringify(
            page.map((v) => ({
              id: v.id,
              chunk_id: uuid.test(v.id) ? v.id : null,
              document_id: v.documentId,
            })),
          ),
          collectionId,
        ],
      );
      await this.chroma.remove(
        name,
        orphans.map((o) => o.id),
      );
      removed += orphans.length;
      offset += page.length - orphans.length;
    }
    return { examined, removed };
  }

  /** Chroma collections of this deployment that no knowledge collection references, once stale. */
  private async sweepCollections(): Promise<string[]> {
    const em = this.orm.em.fork();
    const owner = await vectorOwner(em);
    // Listed before the referenced names are read: a collection created meanwhile is either
    // referenced by then or younger than the grace period.
    const listed = await this.chroma.list(CHROMA_PREFIX);
    const referenced = new Set(
      (
        await sql<{ name: string }>(
          em,
          'select chroma_collection_id as name from knowledge.knowledge_collections where chroma_collection_id is not null',
        )
      ).map((r) => r.name),
    );
    const dropped: string[] = [];
    for (const c of listed) {
      if (referenced.has(c.name) || c.metadata.knowledge_owner !== owner) continue;
      const touched = Number(c.metadata.touched_at);
      if (Number.isFinite(touched) && Date.now() - touched < this.options.graceMs) continue;
      await this.chroma.drop(c.name);
      dropped.push(c.name);
    }
    return dropped;
  }

  /** A sweep now (in the background) and every `intervalMs` (0: only now); stop waits for a running one. */
  start(intervalMs: number): () => Promise<void> {
    let current: Promise<void> | undefined;
    let stopped = false;
    const run = () => {
      if (current || stopped) return;
      current = this.sweep()
        .then(
          () => undefined,
          (error: unknown) =>
            this.logger.warn({ err: error }, 'vector sweep failed; retried at the next run'),
        )
        .finally(() => (current = undefined));
    };
    run();
    const timer = intervalMs > 0 ? setInterval(run, intervalMs) : undefined;
    timer?.unref();
    return async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await current;
    };
  }
}

/** The sweep as configured: at start-up, then every KNOWLEDGE_SWEEP_INTERVAL_MS. Returns its stop hook. */
export function startVectorSweep(
  orm: MikroORM,
  chroma: ChromaStore,
  logger: Logger,
  config: Pick<
    KnowledgeConfig,
    'KNOWLEDGE_SWEEP_INTERVAL_MS' | 'KNOWLEDGE_SWEEP_GRACE_MS' | 'KNOWLEDGE_SWEEP_MAX_VECTORS'
  >,
): () => Promise<void> {
  return new VectorSweeper(orm, chroma, logger, {
    pageSize: 1000,
    maxVectorsPerRun: config.KNOWLEDGE_SWEEP_MAX_VECTORS,
    graceMs: config.KNOWLEDGE_SWEEP_GRACE_MS,
  }).start(config.KNOWLEDGE_SWEEP_INTERVAL_MS);
}
