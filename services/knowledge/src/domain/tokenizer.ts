import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict';

const WORD = /[\p{L}\p{N}]/u;

/** Question words and particles that carry no meaning for keyword search. */
const QUERY_STOPWORDS = new Set(
  '的 了 是 在 和 与 或 及 吗 呢 啊 吧 么 怎么 怎么办 怎样 如何 什么 为什么 为何 哪些 哪个 请问 这个 那个 这 那 有 会 能 要 就 都 也 对 把 被 让 时 时候 一下 应该 需要 处理 办'.split(
    ' ',
  ),
);

/** jieba segmentation for search (search-mode cut, HMM on), lower-cased, punctuation dropped. */
export class Tokenizer {
  private readonly jieba = Jieba.withDict(dict);

  tokens(text: string): string[] {
    return this.jieba
      .cutForSearch(text.normalize('NFKC').toLowerCase(), true)
      .map((t) => t.trim())
      .filter((t) => t && WORD.test(t));
  }

  /** Tokens of a query, without question words; all tokens when nothing else is left. */
  queryTokens(text: string): string[] {
    const all = this.tokens(text);
    const kept = all.filter((t) => !QUERY_STOPWORDS.has(t));
    return kept.length ? kept : all;
  }
}

/**
 * The tokens keyword search looks for: single characters are dropped when longer tokens
 * exist (in Chinese they occur in a large share of all chunks and mean little alone).
 */
export function keywordTokens(tokens: string[]): string[] {
  const long = tokens.filter((t) => [...t].length > 1);
  return long.length ? long : tokens;
}

/** Distinct tokens safe inside a `to_tsquery('simple', …)` expression: letters and digits, quoted. */
export function tsqueryTokens(tokens: string[]): string[] {
  const clean = [...new Set(tokens.map((t) => t.replace(/[^\p{L}\p{N}]/gu, '')).filter(Boolean))];
  return clean.map((t) => `'${t}'`);
}

/** A `to_tsquery('simple', …)` expression of the tokens, joined by `op`. */
export const tsqueryOf = (tokens: string[], op: '|' | '&' = '|'): string =>
  tsqueryTokens(tokens).join(` ${op} `);
