import { unzipSync, strFromU8 } from 'fflate';

/** A parse failure with a message fit for `processing_error`. */
export class ParseError extends Error {}

export interface TableRow {
  /** Spreadsheet row number (the header is row 1). */
  row: number;
  sheet?: string;
  cells: string[];
}

export interface Table {
  sheet?: string;
  header: string[];
  rows: TableRow[];
}

/** `1001.0` → `1001`, trims; other values unchanged. */
export function normaliseValue(value: string): string {
  const v = value.trim();
  return /^[+-]?\d+\.0+$/.test(v) ? v.replace(/\.0+$/, '') : v;
}

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF); a UTF-8 BOM is dropped. */
export function parseCsv(text: string): string[][] {
  const src = text.replace(/^\uFEFF/, '');
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let quoteLine = 0;
  let line = 1;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
      quoteLine = line;
    } else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      line++;
    } else field += ch;
  }
  if (quoted) throw new ParseError(`CSV: unterminated quoted field starting on line ${quoteLine}`);
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** First non-empty record is the header; blank records are skipped but keep their row numbers. */
export function tableFromRecords(records: string[][], sheet?: string): Table {
  const blank = (r: string[]) => r.every((c) => c.trim() === '');
  const headerIndex = records.findIndex((r) => !blank(r));
  if (headerIndex < 0) throw new ParseError(`${sheet ? `sheet "${sheet}"` : 'table'}: no header row`);
  const header = records[headerIndex].map((h) => h.trim());
  if (!header[0])
    throw new ParseError(`${sheet ? `sheet "${sheet}"` : 'table'}: the first header cell is empty`);
  const rows: TableRow[] = [];
  for (let i = headerIndex + 1; i < records.length; i++) {
    if (!blank(records[i])) rows.push({ row: i + 1, sheet, cells: records[i] });
  }
  return { sheet, header, rows };
}

export interface RowChunk {
  text: string;
  /** Header of the first column. */
  primaryKey: string;
  /** Normalised first-column value (may be empty). */
  primaryTag: string;
  fields: Record<string, string>;
  row: number;
  sheet?: string;
}

/** One chunk per row: `key=value; …` over the non-empty cells, first column as the primary tag. */
export function rowChunks(table: Table): RowChunk[] {
  return table.rows.map((r) => {
    const fields: Record<string, string> = {};
    const parts: string[] = [];
    table.header.forEach((key, i) => {
      const value = normaliseValue(r.cells[i] ?? '');
      const name = key || `column${i + 1}`;
      if (!value) return;
      fields[name] = value;
      parts.push(`${name}=${value}`);
    });
    return {
      text: parts.join('; '),
      primaryKey: table.header[0],
      primaryTag: normaliseValue(r.cells[0] ?? ''),
      fields,
      row: r.row,
      sheet: r.sheet,
    };
  });
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return XML_ENTITIES[e.toLowerCase()] ?? '';
  });
}

/** Opens an OOXML (zip) container; a clear ParseError when it is not one. */
export function openZip(bytes: Uint8Array, kind: string): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes);
  } catch (error) {
    throw new ParseError(`${kind}: not a valid ${kind} file (${(error as Error).message || 'corrupt zip'})`);
  }
}

const columnIndex = (ref: string) => {
  const letters = /^[A-Z]+/.exec(ref)?.[0] ?? 'A';
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
};

const textOf = (xml: string) =>
  [...xml.matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>|<t\s*\/>/g)].map((m) => decodeXml(m[1] ?? '')).join('');

/** Every sheet of an .xlsx workbook as a table (shared and inline strings, numbers, booleans). */
export function parseXlsx(bytes: Uint8Array): Table[] {
  const files = openZip(bytes, 'xlsx');
  const read = (name: string) => (files[name] ? strFromU8(files[name]) : undefined);
  const workbook = read('xl/workbook.xml');
  if (!workbook) throw new ParseError('xlsx: xl/workbook.xml is missing');
  const rels = read('xl/_rels/workbook.xml.rels') ?? '';
  const targets = new Map<string, string>();
  for (const m of rels.matchAll(/<Relationship\b[^>]*>/g)) {
    const id = /\bId="([^"]+)"/.exec(m[0])?.[1];
    const target = /\bTarget="([^"]+)"/.exec(m[0])?.[1];
    if (id && target) targets.set(id, target.replace(/^\/?(xl\/)?/, 'xl/'));
  }
  const shared = [...(read('xl/sharedStrings.xml') ?? '').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
    textOf(m[1]),
  );
  const tables: Table[] = [];
  for (const m of workbook.matchAll(/<sheet\b[^>]*>/g)) {
    const name = decodeXml(/\bname="([^"]*)"/.exec(m[0])?.[1] ?? '');
    const rid = /\br:id="([^"]+)"/.exec(m[0])?.[1] ?? '';
    const xml = read(targets.get(rid) ?? '');
    if (xml === undefined) throw new ParseError(`xlsx: the data of sheet "${name}" is missing`);
    const records: string[][] = [];
    for (const r of xml.matchAll(/<row\b([^>]*)>([\s\S]*?)<\/row>/g)) {
      const rowNumber = Number(/\br="(\d+)"/.exec(r[1])?.[1] ?? records.length + 1);
      const cells: string[] = [];
      for (const c of r[2].matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
        const attrs = c[1];
        const body = c[2] ?? '';
        const ref = /\br="([A-Z]+\d+)"/.exec(attrs)?.[1];
        const type = /\bt="([^"]+)"/.exec(attrs)?.[1];
        const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
        let value: string;
        if (type === 's') {
          const s = shared[Number(v)];
          if (s === undefined)
            throw new ParseError(`xlsx: sheet "${name}" cell ${ref} names a missing string`);
          value = s;
        } else if (type === 'inlineStr') value = textOf(body);
        else if (type === 'b') value = v === '1' ? 'TRUE' : 'FALSE';
        else value = decodeXml(v ?? '');
        cells[ref ? columnIndex(ref) : cells.length] = value;
      }
      records[rowNumber - 1] = Array.from(cells, (c) => c ?? '');
    }
    const dense = Array.from(records, (r) => r ?? []);
    if (dense.every((r) => r.every((c) => !c.trim()))) continue;
    tables.push(tableFromRecords(dense, name));
  }
  if (!tables.length) throw new ParseError('xlsx: the workbook has no rows');
  return tables;
}
