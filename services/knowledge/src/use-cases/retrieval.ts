import { IsolationLevel, type EntityManager, type FilterQuery } from '@mikro-orm/postgresql';
import { DomainError, isDomainError } from '@charge/errors';
import { fusedScore, tagQueries, type Candidate, type Fusion } from '../domain/fusion';
import { normaliseValue } from '../domain/tabular';
import { tsqueryOf, type Tokenizer } from '../domain/tokenizer';
import type { CollectionRow } from '../persistence/collection.entity';
import { RagQueryEntity, type RagQueryRow } from '../persistence/rag-query.entity';
import { findIdPage } from '@charge/service-kit';
import { canManage, checkId, sql, type Caller, type UseCaseDeps } from './caller';
import type { CollectionUseCases } from './collections';
import type { AnswerSynthesizer } from '../llm/answer-synthesizer';

export const MAX_TOP_K = 50;

export interface RetrievalOptions {
  topK?: number;
  scoreThreshold?: number;
  vectorWeight?: number;
  fusion?: Fusion;
  filters?: Record<string, string>;
}

export type MatchSource = 'exact' | 'keyword' | 'vector';

export interface Passage {
  content: string;
  score: number;
  matchedBy: MatchSource[];
  vectorScore: number;
  keywordScore: number;
  primaryTag: string;
  citation: {
    collectionId: number;
    documentId: number;
    filename: string;
    chunkId: string;
    ordinal: number;
    row: number;
    sheet: string;
    page: number;
    heading: string;
  };
}

interface ChunkHit {
  id: string;
  document_id: number;
  collection_id: number;
  ordinal: number;
  content: string;
  primary_key: string | null;
  primary_tag: string | null;
  metadata: { row?: number; sheet?: string; page?: number; heading?: string } | null;
  filename: string;
}

const CHUNK_COLUMNS = `c.id, c.document_id, c.collection_id, c.ordinal, c.content, c.primary_key, c.primary_tag,
  c.metadata, d.filename`;

/** SQL conditions (on `c` chunks and `d` documents) for the metadata filters. */
function filterSql(filters: Record<string, string>): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [key, value] of Object.entries(filters)) {
    if (!key || key.length > 100)
      throw DomainError.invalidArgument('options.filters', 'keys must be 1–100 characters');
    if (key === 'document_id') {
      const id = Number(value);
      if (!Number.isInteger(id) || id <= 0)
        throw DomainError.invalidArgument('options.filters', 'document_id must be a positive id');
      parts.push('c.document_id = ?');
      params.push(id);
    } else if (key === 'filename' || key === 'file_type') {
      parts.push(`d.${key} = ?`);
      params.push(value);
    } else if (key === 'heading' || key === 'sheet') {
      parts.push('c.metadata @> ?::jsonb');
      params.push(JSON.stringify({ [key]: value }));
    } else {
      parts.push('c.metadata @> ?::jsonb');
      params.push(JSON.stringify({ fields: { [key]: normaliseValue(value) } }));
    }
  }
  return { where: parts.map((p) => ` and ${p}`).join(''), params };
}

/**
 * Inactive collections (switched off, or their owner deleted) are not searched: naming one
 * is FAILED_PRECONDITION. Their managers still see and manage them.
 */
function assertActive(collection: CollectionRow): CollectionRow {
  if (!collection.isActive) {
    throw DomainError.failedPrecondition(
      `collection ${collection.id} is inactive; an owner or admin may reactivate it`,
      'COLLECTION_INACTIVE',
    );
  }
  return collection;
}

export class RetrievalUseCases {
  constructor(
    private readonly deps: UseCaseDeps,
    private readonly collections: CollectionUseCases,
    private readonly tokenizer: Tokenizer,
    /** Absent when no LLM endpoint is configured. */
    private readonly synthesizer?: AnswerSynthesizer,
  ) {}

  /** Hybrid retrieval over collections the caller may read. */
  async retrieve(
    em: EntityManager,
    caller: Caller,
    collectionIds: number[],
    query: string,
    options: RetrievalOptions,
    signal?: AbortSignal,
  ): Promise<Passage[]> {
    const q = query.trim();
    if (!q) throw DomainError.invalidArgument('query', 'is required');
    if (q.length > 2000) throw DomainError.invalidArgument('query', 'must be at most 2000 characters');
    const topK = options.topK || 5;
    if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K)
      throw DomainError.invalidArgument('options.top_k', `must be between 1 and ${MAX_TOP_K}`);
    const threshold = options.scoreThreshold ?? 0;
    if (!(threshold >= 0 && threshold <= 1))
      throw DomainError.invalidArgument('options.score_threshold', 'must be within [0, 1]');
    const vectorWeight = options.vectorWeight ?? 0.5;
    if (!(vectorWeight >= 0 && vectorWeight <= 1))
      throw DomainError.invalidArgument('options.vector_weight', 'must be within [0, 1]');
    const ids = [...new Set(collectionIds)];
    if (!ids.length) throw DomainError.invalidArgument('collection_ids', 'name at least one collection');
    if (ids.length > 20) throw DomainError.invalidArgument('collection_ids', 'at most 20 collections');
    // One snapshot for every read: an overwrite committing mid-query is seen entirely or not at all.
    return em.transactional(
      (tem) =>
        this.search(
          tem,
          caller,
          ids,
          q,
          { topK, threshold, vectorWeight, fusion: options.fusion ?? 'rrf', filters: options.filters ?? {} },
          signal,
        ),
      { isolationLevel: IsolationLevel.REPEATABLE_READ },
    );
  }

  private async search(
    em: EntityManager,
    caller: Caller,
    ids: number[],
    q: string,
    options: {
      topK: number;
      threshold: number;
      vectorWeight: number;
      fusion: Fusion;
      filters: Record<string, string>;
    },
    signal?: AbortSignal,
  ): Promise<Passage[]> {
    const { topK, threshold, vectorWeight } = options;
    const cols: CollectionRow[] = [];
    for (const id of ids) cols.push(assertActive(await this.collections.get(em, caller, id)));
    const filter = filterSql(options.filters);
    const depth = Math.min(200, topK * 4);
    const candidates = new Map<string, Candidate>();
    const candidate = (id: string) => {
      let c = candidates.get(id);
      if (!c) candidates.set(id, (c = { id, exact: false }));
      return c;
    };

    // Vector search (embedding + Chroma) runs while Postgres does the exact and keyword search.
    const vectorHits = (async () => {
      const hits: { id: string; similarity: number }[] = [];
      if (vectorWeight === 0) return hits;
      const vectorsByModel = new Map<string, number[]>();
      for (const col of cols) {
        if (!col.chromaCollectionId || !col.chunkCount) continue;
        let vector = vectorsByModel.get(col.embeddingModel);
        if (!vector) {
          [vector] = await this.deps.embeddings.get(col.embeddingModel).embed([q], signal);
          vectorsByModel.set(col.embeddingModel, vector);
        }
        hits.push(...(await this.vectorQuery(col.chromaCollectionId, vector, depth)));
      }
      return hits.sort((a, b) => b.similarity - a.similarity);
    })();
    vectorHits.catch(() => undefined); // awaited below; no unhandled rejection meanwhile

    // Exact primary tag.
    const tags = tagQueries(q, normaliseValue);
    if (tags.values.length) {
      const rows = await sql<{ id: string }>(
        em,
        `select c.id from knowledge.knowledge_chunks c join knowledge.knowledge_documents d on d.id = c.document_id
         where c.collection_id in (?) and c.primary_tag in (?)${tags.key ? ' and c.primary_key = ?' : ''}${filter.where}
         order by c.document_id, c.ordinal limit ?`,
        [ids, tags.values, ...(tags.key ? [tags.key] : []), ...filter.params, MAX_TOP_K],
      );
      for (const r of rows) candidate(r.id).exact = true;
    }

    // Keyword: jieba tokens against the tsvector.
    const tsquery = tsqueryOf(this.tokenizer.queryTokens(q));
    if (tsquery) {
      const rows = await sql<{ id: string; rank: number }>(
        em,
        `select c.id, ts_rank(c.tsv, q) as rank
         from knowledge.knowledge_chunks c join knowledge.knowledge_documents d on d.id = c.document_id,
              to_tsquery('simple', ?) q
         where c.collection_id in (?) and c.tsv @@ q${filter.where}
         order by rank desc, c.id limit ?`,
        [tsquery, ids, ...filter.params, depth],
      );
      const best = rows.length ? Number(rows[0].rank) || 1 : 1;
      rows.forEach((r, i) => {
        const c = candidate(r.id);
        c.keywordRank = i + 1;
        c.keywordScore = Math.min(1, Number(r.rank) / best);
      });
    }

    const hits = await vectorHits;
    hits.slice(0, depth).forEach((h, i) => {
      const c = candidate(h.id);
      c.vectorRank = i + 1;
      c.vectorScore = h.similarity;
    });

    if (!candidates.size) return [];
    // Only chunks Postgres knows (completed documents) that pass the filters.
    const rows = await sql<ChunkHit>(
      em,
      `select ${CHUNK_COLUMNS} from knowledge.knowledge_chunks c
       join knowledge.knowledge_documents d on d.id = c.document_id
       where c.id in (?) and c.collection_id in (?)${filter.where}`,
      [[...candidates.keys()], ids, ...filter.params],
    );
    const fusion = options.fusion;
    return rows
      .map((row) => {
        const c = candidates.get(row.id)!;
        const matchedBy: MatchSource[] = [];
        if (c.exact) matchedBy.push('exact');
        if (c.keywordRank) matchedBy.push('keyword');
        if (c.vectorRank) matchedBy.push('vector');
        const meta = row.metadata ?? {};
        return {
          content: row.content,
          score: fusedScore(c, fusion, vectorWeight),
          matchedBy,
          vectorScore: c.vectorScore ?? 0,
          keywordScore: c.keywordScore ?? 0,
          primaryTag: row.primary_tag ? `${row.primary_key}=${row.primary_tag}` : '',
          citation: {
            collectionId: row.collection_id,
            documentId: row.document_id,
            filename: row.filename,
            chunkId: row.id,
            ordinal: row.ordinal,
            row: meta.row ?? 0,
            sheet: meta.sheet ?? '',
            page: meta.page ?? 0,
            heading: meta.heading ?? '',
          },
        };
      })
      .filter((p) => p.matchedBy.includes('exact') || p.score >= threshold)
      .sort(
        (a, b) =>
          b.score - a.score ||
          a.citation.documentId - b.citation.documentId ||
          a.citation.ordinal - b.citation.ordinal,
      )
      .slice(0, topK);
  }

  /**
   * A reindex drops the old Chroma collection right after switching to the new one: a query
   * whose snapshot still names the old one then answers from exact and keyword hits alone.
   */
  private async vectorQuery(name: string, vector: number[], k: number) {
    try {
      return await this.deps.chroma.query(name, vector, k);
    } catch (error) {
      if (isDomainError(error) && error.kind === 'notFound') return [];
      throw error;
    }
  }

  /** Retrieval over one collection (optionally answered by the LLM), logged to the query history. */
  async query(
    em: EntityManager,
    caller: Caller,
    collectionId: number,
    query: string,
    options: RetrievalOptions & { synthesize?: boolean },
    signal?: AbortSignal,
  ): Promise<{ id: number; passages: Passage[]; queryTimeMs: number; answer: string }> {
    checkId('collection_id', collectionId);
    if (options.synthesize && !this.synthesizer) {
      throw DomainError.failedPrecondition(
        'no LLM endpoint is configured (LLM_API_URL)',
        'LLM_NOT_CONFIGURED',
      );
    }
    const started = performance.now();
    const passages = await this.retrieve(em, caller, [collectionId], query, options, signal);
    const answer =
      options.synthesize && this.synthesizer
        ? await this.synthesizer.answer(
            query.trim(),
            passages.map((p) => ({
              content: p.content,
              filename: p.citation.filename,
              location: [
                p.citation.sheet && `sheet ${p.citation.sheet}`,
                p.citation.row && `row ${p.citation.row}`,
                p.citation.page && `page ${p.citation.page}`,
                p.citation.heading,
              ]
                .filter(Boolean)
                .join(', '),
            })),
            signal,
          )
        : '';
    const queryTimeMs = Math.round(performance.now() - started);
    const row = em.create(RagQueryEntity, {
      collectionId,
      queryText: query.trim(),
      resultCount: passages.length,
      responseText: {
        passages: passages.map((p) => ({
          score: Number(p.score.toFixed(4)),
          matched_by: p.matchedBy,
          ...p.citation,
        })),
        ...(answer ? { answer } : {}),
      },
      userId: caller.claims.userId,
      queryTimeMs,
      createdAt: new Date(),
    });
    await em.flush();
    return { id: row.id, passages, queryTimeMs, answer };
  }

  /** A collection's history: the caller's own queries, or all for its managers. */
  async history(
    em: EntityManager,
    caller: Caller,
    input: { collectionId: number; pageSize?: number; pageToken?: string },
  ) {
    const collection = await this.collections.get(em, caller, input.collectionId);
    const where: FilterQuery<RagQueryRow> = canManage(caller, collection)
      ? { collectionId: input.collectionId }
      : { collectionId: input.collectionId, userId: caller.claims.userId };
    return findIdPage(em, RagQueryEntity, where, input);
  }
}
