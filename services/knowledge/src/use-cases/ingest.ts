import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { isDomainError } from '@charge/errors';
import type { Logger } from '@charge/service-kit';
import {
  parseDocument,
  parsePdfPages,
  ParseError,
  type ChunkDraft,
  type FileType,
  type ParsedDocument,
} from '../domain/documents';
import { pdfPages } from '../domain/pdf-text';
import type { Tokenizer } from '../domain/tokenizer';
import { CollectionEntity } from '../persistence/collection.entity';
import {
  DocumentEventEntity,
  type DocumentEventRow,
  type IngestStage,
} from '../persistence/document-event.entity';
import { DocumentEntity } from '../persistence/document.entity';
import { refreshCounts, sql, type UseCaseDeps } from './caller';
import { insertChunks, type ChunkInsert } from './chunk-rows';
import { embedText } from '../domain/embed-text';

/** Chunks embedded, added to Chroma and inserted per step (Chroma's bare-insert batch size). */
const EMBED_BATCH = 1000;

/** Ingests at least this large refresh the chunk table's planner statistics. */
const ANALYZE_AFTER_CHUNKS = 10_000;

/** A reindex switched the collection's Chroma collection while this ingest was writing to the old one. */
class CollectionSwitched extends Error {}

/** Writes (progress events) run one at a time, in order, off the caller's critical path. */
class EventLog {
  private chain: Promise<void> = Promise.resolve();
  write(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn);
    this.chain.catch(() => undefined); // surfaces through flushed()
  }
  flushed(): Promise<void> {
    return this.chain;
  }
}

/** In-process ingest queue: parse → chunk → embed → Chroma → one Postgres transaction. */
export class IngestWorker {
  private readonly queue: number[] = [];
  private running = 0;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly orm: MikroORM,
    private readonly deps: UseCaseDeps,
    private readonly tokenizer: Tokenizer,
    private readonly logger: Logger,
    private readonly concurrency: number,
  ) {}

  enqueue(documentId: number): void {
    if (this.stopped) return;
    this.queue.push(documentId);
    this.pump();
  }

  /** Waits for running ingests to finish; queued ones stay UPLOADING and resume at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    if (this.running) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.stopped && this.running < this.concurrency && this.queue.length) {
      const id = this.queue.shift()!;
      this.running++;
      void this.process(id).finally(() => {
        this.running--;
        if (!this.running) for (const w of this.idleWaiters.splice(0)) w();
        this.pump();
      });
    }
  }

  private async event(
    em: EntityManager,
    documentId: number,
    stage: IngestStage,
    message: string,
    done = 0,
    total = 0,
  ) {
    em.create(DocumentEventEntity, {
      documentId,
      stage,
      message,
      done,
      total,
      createdAt: new Date(),
    } as DocumentEventRow);
    await em.flush();
  }

  private async process(documentId: number): Promise<void> {
    const em = this.orm.em.fork();
    const doc = await em.findOne(DocumentEntity, { id: documentId });
    if (!doc || (doc.uploadStatus !== 'uploading' && doc.uploadStatus !== 'processing')) return;
    const collection = await em.findOne(CollectionEntity, { id: doc.collectionId });
    if (!collection?.chromaCollectionId) return;
    const chromaName = collection.chromaCollectionId;
    const added: string[] = [];
    try {
      // An earlier attempt that crashed mid-ingest may have left vectors behind.
      if (doc.uploadStatus === 'processing') await this.deps.chroma.removeDocument(chromaName, documentId);
      doc.uploadStatus = 'processing';
      doc.updatedAt = new Date();
      await em.flush();
      const bytes = await readFile(doc.filePath);
      const chunking = { chunkSize: collection.chunkSize, chunkOverlap: collection.chunkOverlap };
      const type = doc.fileType as FileType;
      const parsed =
        type === 'pdf'
          ? parsePdfPages(await pdfPages(bytes), chunking)
          : parseDocument(type, bytes, chunking);
      const n = parsed.chunks.length;
      // Progress events are written off the critical path, in order, before the completion.
      const log = new EventLog();
      const unit = type === 'csv' || type === 'xlsx' ? 'rows' : type === 'pdf' ? 'pages' : 'sections';
      log.write(() =>
        this.event(em, documentId, 'parsed', `${parsed.units} ${unit}`, parsed.units, parsed.units),
      );
      log.write(() => this.event(em, documentId, 'chunked', `${n} chunks`, n, n));
      const provider = this.deps.embeddings.get(collection.embeddingModel);

      // One transaction holds the new chunks from the first batch on, so their inserts overlap
      // the Chroma adds, and makes them searchable at once when it commits (with the removal
      // of the replaced document).
      const replaced = await em.transactional(async (tem) => {
        // The add of batch k runs while batch k+1 is embedded and batch k's rows are inserted.
        let adding: Promise<void> = Promise.resolve();
        for (let i = 0; i < n; i += EMBED_BATCH) {
          const batch = this.prepare(parsed.chunks.slice(i, i + EMBED_BATCH));
          const vectors = provider.embedTokenized
            ? provider.embedTokenized(batch.texts, batch.contentTokens)
            : await provider.embed(batch.texts);
          await adding;
          const ids = batch.rows.map((r) => r.id);
          added.push(...ids); // attempted ids are cleaned up on failure, even after a partial add
          adding = this.deps.chroma
            .add(
              chromaName,
              ids.map((id, j) => ({ id, embedding: vectors[j], metadata: { document_id: documentId } })),
            )
            .then(() =>
              log.write(() =>
                this.event(em, documentId, 'embedded', `${i + ids.length}/${n} embedded`, i + ids.length, n),
              ),
            );
          adding.catch(() => undefined); // awaited on the next turn or below
          await insertChunks(tem, documentId, doc.collectionId, batch.rows);
        }
        await adding;
        await log.flushed();
        return this.complete(tem, documentId, doc.collectionId, chromaName, parsed);
      });
      // Fresh statistics after a large ingest, so that the planner keeps choosing the GIN
      // index for keyword search (autovacuum would get there, later).
      if (parsed.chunks.length >= ANALYZE_AFTER_CHUNKS) {
        void sql(em, 'analyze knowledge.knowledge_chunks').catch((e) =>
          this.logger.warn({ err: e }, 'could not analyze the chunk table'),
        );
      }
      if (replaced) {
        await this.deps.chroma
          .remove(chromaName, replaced.vectorIds)
          .catch((e) =>
            this.logger.warn({ err: e, document_id: replaced.id }, 'could not remove replaced vectors'),
          );
        await rm(replaced.filePath, { force: true });
      }
    } catch (error) {
      if (added.length) {
        await this.deps.chroma
          .remove(chromaName, added)
          .catch((e) =>
            this.logger.debug(
              { err: e, document_id: documentId },
              'could not remove vectors of a failed ingest',
            ),
          );
      }
      if (await this.switchedAway(doc.collectionId, chromaName, error)) {
        await this.restart(documentId).catch((e) =>
          this.logger.error({ err: e, document_id: documentId }, 'could not restart an ingest'),
        );
        return;
      }
      const message =
        error instanceof ParseError || isDomainError(error)
          ? (error as Error).message
          : `internal error (${randomUUID().slice(0, 8)})`;
      if (!(error instanceof ParseError) && !isDomainError(error)) {
        this.logger.error({ err: error, document_id: documentId, ref: message }, 'ingest failed');
      }
      await this.fail(documentId, message).catch((e) =>
        this.logger.error({ err: e, document_id: documentId }, 'could not record an ingest failure'),
      );
    }
  }

  /** Ids, texts, jieba tokens (once per chunk) and keyword tokens of a batch of chunks. */
  private prepare(chunks: ChunkDraft[]) {
    const texts = chunks.map((c) => embedText(c.content, c.metadata.heading));
    const contentTokens = texts.map((t) => this.tokenizer.tokens(t));
    // Keyword tokens: tabular rows index their values (the column names are in every row).
    const rows: ChunkInsert[] = chunks.map((chunk, i) => ({
      id: randomUUID(),
      chunk,
      tokens: (chunk.metadata.fields
        ? this.tokenizer.tokens(Object.values(chunk.metadata.fields).join(' '))
        : contentTokens[i]
      ).join(' '),
    }));
    return { texts, contentTokens, rows };
  }

  /**
   * Completes the document inside the ingest's transaction. The collection row is locked
   * first: a reindex that switched the Chroma collection meanwhile means these vectors went to
   * the old one, and the ingest starts again (CollectionSwitched).
   */
  private async complete(
    tem: EntityManager,
    documentId: number,
    collectionId: number,
    chromaName: string,
    parsed: ParsedDocument,
  ): Promise<{ id: number; filePath: string; vectorIds: string[] } | undefined> {
    const [locked] = await sql<{ chroma: string | null }>(
      tem,
      'select chroma_collection_id as chroma from knowledge.knowledge_collections where id = ? for no key update',
      [collectionId],
    );
    if (locked?.chroma !== chromaName) throw new CollectionSwitched();
    const current = await tem.findOne(DocumentEntity, { id: documentId }, { refresh: true });
    if (!current) throw new ParseError('the document was deleted during ingest');
    const n = parsed.chunks.length;
    let old: { id: number; filePath: string; vectorIds: string[] } | undefined;
    if (current.replacesId) {
      const previous = await tem.findOne(DocumentEntity, { id: current.replacesId });
      if (previous) {
        const ids = await sql<{ vector_id: string }>(
          tem,
          'select vector_id from knowledge.knowledge_chunks where document_id = ?',
          [previous.id],
        );
        old = { id: previous.id, filePath: previous.filePath, vectorIds: ids.map((r) => r.vector_id) };
        await tem.nativeDelete(DocumentEntity, { id: previous.id });
      }
    }
    current.uploadStatus = 'completed';
    current.chunkCount = n;
    current.replacesId = null;
    current.processingError = null;
    current.content = parsed.content;
    current.metaInfo = parsed.meta;
    current.updatedAt = new Date();
    await tem.flush();
    await refreshCounts(tem, collectionId);
    await this.event(tem, documentId, 'stored', `${n} chunks stored`, n, n);
    await this.event(tem, documentId, 'completed', old ? `replaced document ${old.id}` : 'searchable', n, n);
    return old;
  }

  /** Whether the ingest failed because a reindex moved the collection to another Chroma collection. */
  private async switchedAway(collectionId: number, chromaName: string, error: unknown): Promise<boolean> {
    if (error instanceof CollectionSwitched) return true;
    // Adding to a collection Chroma is dropping fails in more ways than NOT_FOUND.
    if (!isDomainError(error) || (error.kind !== 'notFound' && error.kind !== 'unavailable')) return false;
    const now = await this.orm.em.fork().findOne(CollectionEntity, { id: collectionId });
    return !!now?.chromaCollectionId && now.chromaCollectionId !== chromaName;
  }

  /** Back to the queue, to be ingested into the collection's new Chroma collection and model. */
  private async restart(documentId: number): Promise<void> {
    await this.orm.em.fork().transactional(async (tem) => {
      const doc = await tem.findOne(DocumentEntity, { id: documentId });
      if (!doc) return;
      doc.uploadStatus = 'uploading';
      doc.updatedAt = new Date();
      await tem.flush();
      await this.event(
        tem,
        documentId,
        'received',
        'the collection was reindexed meanwhile; ingesting again',
      );
    });
    this.enqueue(documentId);
  }

  private async fail(documentId: number, message: string): Promise<void> {
    await this.orm.em.fork().transactional(async (tem) => {
      const doc = await tem.findOne(DocumentEntity, { id: documentId });
      if (!doc) return;
      doc.uploadStatus = 'failed';
      doc.processingError = message.slice(0, 2000);
      doc.updatedAt = new Date();
      await tem.flush();
      await this.event(tem, documentId, 'failed', doc.processingError);
    });
  }
}
