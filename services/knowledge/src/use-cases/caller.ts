import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { enqueueAudit } from '@charge/events';
import type { Caller } from '@charge/service-kit';
import type { EmbeddingRegistry } from '../embeddings/provider';
import type { CollectionRow } from '../persistence/collection.entity';
import type { ChromaStore } from '../vector/chroma-store';

export const SERVICE = 'knowledge';

/** Shared collaborators of the use cases. */
export interface UseCaseDeps {
  /** Wakes the outbox relay after a commit that staged messages. */
  relay: { kick(): void };
  chroma: ChromaStore;
  embeddings: EmbeddingRegistry;
  dataDir: string;
  defaultEmbeddingModel: string;
}

export const isAdmin = (caller: Caller) => caller.claims.role === 'admin';

/** Public collections (no owner) are readable by everyone; others by their owner and admins. */
export const canRead = (caller: Caller, c: CollectionRow) =>
  c.createdBy == null || isAdmin(caller) || c.createdBy === caller.claims.userId;

/** Admins manage every collection (public ones only by them); owners manage theirs. */
export const canManage = (caller: Caller, c: CollectionRow) =>
  isAdmin(caller) || (c.createdBy != null && c.createdBy === caller.claims.userId);

export function assertManage(caller: Caller, c: CollectionRow): void {
  if (!canManage(caller, c))
    throw DomainError.permissionDenied('only the owner or an admin may change this collection');
}

export function audit(
  em: EntityManager,
  caller: Caller,
  action: string,
  resourceType: string,
  resourceId: number,
  values: { oldValues?: Record<string, unknown> | null; newValues?: Record<string, unknown> | null } = {},
): void {
  enqueueAudit(em, { service: SERVICE, action, resourceType, resourceId, ...values, actor: caller.actor });
}

/** Raw SQL inside `em`'s transaction, if any (`?` placeholders; arrays expand to lists). */
export function sql<T = Record<string, unknown>>(
  em: EntityManager,
  query: string,
  params: unknown[] = [],
): Promise<T[]> {
  return em.getConnection().execute(query, params, 'all', em.getTransactionContext()) as Promise<T[]>;
}

/** Recomputes a collection's document and chunk counts (call inside the changing transaction). */
export async function refreshCounts(em: EntityManager, collectionId: number): Promise<void> {
  await sql(
    em,
    `update knowledge.knowledge_collections c set
       document_count = (select count(*) from knowledge.knowledge_documents d where d.collection_id = c.id),
       chunk_count = (select count(*) from knowledge.knowledge_chunks k where k.collection_id = c.id),
       updated_at = now()
     where c.id = ?`,
    [collectionId],
  );
}

export { requireId as checkId, requireText, type Caller } from '@charge/service-kit';
