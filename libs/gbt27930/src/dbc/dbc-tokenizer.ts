/** Tokenizer for DBC text; every token carries its 1-based line and column. */
import { DbcParseError } from './dbc-errors';

/** Token kinds. */
export type DbcTokenKind = 'ident' | 'number' | 'string' | 'punct';

/** One token. */
export interface DbcToken {
  kind: DbcTokenKind;
  text: string;
  line: number;
  column: number;
}

const PUNCT = new Set([':', '|', '@', '(', ')', '[', ']', ',', ';', '+', '-']);

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Splits DBC text into tokens. Numbers are unsigned; `-`/`+` are separate punctuation. */
export function tokenizeDbc(text: string): DbcToken[] {
  const out: DbcToken[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 0xfeff) {
      i++;
      continue;
    }
    const column = i - lineStart + 1;
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++; // `//` comment
      continue;
    }
    if (c === 34) {
      let j = i + 1;
      let s = '';
      const startLine = line;
      for (;;) {
        if (j >= n) throw new DbcParseError('DBC_SYNTAX', 'unterminated string', startLine, column);
        const d = text.charCodeAt(j);
        if (d === 92 && j + 1 < n) {
          s += text[j + 1];
          j += 2;
          continue;
        }
        if (d === 34) break;
        if (d === 10) {
          line++;
          lineStart = j + 1;
        }
        s += text[j];
        j++;
      }
      out.push({ kind: 'string', text: s, line: startLine, column });
      i = j + 1;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      let j = i;
      while (j < n && (isDigit(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) j++;
      if (j < n && (text[j] === 'e' || text[j] === 'E')) {
        let k = j + 1;
        if (text[k] === '+' || text[k] === '-') k++;
        if (isDigit(text.charCodeAt(k))) {
          while (k < n && isDigit(text.charCodeAt(k))) k++;
          j = k;
        }
      }
      if (j < n && text[j] === 'x' && j === i + 1 && text[i] === '0') {
        j++;
        while (j < n && /[0-9a-fA-F]/.test(text[j])) j++;
      }
      // identifiers may start with digits in the wild (e.g. `3M` mux tokens never do); keep numbers strict
      out.push({ kind: 'number', text: text.slice(i, j), line, column });
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (isIdentStart(d) || isDigit(d)) j++;
        else break;
      }
      out.push({ kind: 'ident', text: text.slice(i, j), line, column });
      i = j;
      continue;
    }
    const ch = text[i];
    if (PUNCT.has(ch)) {
      out.push({ kind: 'punct', text: ch, line, column });
      i++;
      continue;
    }
    throw new DbcParseError('DBC_SYNTAX', `unexpected character ${JSON.stringify(ch)}`, line, column);
  }
  return out;
}
