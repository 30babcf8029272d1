import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { isDomainError } from '@charge/errors';
import type { Logger } from '@charge/service-kit';
import { parseDocument, parsePdfPages, ParseError, type FileType } from '../domain/documents';
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
import { embedText } from './collections';

const EMBED_BATCH = 1000;
const INSERT_BATCH = 500;

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
    let storing: Promise<void> = Promise.resolve();
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
      await this.event(
        em,
        documentId,
        'parsed',
        `${parsed.units} ${type === 'csv' || type === 'xlsx' ? 'rows' : type === 'pdf' ? 'pages' : 'sections'}`,
        parsed.units,
        parsed.units,
      );
      await this.event(em, documentId, 'chunked', `${n} chunks`, n, n);

      const provider = this.deps.embeddings.get(collection.embeddingModel);
      const rows = parsed.chunks.map((c) => ({
        id: randomUUID(),
        text: embedText(c.content, c.metadata.heading),
        chunk: c,
      }));
      // Keyword tokens: tabular rows index their values (the column names are in every row).
      const tokens = rows.map((r) =>
        this.tokenizer
          .tokens(r.chunk.metadata.fields ? Object.values(r.chunk.metadata.fields).join(' ') : r.text)
          .join(' '),
      );
      // Embedding of the next batch overlaps with Chroma storing the current one.
      const batches: (typeof rows)[] = [];
      for (let i = 0; i < rows.length; i += EMBED_BATCH) batches.push(rows.slice(i, i + EMBED_BATCH));
      for (const batch of batches) {
        const vectors = await provider.embed(batch.map((r) => r.text));
        await storing;
        storing = this.deps.chroma
          .add(
            chromaName,
            batch.map((r, j) => ({ id: r.id, embedding: vectors[j], metadata: { document_id: documentId } })),
          )
          .then(async () => {
            added.push(...batch.map((r) => r.id));
            await this.event(em, documentId, 'embedded', `${added.length}/${n} embedded`, added.length, n);
          });
        // Attempted ids are cleaned up on failure even when the add itself failed midway.
        storing.catch(() => added.push(...batch.map((r) => r.id)));
      }
      await storing;

      // One transaction makes the new chunks searchable and removes the replaced document.
      const replaced = await em.transactional(async (tem) => {
        const current = await tem.findOne(DocumentEntity, { id: documentId }, { refresh: true });
        if (!current) throw new ParseError('the document was deleted during ingest');
        for (let i = 0; i < rows.length; i += INSERT_BATCH) {
          const values = rows.slice(i, i + INSERT_BATCH);
          await sql(
            tem,
            `insert into knowledge.knowledge_chunks
               (id, document_id, collection_id, ordinal, content, tokens, primary_key, primary_tag, metadata, vector_id)
             values ${values.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)').join(', ')}`,
            values.flatMap((r, j) => [
              r.id,
              documentId,
              doc.collectionId,
              r.chunk.ordinal,
              r.chunk.content,
              tokens[i + j],
              r.chunk.primaryKey ?? null,
              r.chunk.primaryTag ?? null,
              JSON.stringify(r.chunk.metadata),
              r.id,
            ]),
          );
        }
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
        await refreshCounts(tem, doc.collectionId);
        await this.event(tem, documentId, 'stored', `${n} chunks stored`, n, n);
        await this.event(
          tem,
          documentId,
          'completed',
          old ? `replaced document ${old.id}` : 'searchable',
          n,
          n,
        );
        return old;
      });
      if (replaced) {
        await this.deps.chroma
          .remove(chromaName, replaced.vectorIds)
          .catch((e) =>
            this.logger.warn({ err: e, document_id: replaced.id }, 'could not remove replaced vectors'),
          );
        await rm(replaced.filePath, { force: true });
      }
    } catch (error) {
      const message =
        error instanceof ParseError || isDomainError(error)
          ? (error as Error).message
          : `internal error (${randomUUID().slice(0, 8)})`;
      if (!(error instanceof ParseError) && !isDomainError(error)) {
        this.logger.error({ err: error, document_id: documentId, ref: message }, 'ingest failed');
      }
      if (added.length) {
        await this.deps.chroma
          .remove(chromaName, added)
          .catch((e) =>
            this.logger.warn(
              { err: e, document_id: documentId },
              'could not remove vectors of a failed ingest',
            ),
          );
      }
      await this.fail(documentId, message).catch((e) =>
        this.logger.error({ err: e, document_id: documentId }, 'could not record an ingest failure'),
      );
    }
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
