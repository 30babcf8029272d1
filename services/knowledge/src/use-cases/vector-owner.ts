import type { EntityManager } from '@mikro-orm/postgresql';
import type { CollectionTag } from '../vector/chroma-store';
import { sql } from './caller';

/** Names of the Chroma collections this service creates. */
export const CHROMA_PREFIX = 'knowledge_';

/**
 * The database that owns this service's Chroma collections: `current_database()` and the
 * cluster's system identifier, so that two deployments (or test databases) sharing one
 * Chroma server never sweep each other's collections.
 */
export async function vectorOwner(em: EntityManager): Promise<string> {
  const [row] = await sql<{ owner: string }>(
    em,
    `select current_database() || ':' || coalesce((select system_identifier::text from pg_control_system()), '') as owner`,
  );
  return row.owner;
}

/** The metadata stamped on a Chroma collection when created and while a reindex fills it. */
export const ownerTag = (owner: string): CollectionTag => ({
  knowledge_owner: owner,
  touched_at: Date.now(),
});
