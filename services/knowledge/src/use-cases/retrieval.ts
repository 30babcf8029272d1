import { IsolationLevel, type EntityManager, type FilterQuery } from '@mikro-orm/postgresql';
import { DomainError, isDomainError } from '@charge/errors';
import { fusedScore, tagQueries, type Candidate, type Fusion } from '../domain/fusion';
import { normaliseValue } from '../domain/tabular';
import { keywordTokens, tsqueryTokens, type Tokenizer } from '../domain/tokenizer';
import { CollectionEntity, type CollectionRow } from '../persistence/collection.entity';
import type { VectorHit } from '../vector/chroma-store';
import { chunkRows, postgresCandidates, type ChunkHit } from './candidate-sql';
import { RagQueryEntity, type RagQueryRow } from '../persistence/rag-query.entity';
import { findIdPage } from '@charge/service-kit';
import { canManage, canRead, checkId, type Caller, type UseCaseDeps } from './caller';
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

/** Query embeddings kept (per model and query text). */
const QUERY_VECTOR_CACHE = 1000;

/** A passage from its chunk row and its fused candidate. */
function toPassage(row: ChunkHit, c: Candidate, score: number): Passage {
  const matchedBy: MatchSource[] = [];
  if (c.exact) matchedBy.push('exact');
  if (c.keywordRank) matchedBy.push('keyword');
  if (c.vectorRank) matchedBy.push('vector');
  const meta = row.metadata ?? {};
  return {
    content: row.content,
    score,
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
}

export class RetrievalUseCases {
  private readonly queryVectors = new Map<string, number[]>();

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
    const cols = await this.readable(em, caller, ids);
    const filter = filterSql(options.filters);
    const depth = Math.min(200, topK * 4);

    // Vector search (query embedding + Chroma) runs while Postgres finds the exact and keyword hits.
    const vectorHits = this.vectorHits(cols, q, depth, vectorWeight, signal);
    vectorHits.catch(() => undefined); // awaited below; no unhandled rejection meanwhile

    const tags = tagQueries(q, normaliseValue);
    const tokens = tsqueryTokens(keywordTokens(this.tokenizer.queryTokens(q)));
    const rows = await postgresCandidates(em, {
      collectionIds: ids,
      tags: tags.values.length ? { ...tags, limit: MAX_TOP_K } : undefined,
      keyword: tokens.length ? { tokens, depth } : undefined,
      filter,
    });
    const candidates = new Map<string, Candidate>();
    const found = new Map<string, ChunkHit>();
    const best = Math.max(0, ...rows.map((r) => Number(r.keyword_rank) || 0)) || 1;
    for (const r of rows) {
      found.set(r.id, r);
      candidates.set(r.id, {
        id: r.id,
        exact: r.exact,
        ...(r.keyword_pos
          ? { keywordRank: Number(r.keyword_pos), keywordScore: Math.min(1, Number(r.keyword_rank) / best) }
          : {}),
      });
    }
    const hits = (await vectorHits).slice(0, depth);
    hits.forEach((h, i) => {
      let c = candidates.get(h.id);
      if (!c) candidates.set(h.id, (c = { id: h.id, exact: false }));
      c.vectorRank = i + 1;
      c.vectorScore = h.similarity;
    });
    // Rows of the vector-only hits (only chunks Postgres knows, passing the filters).
    const missing = hits.map((h) => h.id).filter((id) => !found.has(id));
    for (const row of await chunkRows(em, missing, ids, filter)) found.set(row.id, row);

    return [...found.values()]
      .map((row) => {
        const c = candidates.get(row.id)!;
        return toPassage(row, c, fusedScore(c, options.fusion, vectorWeight));
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

  /** The named collections, each readable by the caller and active (one query). */
  private async readable(em: EntityManager, caller: Caller, ids: number[]): Promise<CollectionRow[]> {
    for (const id of ids) checkId('collection_ids', id);
    const rows = await em.find(CollectionEntity, { id: { $in: ids } }, { refresh: true });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => {
      const row = byId.get(id);
      if (!row || !canRead(caller, row)) throw DomainError.notFound('collection', id);
      return assertActive(row);
    });
  }

  /** Chroma top-k over every collection with vectors, best first (one query embedding per model). */
  private async vectorHits(
    cols: CollectionRow[],
    q: string,
    depth: number,
    vectorWeight: number,
    signal?: AbortSignal,
  ): Promise<VectorHit[]> {
    if (vectorWeight === 0) return [];
    const searched = cols.filter((c) => c.chromaCollectionId && c.chunkCount);
    const results = await Promise.all(
      searched.map(async (col) =>
        this.vectorQuery(
          col.chromaCollectionId!,
          await this.queryVector(col.embeddingModel, q, signal),
          depth,
        ),
      ),
    );
    return results.flat().sort((a, b) => b.similarity - a.similarity);
  }

  /** Query embeddings are cached per model and text (repeated questions, retries), least recently used out. */
  private async queryVector(model: string, q: string, signal?: AbortSignal): Promise<number[]> {
    const key = `${model}\u0000${q}`;
    const cached = this.queryVectors.get(key);
    if (cached) {
      this.queryVectors.delete(key);
      this.queryVectors.set(key, cached);
      return cached;
    }
    const [vector] = await this.deps.embeddings.get(model).embed([q], signal);
    this.queryVectors.set(key, vector);
    if (this.queryVectors.size > QUERY_VECTOR_CACHE) {
      this.queryVectors.delete(this.queryVectors.keys().next().value!);
    }
    return vector;
  }

  /**
   * A reindex drops the old Chroma collection right after switching to the new one: a query
   * whose snapshot still names the old one then answers from exact and keyword hits alone.
   */
  private async vectorQuery(name: string, vector: number[], k: number): Promise<VectorHit[]> {
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
