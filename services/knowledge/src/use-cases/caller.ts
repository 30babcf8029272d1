import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { enqueueAudit, type Actor } from '@charge/events';
import type { AuthClaims } from '@charge/service-kit';
import type { EmbeddingRegistry } from '../embeddings/provider';
import type { CollectionRow } from '../persistence/collection.entity';
import type { ChromaStore } from '../vector/chroma-store';

export const SERVICE = 'knowledge';

/** Who is calling, as the use cases need it (transport-free). */
export interface Caller {
  claims: AuthClaims;
  actor: Actor;
}

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

export function checkId(field: string, id: number): void {
  if (!Number.isInteger(id) || id <= 0) throw DomainError.invalidArgument(field, 'must be a positive id');
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

export function requireText(field: string, value: string | undefined, max: number, required = true): string {
  const v = (value ?? '').trim();
  if (required && !v) throw DomainError.invalidArgument(field, 'is required');
  if (v.length > max) throw DomainError.invalidArgument(field, `must be at most ${max} characters`);
  return v;
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
