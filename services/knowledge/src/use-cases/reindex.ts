import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import type { EmbeddingProvider } from '../embeddings/provider';
import type { CollectionRow } from '../persistence/collection.entity';
import { DocumentEntity } from '../persistence/document.entity';
import { refreshCounts, sql, type UseCaseDeps } from './caller';
import { embedText } from '../domain/embed-text';
import { CHROMA_PREFIX, ownerTag, vectorOwner } from './vector-owner';

/** Chunks read, embedded and added per step. */
const PAGE = 1000;
/** A long reindex re-stamps its new collection this often, so the sweep knows it is in use. */
const TOUCH_MS = 60_000;

/** Switch attempts while ingest transactions hold the collection row (about a minute in all). */
const SWITCH_ATTEMPTS = 300;
const SWITCH_RETRY_MS = 200;

/** An ingest transaction holds the collection row (its chunk inserts' foreign-key lock). */
class CollectionBusy extends Error {}

/**
 * Locks the collection row for the switch without waiting: changing `chroma_collection_id`
 * (a unique column) needs FOR UPDATE, which conflicts with the key-share lock every open
 * ingest transaction holds through its chunk inserts, and an ingest completing needs the row
 * in turn; so the reindex never waits while holding anything, it retries instead.
 */
async function lockForSwitch(tem: EntityManager, id: number, startedFrom: string | null): Promise<void> {
  let locked: { chroma: string | null } | undefined;
  try {
    [locked] = await sql<{ chroma: string | null }>(
      tem,
      'select chroma_collection_id as chroma from knowledge.knowledge_collections where id = ? for update nowait',
      [id],
    );
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') throw new CollectionBusy(); // lock_not_available
    throw error;
  }
  if (!locked || locked.chroma !== startedFrom)
    throw DomainError.aborted('the collection was reindexed or deleted meanwhile; retry');
}

interface Cursor {
  documentId: number;
  ordinal: number;
}

interface ChunkText {
  id: string;
  document_id: number;
  ordinal: number;
  content: string;
  heading: string | null;
}

/** The next page of the collection's chunks after `cursor`, in (document, ordinal) order. */
function nextPage(em: EntityManager, collectionId: number, cursor: Cursor): Promise<ChunkText[]> {
  return sql<ChunkText>(
    em,
    `select id, document_id, ordinal, content, metadata->>'heading' as heading
     from knowledge.knowledge_chunks
     where collection_id = ? and (document_id, ordinal) > (?, ?)
     order by document_id, ordinal limit ?`,
    [collectionId, cursor.documentId, cursor.ordinal, PAGE],
  );
}

/**
 * Re-embeds a collection's chunks with `provider` into a new Chroma collection and switches
 * the collection to it in one update; queries use the old vectors until then. Chunks are
 * streamed in keyset pages over (document_id, ordinal), the next page read and embedded while
 * the current one is added to Chroma, so memory stays at two pages whatever the size.
 *
 * Documents are never renumbered downwards, so ingests that complete meanwhile land after
 * the cursor: the switch locks the collection row and copies what was added since, and an
 * ingest that commits after the switch sees the new Chroma collection and starts again
 * (see IngestWorker). Vectors of documents deleted meanwhile are left to the sweep.
 */
export async function reindexCollection(
  deps: UseCaseDeps,
  em: EntityManager,
  row: CollectionRow,
  provider: EmbeddingProvider,
  signal: AbortSignal | undefined,
  onSwitch: (tem: EntityManager) => void,
): Promise<{ chunkCount: number; oldChromaName: string | null }> {
  const busy = await em.count(DocumentEntity, {
    collectionId: row.id,
    uploadStatus: { $in: ['uploading', 'processing'] },
  });
  if (busy)
    throw DomainError.failedPrecondition('documents are being ingested; retry later', 'INGEST_IN_PROGRESS');
  const startedFrom = row.chromaCollectionId ?? null;
  const owner = await vectorOwner(em);
  const chromaName = `${CHROMA_PREFIX}${randomUUID().replace(/-/g, '')}`;
  await deps.chroma.create(chromaName, ownerTag(owner));
  let touched = Date.now();
  let copied = 0;
  const cursor: Cursor = { documentId: 0, ordinal: -1 };

  /** Copies every chunk after the cursor; the add of one page overlaps the read and embedding of the next. */
  const copyFrom = async (reader: EntityManager) => {
    let adding: Promise<void> = Promise.resolve();
    for (;;) {
      if (signal?.aborted) throw DomainError.aborted('the reindex was cancelled');
      const page = await nextPage(reader, row.id, cursor);
      if (!page.length) break;
      const last = page[page.length - 1];
      Object.assign(cursor, { documentId: last.document_id, ordinal: last.ordinal });
      const vectors = await provider.embed(
        page.map((c) => embedText(c.content, c.heading ?? undefined)),
        signal,
      );
      await adding;
      adding = deps.chroma.add(
        chromaName,
        page.map((c, i) => ({ id: c.id, embedding: vectors[i], metadata: { document_id: c.document_id } })),
      );
      adding.catch(() => undefined); // awaited on the next turn or below
      copied += page.length;
      if (Date.now() - touched > TOUCH_MS) {
        touched = Date.now();
        await deps.chroma.tag(chromaName, ownerTag(owner));
      }
    }
    await adding;
  };

  try {
    await copyFrom(em);
    for (let attempt = 1; ; attempt++) {
      try {
        await em.transactional(async (tem) => {
          await lockForSwitch(tem, row.id, startedFrom);
          await copyFrom(tem); // what ingests completed since the last page
          await sql(
            tem,
            'update knowledge.knowledge_collections set chroma_collection_id = ?, embedding_model = ?, updated_at = now() where id = ?',
            [chromaName, provider.model, row.id],
          );
          await refreshCounts(tem, row.id);
          onSwitch(tem);
        });
        break;
      } catch (error) {
        if (!(error instanceof CollectionBusy) || attempt >= SWITCH_ATTEMPTS) throw error;
        await copyFrom(em);
        await new Promise((r) => setTimeout(r, SWITCH_RETRY_MS));
      }
    }
  } catch (error) {
    await deps.chroma.drop(chromaName).catch(() => undefined);
    if (error instanceof CollectionBusy)
      throw DomainError.aborted('documents kept being ingested into the collection; retry the reindex');
    throw error;
  }
  if (startedFrom) await deps.chroma.drop(startedFrom).catch(() => undefined);
  return { chunkCount: copied, oldChromaName: startedFrom };
}
