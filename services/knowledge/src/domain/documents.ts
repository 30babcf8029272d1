import { chunkSections, docxToMarkdown, htmlToMarkdown, markdownSections } from './text-chunker';
import { parseCsv, parseXlsx, ParseError, rowChunks, tableFromRecords, type Table } from './tabular';

export const FILE_TYPES = ['csv', 'xlsx', 'md', 'txt', 'html', 'docx', 'pdf'] as const;
export type FileType = (typeof FILE_TYPES)[number];

/** Extension → file type; `htm` and `markdown` are aliases. Undefined when unsupported. */
export function fileTypeOf(filename: string): FileType | undefined {
  const ext = /\.([^./\\]+)$/.exec(filename)?.[1]?.toLowerCase();
  const alias: Record<string, FileType> = { htm: 'html', markdown: 'md' };
  const t = (ext && (alias[ext] ?? ext)) as FileType | undefined;
  return t && (FILE_TYPES as readonly string[]).includes(t) ? t : undefined;
}

export interface ChunkMetadata {
  row?: number;
  sheet?: string;
  page?: number;
  heading?: string;
  /** Tabular rows: column → normalised value. */
  fields?: Record<string, string>;
}

export interface ChunkDraft {
  ordinal: number;
  content: string;
  primaryKey?: string;
  primaryTag?: string;
  metadata: ChunkMetadata;
}

export interface ParsedDocument {
  chunks: ChunkDraft[];
  /** Rows or sections found by the parser. */
  units: number;
  meta: Record<string, unknown>;
  /** Plain text kept on the document row (truncated). */
  content: string;
}

function utf8(bytes: Uint8Array, kind: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ParseError(`${kind}: the file is not UTF-8 text`);
  }
}

function fromTables(tables: Table[]): ParsedDocument {
  const chunks: ChunkDraft[] = [];
  for (const table of tables) {
    for (const row of rowChunks(table)) {
      if (!row.text) continue;
      chunks.push({
        ordinal: chunks.length,
        content: row.text,
        primaryKey: row.primaryKey,
        primaryTag: row.primaryTag || undefined,
        metadata: { row: row.row, ...(row.sheet ? { sheet: row.sheet } : {}), fields: row.fields },
      });
    }
  }
  if (!chunks.length) throw new ParseError('table: no data rows below the header');
  return {
    chunks,
    units: tables.reduce((n, t) => n + t.rows.length, 0),
    meta: {
      sheets: tables.map((t) => ({ name: t.sheet ?? '', columns: t.header, rows: t.rows.length })),
      primary_tag_column: tables[0].header[0],
    },
    content: chunks
      .slice(0, 200)
      .map((c) => c.content)
      .join('\n'),
  };
}

/** PDF pages (see pdfPages) → chunks citing their page. */
export function parsePdfPages(
  pages: string[],
  options: { chunkSize: number; chunkOverlap: number },
): ParsedDocument {
  const sections = pages
    .map((text, i) => ({ heading: '', text: text.replace(/[ \t]+/g, ' ').trim(), page: i + 1 }))
    .filter((s) => s.text);
  const drafts = chunkSections(sections, options.chunkSize, options.chunkOverlap);
  if (!drafts.length)
    throw new ParseError('pdf: the document has no extractable text (scanned images need OCR)');
  return {
    chunks: drafts.map((c, ordinal) => ({ ordinal, content: c.text, metadata: { page: c.page } })),
    units: pages.length,
    meta: { pages: pages.length },
    content: sections
      .map((s) => s.text)
      .join('\n\n')
      .slice(0, 100_000),
  };
}

/** Parses and chunks one file (not PDF: see parsePdfPages). Throws ParseError with a message fit for `processing_error`. */
export function parseDocument(
  type: Exclude<FileType, 'pdf'>,
  bytes: Uint8Array,
  options: { chunkSize: number; chunkOverlap: number },
): ParsedDocument {
  if (type === 'csv') return fromTables([tableFromRecords(parseCsv(utf8(bytes, 'csv')))]);
  if (type === 'xlsx') return fromTables(parseXlsx(bytes));
  let markdown: string;
  if (type === 'md') markdown = utf8(bytes, 'md');
  else if (type === 'txt') markdown = utf8(bytes, 'txt').replace(/^(#{1,6})(?=\s)/gm, '\\$1');
  else if (type === 'html') markdown = htmlToMarkdown(utf8(bytes, 'html'));
  else markdown = docxToMarkdown(bytes);
  if (markdown.includes('\u0000')) throw new ParseError(`${type}: the file contains binary data`);
  const sections = type === 'txt' ? [{ heading: '', text: markdown.trim() }] : markdownSections(markdown);
  const drafts = chunkSections(
    sections.filter((s) => s.text),
    options.chunkSize,
    options.chunkOverlap,
  );
  if (!drafts.length) throw new ParseError(`${type}: the document has no text`);
  return {
    chunks: drafts.map((c, ordinal) => ({
      ordinal,
      content: c.text,
      metadata: { ...(c.heading ? { heading: c.heading } : {}), ...(c.page ? { page: c.page } : {}) },
    })),
    units: sections.length,
    meta: {
      sections: sections.length,
      headings: [...new Set(sections.map((s) => s.heading).filter(Boolean))].slice(0, 100),
    },
    content: markdown.slice(0, 100_000),
  };
}

export { ParseError };
