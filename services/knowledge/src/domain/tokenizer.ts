import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict';

const WORD = /[\p{L}\p{N}]/u;

/** jieba segmentation for search (search-mode cut, HMM on), lower-cased, punctuation dropped. */
export class Tokenizer {
  private readonly jieba = Jieba.withDict(dict);

  tokens(text: string): string[] {
    return this.jieba
      .cutForSearch(text.normalize('NFKC').toLowerCase(), true)
      .map((t) => t.trim())
      .filter((t) => t && WORD.test(t));
  }
}

/** Tokens safe inside a `to_tsquery('simple', …)` expression: letters and digits only. */
export function tsqueryOf(tokens: string[]): string {
  const clean = [...new Set(tokens.map((t) => t.replace(/[^\p{L}\p{N}]/gu, '')).filter(Boolean))];
  return clean.map((t) => `'${t}'`).join(' | ');
}
