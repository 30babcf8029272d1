import { decodeXml, openZip, ParseError } from './tabular';
import { strFromU8 } from 'fflate';

export interface Section {
  /** Heading path, `Chapter > Section`; empty before the first heading. */
  heading: string;
  text: string;
  page?: number;
}

export interface TextChunk {
  text: string;
  heading: string;
  page?: number;
}

/** Splits markdown into sections at ATX headings (`#`…`######`), outside fenced code. */
export function markdownSections(markdown: string): Section[] {
  const sections: Section[] = [];
  const path: string[] = [];
  let lines: string[] = [];
  let fenced = false;
  const flush = () => {
    const text = lines.join('\n').trim();
    if (text) sections.push({ heading: path.filter(Boolean).join(' > '), text });
    lines = [];
  };
  for (const line of markdown.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) {
      flush();
      const level = m[1].length;
      path.length = level - 1;
      path[level - 1] = m[2].trim();
    } else lines.push(line);
  }
  flush();
  return sections;
}

const SEPARATORS = ['\n\n', '\n', '。', '！', '？', '；', '. ', '! ', '? ', '; ', '，', ', ', ' ', ''];

/** Recursive character splitting (largest separator first) into pieces of at most `size`. */
function split(text: string, size: number, separators: string[]): string[] {
  if (text.length <= size) return [text];
  const sepIndex = separators.findIndex((s) => s === '' || text.includes(s));
  const sep = separators[sepIndex];
  if (sep === '') {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
    return out;
  }
  const parts = text.split(sep).map((p, i, all) => (i < all.length - 1 ? p + sep : p));
  const out: string[] = [];
  let current = '';
  for (const part of parts) {
    if (part.length > size) {
      if (current) out.push(current);
      current = '';
      out.push(...split(part, size, separators.slice(sepIndex + 1)));
    } else if (current.length + part.length > size) {
      out.push(current);
      current = part;
    } else current += part;
  }
  if (current) out.push(current);
  return out;
}

/** Chunks of at most `size` characters; consecutive chunks of a section share `overlap`. */
export function chunkSections(sections: Section[], size: number, overlap: number): TextChunk[] {
  const chunks: TextChunk[] = [];
  for (const section of sections) {
    const step = Math.max(1, size - overlap);
    const pieces = split(section.text, step, SEPARATORS);
    let previous = '';
    for (const piece of pieces) {
      const tail = overlap > 0 && previous ? previous.slice(-overlap) : '';
      const text = (tail + piece).trim();
      previous = piece;
      if (text) chunks.push({ text, heading: section.heading, page: section.page });
    }
  }
  return chunks;
}

/** HTML → markdown-like text: headings become `#` lines, block elements break lines. */
export function htmlToMarkdown(html: string): string {
  const body = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi, (_, level: string, inner: string) => {
      const text = inner
        .replace(/<[^>]*>/g, '')
        .replace(/\s+/g, ' ')
        .trim();
      return `\n\n${'#'.repeat(Number(level))} ${text}\n\n`;
    })
    .replace(/<(br|hr)\b[^>]*>/gi, '\n')
    .replace(
      /<\/?(p|div|section|article|li|ul|ol|tr|table|blockquote|pre|dd|dt|main|header|footer)\b[^>]*>/gi,
      '\n',
    )
    .replace(/<\/?(td|th)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '');
  return decodeXml(body.replace(/&nbsp;/g, ' '))
    .split('\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

/** .docx → markdown-like text: paragraphs in order, `Heading N` styles as `#` lines. */
export function docxToMarkdown(bytes: Uint8Array): string {
  const files = openZip(bytes, 'docx');
  const doc = files['word/document.xml'];
  if (!doc) throw new ParseError('docx: word/document.xml is missing');
  const xml = strFromU8(doc);
  const lines: string[] = [];
  for (const p of xml.matchAll(/<w:p\b[^>]*?(?:\/>|>([\s\S]*?)<\/w:p>)/g)) {
    const body = p[1] ?? '';
    const text = [...body.matchAll(/<w:t(?:\s[^>]*)?>([\s\S]*?)<\/w:t>|<w:(tab|br)\b[^>]*\/>/g)]
      .map((m) => (m[2] === 'tab' ? '\t' : m[2] === 'br' ? '\n' : decodeXml(m[1] ?? '')))
      .join('');
    const style = /<w:pStyle\s+w:val="([^"]+)"/.exec(body)?.[1] ?? '';
    const level =
      /^(?:heading|标题)\s*([1-6])$/i.exec(style)?.[1] ?? (/^title$/i.test(style) ? '1' : undefined);
    lines.push(level && text.trim() ? `${'#'.repeat(Number(level))} ${text.trim()}` : text);
  }
  return lines.join('\n\n');
}
