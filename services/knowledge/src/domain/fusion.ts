/** Reciprocal-rank-fusion constant. */
export const RRF_K = 60;

export type Fusion = 'rrf' | 'weighted';

export interface Candidate {
  id: string;
  exact: boolean;
  /** 1-based rank in the vector list. */
  vectorRank?: number;
  vectorScore?: number;
  keywordRank?: number;
  /** Keyword score normalised to [0, 1] by the best keyword score of the query. */
  keywordScore?: number;
}

/**
 * Fused score in [0, 1]. RRF: Σ w/(k+rank), divided by its best possible value. Weighted:
 * w·cosine + (1−w)·keyword. Exact primary-tag matches score 1.
 */
export function fusedScore(c: Candidate, fusion: Fusion, vectorWeight: number): number {
  if (c.exact) return 1;
  if (fusion === 'weighted') {
    return vectorWeight * Math.max(0, c.vectorScore ?? 0) + (1 - vectorWeight) * (c.keywordScore ?? 0);
  }
  const kw = 1 - vectorWeight;
  const best = (vectorWeight + kw) / (RRF_K + 1);
  const v = c.vectorRank ? vectorWeight / (RRF_K + c.vectorRank) : 0;
  const k = c.keywordRank ? kw / (RRF_K + c.keywordRank) : 0;
  return best > 0 ? (v + k) / best : 0;
}

/** Tag lookups a query implies: `key=value` (key and value), or codes such as `1001`, `E-0x1F`. */
export function tagQueries(
  query: string,
  normalise: (v: string) => string,
): { key?: string; values: string[] } {
  const q = query.trim();
  const pair = /^([^=\s]{1,100})\s*[=＝:：]\s*(\S{1,100})$/u.exec(q);
  if (pair) return { key: pair[1], values: [normalise(pair[2])] };
  const values = new Set<string>();
  if (/^\S{1,64}$/u.test(q) && /\d/.test(q)) values.add(normalise(q));
  for (const m of q.matchAll(/[A-Za-z0-9][A-Za-z0-9._-]*/g)) {
    if (/\d/.test(m[0]) && m[0].length >= 2) values.add(normalise(m[0]));
  }
  return { values: [...values] };
}
