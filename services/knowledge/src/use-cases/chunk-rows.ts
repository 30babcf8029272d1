import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type { ChunkDraft } from '../domain/documents';

/** A chunk ready to store: its draft, its id (also its vector id) and its keyword tokens. */
export interface ChunkInsert {
  id: string;
  chunk: ChunkDraft;
  /** jieba tokens, space-separated (the generated tsvector indexes them). */
  tokens: string;
}

/**
 * Inserts the chunks inside `em`'s transaction: one statement per call, the rows as one
 * JSON parameter (`jsonb_to_recordset`): far cheaper to bind than ten placeholders a row.
 */
export async function insertChunks(
  em: EntityManager,
  documentId: number,
  collectionId: number,
  rows: ChunkInsert[],
): Promise<void> {
  if (!rows.length) return;
  // Bound as a real parameter ($n) through knex, not inlined and escaped into the SQL text.
  const knex = em.getKnex();
  const query = knex.raw(
    `insert into knowledge.knowledge_chunks
       (id, document_id, collection_id, ordinal, content, tokens, primary_key, primary_tag, metadata, vector_id)
     select r.id, ?, ?, r.ordinal, r.content, r.tokens, r.primary_key, r.primary_tag, r.metadata, r.id::text
     from jsonb_to_recordset(?::jsonb) as r(id uuid, ordinal int, content text, tokens text,
       primary_key varchar(255), primary_tag varchar(255), metadata jsonb)`,
    [
      documentId,
      collectionId,
      JSON.stringify(
        rows.map((r) => ({
          id: r.id,
          ordinal: r.chunk.ordinal,
          content: r.chunk.content,
          tokens: r.tokens,
          primary_key: r.chunk.primaryKey ?? null,
          primary_tag: r.chunk.primaryTag ?? null,
          metadata: r.chunk.metadata,
        })),
      ),
    ],
  );
  const trx = em.getTransactionContext<Knex.Transaction>();
  await (trx ? query.transacting(trx) : query);
}
