/**
 * The knowledge part of the `npm start` demo: a public collection of the GB/T 27930 finding
 * codes (written from the engine's own catalog: code, message, position, severity, Chinese
 * description), uploaded over REST as a CSV, followed to COMPLETED, then queried for the
 * findings of the demo's report — exact code match first, with its citation.
 */
import {
  BEM_FIELDS,
  BSM_FIELDS,
  BST_FIELDS,
  CEM_FIELDS,
  CST_FIELDS,
  FINDING_CATALOG,
} from '@charge/gbt27930';

const COLLECTION = 'GB/T 27930 finding codes (demo)';

type Rest = <T>(method: string, route: string, token?: string, body?: unknown) => Promise<T>;

interface Passage {
  content: string;
  score: number;
  primaryTag?: string;
  citation?: { filename?: string; row?: number };
}

/** One CSV row per finding code; the first column (故障码) is the primary tag. */
export function findingCodesCsv(): string {
  const texts = new Map<string, { message: string; text: string }>();
  for (const [message, fields] of [
    ['BST', BST_FIELDS],
    ['CST', CST_FIELDS],
    ['BEM', BEM_FIELDS],
    ['CEM', CEM_FIELDS],
    ['BSM', BSM_FIELDS],
  ] as const)
    for (const f of fields) texts.set(f.code, { message, text: f.text });
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = FINDING_CATALOG.map((d) => {
    const t = texts.get(d.code);
    return [d.code, t?.message ?? 'analyzer', d.source, d.severity, t?.text ?? d.source].map(quote).join(',');
  });
  return ['故障码,报文,位置,严重程度,说明', ...rows].join('\n') + '\n';
}

/** Runs the knowledge step; `say` prints a demo line. */
export async function demoKnowledge(
  gatewayUrl: string,
  rest: Rest,
  token: string,
  findingCodes: string[],
  say: (line: string) => void,
): Promise<void> {
  const { collections = [] } = await rest<{ collections?: { id: number; name: string }[] }>(
    'GET',
    '/v1/knowledge/collections?page.page_size=100',
    token,
  );
  const collection =
    collections.find((c) => c.name === COLLECTION) ??
    (
      await rest<{ collection: { id: number; name: string } }>('POST', '/v1/knowledge/collections', token, {
        name: COLLECTION,
        description: 'Every finding code of the engine, from its catalog',
        collectionType: 'COLLECTION_TYPE_TABLE',
        public: true,
      })
    ).collection;

  const csv = findingCodesCsv();
  const res = await fetch(
    `${gatewayUrl}/v1/knowledge/collections/${collection.id}/documents:upload?filename=gbt27930-findings.csv&overwrite=true`,
    { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv },
  );
  const text = await res.text();
  if (!res.ok) throw new Error(`knowledge upload → HTTP ${res.status}: ${text}`);
  const document = (JSON.parse(text) as { document: { id: number } }).document;
  await fetch(`${gatewayUrl}/v1/knowledge/documents/${document.id}:watch`, {
    headers: { authorization: `Bearer ${token}` },
  }).then((r) => r.text());
  const done = await rest<{
    document: { uploadStatus: string; chunkCount?: number; processingError?: string };
  }>('GET', `/v1/knowledge/documents/${document.id}`, token);
  if (done.document.uploadStatus !== 'UPLOAD_STATUS_COMPLETED')
    throw new Error(
      `knowledge ingest ended ${done.document.uploadStatus}: ${done.document.processingError ?? ''}`,
    );
  say(
    `knowledge: "${COLLECTION}" (collection ${collection.id}) ← gbt27930-findings.csv, ${done.document.chunkCount} rows ingested`,
  );

  for (const code of [...new Set(findingCodes)]) {
    const answer = await rest<{ passages?: Passage[]; queryTimeMs?: number }>(
      'POST',
      `/v1/knowledge/collections/${collection.id}:query`,
      token,
      { query: code, options: { topK: 1 } },
    );
    const top = answer.passages?.[0];
    say(
      top
        ? `  ${code} → ${top.content} [${top.citation?.filename} row ${top.citation?.row}, score ${top.score.toFixed(2)}, ${answer.queryTimeMs ?? 0} ms]`
        : `  ${code} → no passage`,
    );
  }
}
