import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { fileTypeOf } from '../domain/documents';
import { findIdPage } from '@charge/service-kit';
import { DocumentEventEntity, type DocumentEventRow } from '../persistence/document-event.entity';
import { DocumentEntity, type DocumentRow, type UploadStatus } from '../persistence/document.entity';
import { audit, checkId, refreshCounts, requireText, sql, type Caller, type UseCaseDeps } from './caller';
import type { CollectionUseCases } from './collections';

export interface UploadHeader {
  collectionId: number;
  filename: string;
  overwrite: boolean;
}

const auditValues = (d: DocumentRow) => ({
  collection_id: d.collectionId,
  filename: d.filename,
  file_type: d.fileType,
  file_size: Number(d.fileSize ?? 0),
});

export class DocumentUseCases {
  constructor(
    private readonly deps: UseCaseDeps,
    private readonly collections: CollectionUseCases,
    /** Hands a stored document to the ingest worker. */
    private readonly enqueue: (documentId: number) => void,
  ) {}

  /** Validates the header before the bytes arrive. */
  async checkHeader(em: EntityManager, caller: Caller, header: UploadHeader): Promise<void> {
    checkId('header.collection_id', header.collectionId);
    const filename = requireText('header.filename', header.filename, 255);
    if (/[/\\]/.test(filename) || filename.includes('\u0000'))
      throw DomainError.invalidArgument('header.filename', 'must not contain path separators');
    if (!fileTypeOf(filename)) {
      throw DomainError.invalidArgument(
        'header.filename',
        'unsupported file type; expected .csv, .xlsx, .md, .txt, .html, .docx or .pdf',
        'UNSUPPORTED_FILE_TYPE',
      );
    }
    await this.collections.getManaged(em, caller, header.collectionId);
  }

  /** Stores the file and the document (UPLOADING), then queues the ingest. */
  async upload(em: EntityManager, caller: Caller, header: UploadHeader, bytes: Buffer): Promise<DocumentRow> {
    await this.checkHeader(em, caller, header);
    const filename = header.filename.trim();
    if (!bytes.length) throw DomainError.invalidArgument('chunk', 'the file is empty', 'DOCUMENT_EMPTY');
    const type = fileTypeOf(filename)!;
    const dir = path.join(this.deps.dataDir, 'documents', String(header.collectionId));
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${randomUUID()}.${type}`);
    await writeFile(`${file}.part`, bytes);
    await rename(`${file}.part`, file);
    try {
      const row = await em.transactional(async (tem) => {
        // Serialises uploads of one file name into one collection (checked, then inserted).
        await sql(tem, 'select pg_advisory_xact_lock(?, hashtext(?))', [header.collectionId, filename]);
        const existing = await tem.find(
          DocumentEntity,
          { collectionId: header.collectionId, filename },
          { orderBy: { id: 'desc' } },
        );
        if (existing.length && !header.overwrite) {
          throw DomainError.alreadyExists(
            `the collection already has a document named "${filename}"; set overwrite to replace it`,
          );
        }
        if (existing.some((d) => d.uploadStatus === 'uploading' || d.uploadStatus === 'processing')) {
          throw DomainError.failedPrecondition(
            `"${filename}" is being ingested; retry when it finishes`,
            'INGEST_IN_PROGRESS',
          );
        }
        const now = new Date();
        const doc = tem.create(DocumentEntity, {
          collectionId: header.collectionId,
          filename,
          filePath: file,
          fileSize: bytes.length,
          fileType: type,
          chunkCount: 0,
          uploadStatus: 'uploading',
          replacesId: existing[0]?.id ?? null,
          uploadedBy: caller.claims.userId,
          createdAt: now,
          updatedAt: now,
        });
        await tem.flush();
        tem.create(DocumentEventEntity, {
          documentId: doc.id,
          stage: 'received',
          message: `${bytes.length} bytes${existing.length ? `, replaces document ${existing[0].id}` : ''}`,
          done: bytes.length,
          total: bytes.length,
          createdAt: now,
        } as DocumentEventRow);
        await tem.flush();
        await refreshCounts(tem, header.collectionId);
        audit(tem, caller, existing.length ? 'replaced' : 'created', 'document', doc.id, {
          newValues: { ...auditValues(doc), replaces_id: existing[0]?.id ?? null },
        });
        return doc;
      });
      this.deps.relay.kick();
      this.enqueue(row.id);
      return row;
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  }

  async get(em: EntityManager, caller: Caller, id: number): Promise<DocumentRow> {
    checkId('id', id);
    const row = await em.findOne(DocumentEntity, { id }, { refresh: true });
    if (!row) throw DomainError.notFound('document', id);
    try {
      await this.collections.get(em, caller, row.collectionId);
    } catch {
      throw DomainError.notFound('document', id);
    }
    return row;
  }

  async list(
    em: EntityManager,
    caller: Caller,
    input: { collectionId: number; pageSize?: number; pageToken?: string; status?: UploadStatus },
  ) {
    await this.collections.get(em, caller, input.collectionId);
    const where: FilterQuery<DocumentRow>[] = [{ collectionId: input.collectionId }];
    if (input.status) where.push({ uploadStatus: input.status });
    return findIdPage(em, DocumentEntity, { $and: where } as FilterQuery<DocumentRow>, input);
  }

  /**
   * Vectors first (UNAVAILABLE leaves the rows, and a retry finishes the job), then the rows in
   * one transaction, then the file.
   */
  async delete(em: EntityManager, caller: Caller, id: number): Promise<void> {
    const row = await this.get(em, caller, id);
    const collection = await this.collections.getManaged(em, caller, row.collectionId);
    const ids = await sql<{ vector_id: string }>(
      em,
      'select vector_id from knowledge.knowledge_chunks where document_id = ?',
      [id],
    );
    if (collection.chromaCollectionId) {
      await this.deps.chroma.remove(
        collection.chromaCollectionId,
        ids.map((r) => r.vector_id),
      );
    }
    await em.transactional(async (tem) => {
      await tem.nativeDelete(DocumentEntity, { id });
      await refreshCounts(tem, row.collectionId);
      audit(tem, caller, 'deleted', 'document', id, { oldValues: auditValues(row) });
    });
    this.deps.relay.kick();
    await rm(row.filePath, { force: true });
  }

  /** The document's events after `afterId`, ascending. */
  events(em: EntityManager, documentId: number, afterId: string): Promise<DocumentEventRow[]> {
    return em.find(
      DocumentEventEntity,
      { documentId, id: { $gt: afterId } },
      { orderBy: { id: 'asc' }, limit: 500, disableIdentityMap: true },
    );
  }

  status(em: EntityManager, id: number): Promise<DocumentRow | null> {
    return em.findOne(DocumentEntity, { id }, { refresh: true, disableIdentityMap: true });
  }

  /** Ids of documents left unfinished (by a crash), to queue again at start-up. */
  async unfinished(em: EntityManager): Promise<number[]> {
    const rows = await em.find(
      DocumentEntity,
      { uploadStatus: { $in: ['uploading', 'processing'] } },
      { orderBy: { id: 'asc' }, fields: ['id'] },
    );
    return rows.map((r) => r.id);
  }
}
