import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { findIdPage } from '@charge/service-kit';
import { CollectionEntity, type CollectionRow } from '../persistence/collection.entity';
import {
  assertManage,
  audit,
  canRead,
  checkId,
  isAdmin,
  requireText,
  sql,
  type Caller,
  type UseCaseDeps,
} from './caller';
import { reindexCollection } from './reindex';
import { CHROMA_PREFIX, ownerTag, vectorOwner } from './vector-owner';

export const COLLECTION_TYPES = ['document', 'guide', 'faq', 'table'] as const;
export type CollectionKind = (typeof COLLECTION_TYPES)[number];

export interface CollectionInput {
  name?: string;
  description?: string;
  collectionType?: CollectionKind;
  embeddingModel?: string;
  chunkSize?: number;
  chunkOverlap?: number;
  isActive?: boolean;
  public?: boolean;
}

const auditValues = (c: CollectionRow) => ({
  name: c.name,
  collection_type: c.collectionType,
  embedding_model: c.embeddingModel,
  is_active: c.isActive,
  public: c.createdBy == null,
});

function checkChunking(size: number, overlap: number): void {
  if (!Number.isInteger(size) || size < 100 || size > 8000)
    throw DomainError.invalidArgument('chunk_size', 'must be between 100 and 8000');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size)
    throw DomainError.invalidArgument('chunk_overlap', 'must be at least 0 and below chunk_size');
}

export class CollectionUseCases {
  constructor(private readonly deps: UseCaseDeps) {}

  /** The Chroma collection is created first: when Chroma is down nothing is written. */
  async create(em: EntityManager, caller: Caller, input: CollectionInput): Promise<CollectionRow> {
    const name = requireText('name', input.name, 100);
    const description = requireText('description', input.description, 10_000, false);
    const model = input.embeddingModel?.trim() || this.deps.defaultEmbeddingModel;
    this.deps.embeddings.get(model);
    const chunkSize = input.chunkSize || 800;
    const chunkOverlap = input.chunkOverlap ?? Math.min(100, Math.floor(chunkSize / 4));
    checkChunking(chunkSize, chunkOverlap);
    if (input.public && !isAdmin(caller))
      throw DomainError.permissionDenied('only admins create public collections');
    const chromaName = `${CHROMA_PREFIX}${randomUUID().replace(/-/g, '')}`;
    await this.deps.chroma.create(chromaName, ownerTag(await vectorOwner(em)));
    try {
      const row = await em.transactional(async (tem) => {
        const now = new Date();
        const c = tem.create(CollectionEntity, {
          name,
          description: description || null,
          collectionType: input.collectionType ?? 'document',
          chromaCollectionId: chromaName,
          documentCount: 0,
          chunkCount: 0,
          embeddingModel: model,
          chunkSize,
          chunkOverlap,
          isActive: true,
          createdBy: input.public ? null : caller.claims.userId,
          createdAt: now,
          updatedAt: now,
        });
        await tem.flush();
        audit(tem, caller, 'created', 'collection', c.id, { newValues: auditValues(c) });
        return c;
      });
      this.deps.relay.kick();
      return row;
    } catch (error) {
      await this.deps.chroma.drop(chromaName).catch(() => undefined);
      throw error;
    }
  }

  async get(em: EntityManager, caller: Caller, id: number): Promise<CollectionRow> {
    checkId('id', id);
    const row = await em.findOne(CollectionEntity, { id }, { refresh: true });
    if (!row || !canRead(caller, row)) throw DomainError.notFound('collection', id);
    return row;
  }

  async getManaged(em: EntityManager, caller: Caller, id: number): Promise<CollectionRow> {
    const row = await this.get(em, caller, id);
    assertManage(caller, row);
    return row;
  }

  async list(
    em: EntityManager,
    caller: Caller,
    input: { pageSize?: number; pageToken?: string; collectionType?: string },
  ) {
    const where: FilterQuery<CollectionRow>[] = [];
    if (!isAdmin(caller)) where.push({ $or: [{ createdBy: null }, { createdBy: caller.claims.userId }] });
    if (input.collectionType) where.push({ collectionType: input.collectionType });
    return findIdPage(em, CollectionEntity, { $and: where } as FilterQuery<CollectionRow>, input);
  }

  async update(
    em: EntityManager,
    caller: Caller,
    id: number,
    input: CollectionInput,
  ): Promise<CollectionRow> {
    const row = await this.getManaged(em, caller, id);
    const before = auditValues(row);
    if (input.name !== undefined) row.name = requireText('name', input.name, 100);
    if (input.description !== undefined)
      row.description = requireText('description', input.description, 10_000, false) || null;
    if (input.collectionType !== undefined) row.collectionType = input.collectionType;
    if (input.isActive !== undefined) row.isActive = input.isActive;
    if (input.embeddingModel !== undefined && input.embeddingModel !== row.embeddingModel) {
      this.deps.embeddings.get(input.embeddingModel);
      const [{ n }] = await sql<{ n: string }>(
        em,
        'select count(*) as n from knowledge.knowledge_chunks where collection_id = ?',
        [id],
      );
      if (Number(n) > 0) {
        throw DomainError.failedPrecondition(
          'the embedding model is locked once the collection has chunks; use ReindexCollection',
          'EMBEDDING_MODEL_LOCKED',
        );
      }
      row.embeddingModel = input.embeddingModel;
    }
    const size = input.chunkSize ?? row.chunkSize;
    const overlap = input.chunkOverlap ?? Math.min(row.chunkOverlap, size - 1);
    checkChunking(size, overlap);
    row.chunkSize = size;
    row.chunkOverlap = overlap;
    row.updatedAt = new Date();
    await em.transactional(async (tem) => {
      await tem.flush();
      audit(tem, caller, 'updated', 'collection', id, { oldValues: before, newValues: auditValues(row) });
    });
    this.deps.relay.kick();
    return row;
  }

  /** Rows first (one transaction), then the Chroma collection and the stored files. */
  async delete(em: EntityManager, caller: Caller, id: number): Promise<void> {
    const row = await this.getManaged(em, caller, id);
    await this.deps.chroma.heartbeat();
    await em.transactional(async (tem) => {
      await tem.nativeDelete(CollectionEntity, { id });
      audit(tem, caller, 'deleted', 'collection', id, { oldValues: auditValues(row) });
    });
    this.deps.relay.kick();
    if (row.chromaCollectionId) await this.deps.chroma.drop(row.chromaCollectionId);
    await rm(path.join(this.deps.dataDir, 'documents', String(id)), { recursive: true, force: true });
  }

  /**
   * Re-embeds every chunk under `model` into a fresh Chroma collection, streamed in pages,
   * then switches the collection to it in one update (see reindexCollection).
   */
  async reindex(
    em: EntityManager,
    caller: Caller,
    id: number,
    model: string,
    signal?: AbortSignal,
  ): Promise<{ collection: CollectionRow; chunkCount: number }> {
    const row = await this.getManaged(em, caller, id);
    const provider = this.deps.embeddings.get(model.trim());
    const before = auditValues(row);
    await reindexCollection(this.deps, em, row, provider, signal, (tem) =>
      audit(tem, caller, 'reindexed', 'collection', id, {
        oldValues: before,
        newValues: { ...before, embedding_model: provider.model },
      }),
    );
    this.deps.relay.kick();
    const collection = await this.get(em, caller, id);
    return { collection, chunkCount: collection.chunkCount };
  }
}
