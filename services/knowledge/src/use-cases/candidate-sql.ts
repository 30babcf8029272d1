import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './caller';

/** A chunk row as retrieval returns it. */
export interface ChunkHit {
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

/** A chunk found by Postgres: exact primary tag and/or keyword rank (1-based) and score. */
export interface PostgresHit extends ChunkHit {
  exact: boolean;
  keyword_pos: number | null;
  keyword_rank: number | null;
}

const CHUNK_COLUMNS = `c.id, c.document_id, c.collection_id, c.ordinal, c.content, c.primary_key, c.primary_tag,
  c.metadata, d.filename`;

/**
 * Keyword matches taken at most per branch (all tokens; each single token): ranking reads
 * every taken row's tsvector, so words that occur in a large share of 100,000 chunks must
 * not be ranked in full. Taking per token keeps the rows of the rarer, telling words.
 */
export const KEYWORD_RANK_CAP = 200;
/** At most this many distinct tokens of a query are looked up one by one. */
export const KEYWORD_TOKENS_MAX = 8;

export interface CandidateQuery {
  collectionIds: number[];
  /** Exact primary-tag lookup, if the query implies one. */
  tags?: { key?: string; values: string[]; limit: number };
  /** Keyword search: tsquery-safe tokens (see tsqueryOf); chunks with all of them rank first. */
  keyword?: { tokens: string[]; depth: number };
  /** Metadata filter conditions on `c`/`d` (each ` and …`) and their parameters. */
  filter: { where: string; params: unknown[] };
}

/**
 * Exact-tag and keyword candidates, with their chunk rows, in one statement (one round trip,
 * one snapshot). Keyword (GIN index on the tsvector): chunks with all the query's tokens come
 * first, then, when they are fewer than `depth`, chunks with any of them; each branch takes
 * at most KEYWORD_RANK_CAP rows, ranked by `ts_rank` against the any-token query.
 */
export async function postgresCandidates(em: EntityManager, q: CandidateQuery): Promise<PostgresHit[]> {
  const ctes: string[] = [];
  const params: unknown[] = [];
  const hits: string[] = [];
  const scope = `from knowledge.knowledge_chunks c join knowledge.knowledge_documents d on d.id = c.document_id
       where c.collection_id in (?)`;
  if (q.tags?.values.length) {
    ctes.push(`exact as (select c.id ${scope} and c.primary_tag in (?)${q.tags.key ? ' and c.primary_key = ?' : ''}${q.filter.where}
       order by c.document_id, c.ordinal limit ?)`);
    params.push(
      q.collectionIds,
      q.tags.values,
      ...(q.tags.key ? [q.tags.key] : []),
      ...q.filter.params,
      q.tags.limit,
    );
    hits.push('select id, true as exact, null::int as keyword_pos, null::real as keyword_rank from exact');
  }
  if (q.keyword) {
    const tokens = q.keyword.tokens.slice(0, KEYWORD_TOKENS_MAX);
    ctes.push(`tq as (select to_tsquery('simple', ?) as q_all, to_tsquery('simple', ?) as q_any)`);
    params.push(tokens.join(' & '), tokens.join(' | '));
    ctes.push(
      `kw_all as (select c.id, c.tsv ${scope} and c.tsv @@ (select q_all from tq)${q.filter.where} limit ?)`,
    );
    params.push(q.collectionIds, ...q.filter.params, KEYWORD_RANK_CAP);
    // Fewer than `depth` chunks with every token: chunks with any, taken token by token.
    const perToken = tokens.map(
      () => `(select c.id, c.tsv ${scope} and c.tsv @@ to_tsquery('simple', ?)${q.filter.where}
         and (select count(*) from kw_all) < ? limit ?)`,
    );
    ctes.push(`kw_any as (${perToken.join(' union all ')})`);
    for (const token of tokens) {
      params.push(q.collectionIds, token, ...q.filter.params, q.keyword.depth, KEYWORD_RANK_CAP);
    }
    ctes.push(`kw as (select id, row_number() over (order by tier, rank desc, id) as pos, rank from (
         select distinct on (id) id, tier, ts_rank(tsv, (select q_any from tq)) as rank
         from (select id, tsv, 0 as tier from kw_all union all select id, tsv, 1 from kw_any) m
         order by id, tier) r
       order by tier, rank desc, id limit ?)`);
    params.push(q.keyword.depth);
    hits.push('select id, false as exact, pos::int as keyword_pos, rank as keyword_rank from kw');
  }
  if (!hits.length) return [];
  return sql<PostgresHit>(
    em,
    `with ${ctes.join(',\n')},
     hits as (${hits.join(' union all ')}),
     agg as (select id, bool_or(exact) as exact, min(keyword_pos) as keyword_pos, max(keyword_rank) as keyword_rank
             from hits group by id)
     select ${CHUNK_COLUMNS}, a.exact, a.keyword_pos, a.keyword_rank
     from agg a join knowledge.knowledge_chunks c on c.id = a.id join knowledge.knowledge_documents d on d.id = c.document_id`,
    params,
  );
}

/** The chunk rows of vector hits Postgres did not already return (completed documents, filters applied). */
export function chunkRows(
  em: EntityManager,
  ids: string[],
  collectionIds: number[],
  filter: { where: string; params: unknown[] },
): Promise<ChunkHit[]> {
  if (!ids.length) return Promise.resolve([]);
  return sql<ChunkHit>(
    em,
    `select ${CHUNK_COLUMNS} from knowledge.knowledge_chunks c
     join knowledge.knowledge_documents d on d.id = c.document_id
     where c.id in (?) and c.collection_id in (?)${filter.where}`,
    [ids, collectionIds, ...filter.params],
  );
}
