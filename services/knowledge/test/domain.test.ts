import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDocument, parsePdfPages } from '../src/domain/documents';
import { pdfPages } from '../src/domain/pdf-text';
import { fusedScore, tagQueries } from '../src/domain/fusion';
import { BUILTIN_DIMENSIONS, hashedEmbedding } from '../src/domain/hashed-embedder';
import { normaliseValue, parseCsv, ParseError } from '../src/domain/tabular';
import { chunkSections, markdownSections } from '../src/domain/text-chunker';
import { Tokenizer } from '../src/domain/tokenizer';
import { OpenAiEmbeddings } from '../src/embeddings/openai-embeddings';
import { RetrievalUseCases } from '../src/use-cases/retrieval';
import { docx, FAULT_CSV, MANUAL_MD, pdf, xlsx } from './fixtures';

const opts = { chunkSize: 200, chunkOverlap: 20 };
const tokenizer = new Tokenizer();
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('tabular parsing', () => {
  test('csv: one chunk per row, key=value pairs, first column as primary tag, 1001.0 → 1001', () => {
    const doc = parseDocument('csv', Buffer.from(FAULT_CSV), opts);
    expect(doc.chunks).toHaveLength(5);
    expect(doc.chunks[0]).toMatchObject({
      ordinal: 0,
      primaryKey: '停充码',
      primaryTag: '1001',
      content:
        '停充码=1001; 故障名称=绝缘故障; 故障说明=BMS检测到绝缘电阻过低，充电机停止输出; 处理建议=检查直流母线和电池包绝缘，测量绝缘电阻',
      metadata: { row: 2 },
    });
    expect(doc.chunks[4].metadata.fields).toMatchObject({
      故障说明: '单体电池电压超过最高允许充电电压, 停止充电',
    });
    expect(doc.meta).toMatchObject({ primary_tag_column: '停充码' });
  });

  test('csv quoting and errors', () => {
    expect(parseCsv('a,b\r\n"x ""q""","line1\nline2"\n')).toEqual([
      ['a', 'b'],
      ['x "q"', 'line1\nline2'],
    ]);
    expect(() => parseCsv('a,b\n1,"open\n2,3')).toThrow('unterminated quoted field starting on line 2');
    expect(() => parseDocument('csv', Buffer.from('停充码\n'), opts)).toThrow(ParseError);
    expect(() => parseDocument('csv', Buffer.from([0xff, 0xfe, 0x00]), opts)).toThrow('not UTF-8');
    expect(normaliseValue(' 1001.00 ')).toBe('1001');
    expect(normaliseValue('1.5')).toBe('1.5');
  });

  test('xlsx: shared strings and numbers, sheet and row citations; garbage is a clear error', () => {
    const bytes = xlsx('BMS故障', [
      ['故障码', '描述'],
      [2001, '通信中断'],
      [2002.0, '电压采样异常'],
    ]);
    const doc = parseDocument('xlsx', bytes, opts);
    expect(doc.chunks.map((c) => [c.content, c.primaryTag, c.metadata.row, c.metadata.sheet])).toEqual([
      ['故障码=2001; 描述=通信中断', '2001', 2, 'BMS故障'],
      ['故障码=2002; 描述=电压采样异常', '2002', 3, 'BMS故障'],
    ]);
    expect(() => parseDocument('xlsx', Buffer.from('not a zip at all'), opts)).toThrow(
      /^xlsx: not a valid xlsx file/,
    );
  });
});

describe('text chunking', () => {
  test('markdown sections carry their heading path', () => {
    const sections = markdownSections(MANUAL_MD);
    expect(sections.map((s) => s.heading)).toEqual([
      '直流充电桩维护手册',
      '直流充电桩维护手册 > 绝缘检测',
      '直流充电桩维护手册 > 散热系统',
      '直流充电桩维护手册 > 散热系统 > 冷却液',
    ]);
  });

  test('long sections split at sentence ends within size, with overlap', () => {
    const text = Array.from({ length: 40 }, (_, i) => `第${i}句说明充电过程中的检查项目。`).join('');
    const chunks = chunkSections([{ heading: 'H', text }], 100, 20);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(100);
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i].text.startsWith(chunks[i - 1].text.slice(-20).trim().slice(0, 5))).toBe(true);
    }
    expect(chunks.map((c) => c.text).join('')).toContain('第39句说明');
  });

  test('html and docx become heading-aware chunks', () => {
    const html = parseDocument(
      'html',
      Buffer.from(
        '<html><head><style>x{}</style></head><body><h1>告警</h1><p>过流&amp;短路</p><h2>处理</h2><p>断电检查</p></body></html>',
      ),
      opts,
    );
    expect(html.chunks.map((c) => [c.metadata.heading, c.content])).toEqual([
      ['告警', '过流&短路'],
      ['告警 > 处理', '断电检查'],
    ]);
    const word = parseDocument(
      'docx',
      docx(['# 充电枪', '锁止故障时检查电子锁。', '## 温度', '枪头温度过高']),
      opts,
    );
    expect(word.chunks.map((c) => [c.metadata.heading, c.content])).toEqual([
      ['充电枪', '锁止故障时检查电子锁。'],
      ['充电枪 > 温度', '枪头温度过高'],
    ]);
    expect(() => parseDocument('docx', Buffer.from('PK\u0003\u0004broken'), opts)).toThrow(
      /^docx: not a valid docx/,
    );
  });
});

describe('pdf', () => {
  test('text per page (PDF.js in a worker thread) → chunks citing their page', async () => {
    const pages = await pdfPages(
      pdf(['Insulation fault 1001: check the DC bus', 'Clean the fan filter (quarterly)']),
    );
    expect(pages).toEqual(['Insulation fault 1001: check the DC bus', 'Clean the fan filter (quarterly)']);
    const doc = parsePdfPages(pages, opts);
    expect(doc.chunks.map((c) => [c.metadata.page, c.content])).toEqual([
      [1, 'Insulation fault 1001: check the DC bus'],
      [2, 'Clean the fan filter (quarterly)'],
    ]);
  });

  test('broken files are clear ParseErrors', async () => {
    await expect(pdfPages(Buffer.from('hello'))).rejects.toThrow('pdf: not a PDF file');
    await expect(pdfPages(Buffer.from('%PDF-1.4\ngarbage'))).rejects.toThrow(
      /^pdf: the file could not be read \(InvalidPDFException/,
    );
    expect(() => parsePdfPages(['  ', ''], opts)).toThrow('no extractable text');
  });
});

describe('built-in embedder and fusion', () => {
  test('768-d, L2-normalised, deterministic, related texts closer than unrelated ones', () => {
    const embed = (t: string) => hashedEmbedding(t, tokenizer.tokens(t));
    const a = embed('绝缘电阻过低导致充电停止');
    expect(a).toHaveLength(BUILTIN_DIMENSIONS);
    expect(Math.abs(cosine(a, a) - 1)).toBeLessThan(1e-9);
    expect(embed('绝缘电阻过低导致充电停止')).toEqual(a);
    expect(cosine(a, embed('绝缘故障 绝缘电阻低'))).toBeGreaterThan(cosine(a, embed('风扇滤网需要清理')));
  });

  test('tag queries and fused scores', () => {
    expect(tagQueries('停充码=1001.0', normaliseValue)).toEqual({ key: '停充码', values: ['1001'] });
    expect(tagQueries('1003', normaliseValue)).toEqual({ values: ['1003'] });
    expect(tagQueries('停充码1004是什么', normaliseValue).values).toContain('1004');
    expect(tagQueries('绝缘故障', normaliseValue).values).toEqual([]);
    expect(fusedScore({ id: 'a', exact: false, vectorRank: 1, keywordRank: 1 }, 'rrf', 0.5)).toBeCloseTo(1);
    expect(fusedScore({ id: 'a', exact: false, vectorRank: 1 }, 'rrf', 0.5)).toBeCloseTo(0.5);
    expect(
      fusedScore({ id: 'a', exact: false, vectorScore: 0.8, keywordScore: 0.5 }, 'weighted', 0.7),
    ).toBeCloseTo(0.71);
    expect(fusedScore({ id: 'a', exact: true }, 'weighted', 0.7)).toBe(1);
  });
});

describe('OpenAI-compatible embeddings', () => {
  let server: Server;
  let url: string;
  const requests: { model: string; input: string[] }[] = [];
  let failures = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (req.url !== '/v1/embeddings' || req.headers.authorization !== 'Bearer k') {
          res.writeHead(404).end();
          return;
        }
        const parsed = JSON.parse(body) as { model: string; input: string[] };
        requests.push(parsed);
        if (failures > 0) {
          failures--;
          res.writeHead(503).end('busy');
          return;
        }
        // Out of order on purpose: the client must sort by index.
        const data = parsed.input.map((t, index) => ({ index, embedding: [t.length, index] })).reverse();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const client = (retries: number) =>
    new OpenAiEmbeddings({
      baseUrl: url,
      apiKey: 'k',
      model: 'bge-base-zh-v1.5',
      batchSize: 2,
      retries,
      timeoutMs: 5000,
    });

  test('batches, keeps input order, retries 5xx', async () => {
    requests.length = 0;
    failures = 1;
    const vectors = await client(2).embed(['a', 'bb', 'ccc', 'dddd', 'eeeee']);
    expect(vectors).toEqual([
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 1],
      [5, 0],
    ]);
    expect(requests.map((r) => r.input)).toEqual([['a', 'bb'], ['a', 'bb'], ['ccc', 'dddd'], ['eeeee']]);
    expect(requests[0].model).toBe('bge-base-zh-v1.5');
  });

  test('gives up with UNAVAILABLE after the retries', async () => {
    failures = 10;
    await expect(client(1).embed(['x'])).rejects.toMatchObject({
      kind: 'unavailable',
      reason: 'EMBEDDING_UNAVAILABLE',
    });
    failures = 0;
  });
});

test('Query with synthesize and no LLM endpoint → FAILED_PRECONDITION LLM_NOT_CONFIGURED', async () => {
  const uses = new RetrievalUseCases({} as never, {} as never, tokenizer);
  const caller = { claims: { userId: 1, role: 'user' as const, sessionId: '', token: '' }, actor: {} };
  await expect(uses.query({} as never, caller, 1, 'q', { synthesize: true })).rejects.toMatchObject({
    kind: 'failedPrecondition',
    reason: 'LLM_NOT_CONFIGURED',
  });
});
