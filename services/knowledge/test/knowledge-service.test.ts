import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { knowledgeV1 } from '@charge/contracts';
import { connectNats } from '@charge/events';
import { type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  freePort,
  startTestService,
  statusOf,
  TestNatsServer,
  TestTokenIssuer,
  unary,
  withClient,
  withToken,
  type TestDatabase,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig, type KnowledgeConfig } from '../src/config';
import { BUILTIN_MODEL, hashedEmbedding } from '../src/domain/hashed-embedder';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';
import { ChromaStore } from '../src/vector/chroma-store';
import { TestChromaServer } from './chroma-server';
import { docx, FAULT_CORPUS, FAULT_CSV, MANUAL_MD, PARAPHRASES, pdf, xlsx } from './fixtures';

const K = knowledgeV1;
type UnaryFn = (req: unknown, md: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => unknown;

describe('knowledge service', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let chromaServer: TestChromaServer;
  let chroma: ChromaStore;
  let issuer: TestTokenIssuer;
  let service: RunningService<KnowledgeConfig>;
  let client: knowledgeV1.KnowledgeServiceClient;
  let dataDir: string;
  let owner: Metadata;
  let other: Metadata;
  let admin: Metadata;
  /** An OpenAI-compatible embeddings server serving `bge-base-zh-v1.5` (character n-grams only). */
  let embedServer: Server;
  let embedRequests = 0;
  let difyUrl: string;
  /** An OpenAI-compatible chat server: answers with the passage count and the first tag. */
  let chatServer: Server;
  const chatRequests: { model: string; messages: { role: string; content: string }[] }[] = [];

  const rows = (sql: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(sql, params).then((r) => r.rows as Record<string, unknown>[]));

  const call = <Res = unknown>(method: string, req: object, md: Metadata = owner): Promise<Res> => {
    const type = (K as unknown as Record<string, { fromPartial(o: object): unknown }>)[
      `${method[0].toUpperCase()}${method.slice(1)}Request`
    ];
    const fn = (client as unknown as Record<string, UnaryFn>)[method].bind(client);
    return unary(fn as never, type.fromPartial(req), md) as Promise<Res>;
  };

  const createCollection = async (req: Partial<knowledgeV1.CreateCollectionRequest>, md: Metadata = owner) =>
    (await call<knowledgeV1.CreateCollectionResponse>('createCollection', { name: 'c', ...req }, md))
      .collection!;

  function upload(
    collectionId: number,
    filename: string,
    content: string | Uint8Array,
    overwrite = false,
    md: Metadata = owner,
  ): Promise<knowledgeV1.Document> {
    return new Promise((resolve, reject) => {
      const stream = client.uploadDocument(
        md,
        (err: ServiceError | null, res: knowledgeV1.UploadDocumentResponse) =>
          err ? reject(err) : resolve(res.document!),
      );
      stream.write({ header: { collectionId, filename, overwrite } });
      const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
      for (let i = 0; i < bytes.length; i += 1024) stream.write({ chunk: bytes.subarray(i, i + 1024) });
      stream.end();
    });
  }

  /** WatchDocument until the stream ends; the events in order. */
  function watch(id: number, md: Metadata = owner): Promise<knowledgeV1.WatchDocumentResponse[]> {
    return new Promise((resolve, reject) => {
      const events: knowledgeV1.WatchDocumentResponse[] = [];
      const stream = client.watchDocument(K.WatchDocumentRequest.fromPartial({ id }), md);
      stream.on('data', (e: knowledgeV1.WatchDocumentResponse) => events.push(e));
      stream.on('error', reject);
      stream.on('end', () => resolve(events));
    });
  }

  const ingest = async (
    collectionId: number,
    filename: string,
    content: string | Uint8Array,
    overwrite = false,
  ) => {
    const doc = await upload(collectionId, filename, content, overwrite);
    await watch(doc.id);
    return (await call<knowledgeV1.GetDocumentResponse>('getDocument', { id: doc.id })).document!;
  };

  const retrieve = async (
    collectionIds: number[],
    query: string,
    options: object = {},
    md: Metadata = owner,
  ) => (await call<knowledgeV1.RetrieveResponse>('retrieve', { collectionIds, query, options }, md)).passages;

  beforeAll(async () => {
    [db, nats, chromaServer, issuer] = await Promise.all([
      createTestDatabase('knowledge'),
      TestNatsServer.start(),
      TestChromaServer.start(),
      TestTokenIssuer.start(),
    ]);
    chroma = new ChromaStore(chromaServer.url);
    embedServer = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        embedRequests++;
        const { input } = JSON.parse(body) as { input: string[] };
        const data = input.map((t, index) => ({ index, embedding: hashedEmbedding(t, []) }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
      });
    });
    await new Promise<void>((r) => embedServer.listen(0, '127.0.0.1', r));
    chatServer = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const request = JSON.parse(body) as (typeof chatRequests)[number];
        chatRequests.push(request);
        const prompt = request.messages.at(-1)!.content;
        const count = (prompt.match(/^\[\d+\] /gm) ?? []).length;
        const first = /^\[1\] [^\n]*\n([^;]*);/m.exec(prompt)?.[1] ?? '';
        const content = `passages: ${count}; first: ${first} [1]`;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
      });
    });
    await new Promise<void>((r) => chatServer.listen(0, '127.0.0.1', r));
    dataDir = mkdtempSync(path.join(tmpdir(), 'knowledge-data-'));
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    const httpPort = await freePort();
    difyUrl = `http://127.0.0.1:${httpPort}/retrieval`;
    service = await startTestService(
      { name: 'knowledge', loadConfig, build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_GRPC_ADDR: issuer.address,
          CHROMA_URL: chromaServer.url,
          KNOWLEDGE_DATA_DIR: dataDir,
          EMBEDDING_API_URL: `http://127.0.0.1:${(embedServer.address() as AddressInfo).port}`,
          EMBEDDING_API_MODELS: 'bge-base-zh-v1.5',
          KNOWLEDGE_HTTP_PORT: String(httpPort),
          LLM_API_URL: `http://127.0.0.1:${(chatServer.address() as AddressInfo).port}`,
          LLM_MODEL: 'test-chat',
          KNOWLEDGE_DIFY_API_KEYS: 'dify-test-key',
        },
      },
    );
    client = clientFor(K.KnowledgeServiceClient, service);
    owner = withToken(issuer.issue({ userId: 10 }));
    other = withToken(issuer.issue({ userId: 11 }));
    admin = withToken(issuer.issue({ userId: 1, role: 'admin' }));
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await service?.stop();
    await issuer?.stop();
    await nats?.dispose();
    await chromaServer?.dispose();
    await new Promise((r) => (embedServer ? embedServer.close(r) : r(undefined)));
    await new Promise((r) => (chatServer ? chatServer.close(r) : r(undefined)));
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let faults: knowledgeV1.Collection;
  let faultDoc: knowledgeV1.Document;

  test('fault-code CSV: ingest log, one chunk per row, vectors in Chroma, retrieval by code and by Chinese text', async () => {
    faults = await createCollection({
      name: '停充码表',
      collectionType: K.CollectionType.COLLECTION_TYPE_TABLE,
    });
    expect(faults).toMatchObject({ embeddingModel: BUILTIN_MODEL, createdBy: 10, chunkSize: 800 });
    const doc = await upload(faults.id, 'faults.csv', FAULT_CSV);
    expect(doc.uploadStatus).toBe(K.UploadStatus.UPLOAD_STATUS_UPLOADING);
    const events = await watch(doc.id);
    expect(events.map((e) => e.event!.stage)).toEqual([
      K.IngestStage.INGEST_STAGE_RECEIVED,
      K.IngestStage.INGEST_STAGE_PARSED,
      K.IngestStage.INGEST_STAGE_CHUNKED,
      K.IngestStage.INGEST_STAGE_EMBEDDED,
      K.IngestStage.INGEST_STAGE_STORED,
      K.IngestStage.INGEST_STAGE_COMPLETED,
    ]);
    expect(events[3].event).toMatchObject({ done: 5, total: 5 });
    faultDoc = (await call<knowledgeV1.GetDocumentResponse>('getDocument', { id: doc.id })).document!;
    expect(faultDoc).toMatchObject({
      uploadStatus: K.UploadStatus.UPLOAD_STATUS_COMPLETED,
      chunkCount: 5,
      fileType: 'csv',
    });
    const stored = await rows(
      'select primary_key, primary_tag, content, metadata from knowledge.knowledge_chunks where document_id = $1 order by ordinal',
      [doc.id],
    );
    expect(stored.map((r) => r.primary_tag)).toEqual(['1001', '1002', '1003', '1004', '1005']);
    expect(stored[0]).toMatchObject({ primary_key: '停充码', metadata: { row: 2 } });
    expect(String(stored[0].content)).toMatch(/^停充码=1001; 故障名称=绝缘故障; /);
    expect(await chroma.count(faults.chromaCollectionId)).toBe(5);

    const byPair = await retrieve([faults.id], '停充码=1001');
    expect(byPair[0]).toMatchObject({ primaryTag: '停充码=1001', score: 1 });
    expect(byPair[0].matchedBy).toContain(K.MatchSource.MATCH_SOURCE_EXACT);
    expect(byPair[0].citation).toMatchObject({
      documentId: doc.id,
      filename: 'faults.csv',
      row: 2,
      ordinal: 0,
    });
    expect((await retrieve([faults.id], '1003'))[0].primaryTag).toBe('停充码=1003');

    const paraphrase = await retrieve([faults.id], '绝缘电阻太低是什么原因', { topK: 3 });
    expect(paraphrase[0].primaryTag).toBe('停充码=1001');
    expect(paraphrase[0].matchedBy).toEqual(
      expect.arrayContaining([K.MatchSource.MATCH_SOURCE_KEYWORD, K.MatchSource.MATCH_SOURCE_VECTOR]),
    );
    expect(paraphrase.length).toBeLessThanOrEqual(3);
    const overheat = await retrieve([faults.id], '充电机温度过高 风扇', {
      fusion: K.FusionMethod.FUSION_METHOD_WEIGHTED,
    });
    expect(overheat[0].primaryTag).toBe('停充码=1003');
    const filtered = await retrieve([faults.id], '检查', { filters: { 故障名称: '电池过温' } });
    expect(filtered.map((p) => p.primaryTag)).toEqual(['停充码=1002']);
    expect(await statusOf(retrieve([faults.id], '绝缘', { topK: 51 }))).toBe(status.INVALID_ARGUMENT);
    expect(await statusOf(retrieve([faults.id], '  '))).toBe(status.INVALID_ARGUMENT);
  });

  test('Query is logged to rag_queries; ListQueries shows it', async () => {
    const res = await call<knowledgeV1.QueryResponse>('query', {
      collectionId: faults.id,
      query: 'BCL报文超时',
    });
    expect(res.passages[0].primaryTag).toBe('停充码=1004');
    const [logged] = await rows('select * from knowledge.rag_queries where id = $1', [res.queryId]);
    expect(logged).toMatchObject({ collection_id: faults.id, query_text: 'BCL报文超时', user_id: 10 });
    expect(logged.result_count).toBe(res.passages.length);
    expect(Number(logged.query_time_ms)).toBeGreaterThanOrEqual(0);
    const history = await call<knowledgeV1.ListQueriesResponse>('listQueries', { collectionId: faults.id });
    expect(history.queries.map((q) => q.id)).toEqual([res.queryId]);
    expect(JSON.parse(history.queries[0].responseText).passages[0]).toMatchObject({
      filename: 'faults.csv',
      row: 5,
    });

    // With synthesize, the configured chat model answers from the numbered passages.
    const answered = await call<knowledgeV1.QueryResponse>('query', {
      collectionId: faults.id,
      query: '停充码1003怎么处理',
      synthesize: true,
    });
    expect(answered.answer).toBe(`passages: ${answered.passages.length}; first: 停充码=1003 [1]`);
    const prompt = chatRequests.at(-1)!.messages.at(-1)!.content;
    expect(prompt).toContain('[1] faults.csv (row 4)\n停充码=1003; 故障名称=充电机过温');
    expect(prompt).toContain('Question: 停充码1003怎么处理');
    const [logged2] = await rows('select response_text from knowledge.rag_queries where id = $1', [
      answered.queryId,
    ]);
    expect(logged2.response_text).toMatchObject({ answer: answered.answer });
  });

  test('retrieval quality on a fault-code corpus with the built-in embedder: recall@5 for codes and paraphrases', async () => {
    const corpus = await createCollection({
      name: 'quality',
      collectionType: K.CollectionType.COLLECTION_TYPE_TABLE,
    });
    const csv = ['故障码,故障名称,原因,处理措施', ...FAULT_CORPUS.map((r) => r.join(','))].join('\n');
    expect((await ingest(corpus.id, 'corpus.csv', csv)).chunkCount).toBe(FAULT_CORPUS.length);
    const recallAt5 = async (queries: [string, string][]) => {
      let hits = 0;
      for (const [query, code] of queries) {
        const passages = await retrieve([corpus.id], query, { topK: 5 });
        if (passages.some((p) => p.primaryTag === `故障码=${code}`)) hits++;
      }
      return hits / queries.length;
    };
    expect(await recallAt5(FAULT_CORPUS.map((r) => [r[0], r[0]]))).toBe(1);
    expect(await recallAt5(FAULT_CORPUS.map((r) => [`故障码=${r[0]}`, r[0]]))).toBe(1);
    expect(await recallAt5(PARAPHRASES)).toBeGreaterThanOrEqual(0.7);
  });

  test('markdown, xlsx, html, docx and pdf ingest with heading/sheet citations', async () => {
    const manuals = await createCollection({ name: '维护手册', chunkSize: 200, chunkOverlap: 20 });
    const md = await ingest(manuals.id, 'manual.md', MANUAL_MD);
    expect(md).toMatchObject({ uploadStatus: K.UploadStatus.UPLOAD_STATUS_COMPLETED, chunkCount: 4 });
    const hits = await retrieve([manuals.id], '冷却液液位');
    expect(hits[0].citation).toMatchObject({
      heading: '直流充电桩维护手册 > 散热系统 > 冷却液',
      filename: 'manual.md',
    });
    const sheet = await ingest(
      manuals.id,
      'bms.xlsx',
      xlsx('BMS故障', [
        ['故障码', '描述'],
        [2001, '通信中断'],
        [2002, '电压采样异常'],
      ]),
    );
    expect(sheet.chunkCount).toBe(2);
    const code = await retrieve([manuals.id], '2002');
    expect(code[0]).toMatchObject({ primaryTag: '故障码=2002', citation: { sheet: 'BMS故障', row: 3 } });
    const page = await ingest(manuals.id, 'alarm.html', '<h1>告警</h1><p>枪锁异常时检查电子锁</p>');
    const word = await ingest(manuals.id, 'gun.docx', docx(['# 充电枪', '枪头温度过高时降功率运行。']));
    const paged = await ingest(
      manuals.id,
      'bms.pdf',
      pdf(['BMS manual', 'Fault 4001: contactor welded, replace the relay']),
    );
    expect([page.chunkCount, word.chunkCount, paged.chunkCount]).toEqual([1, 1, 2]);
    expect((await retrieve([manuals.id], 'contactor welded'))[0].citation).toMatchObject({
      filename: 'bms.pdf',
      page: 2,
    });
    expect(
      (await retrieve([manuals.id], '枪头温度', { filters: { file_type: 'docx' } }))[0].citation,
    ).toMatchObject({
      filename: 'gun.docx',
      heading: '充电枪',
    });
    // Both collections at once (Retrieve for services).
    const both = await retrieve([faults.id, manuals.id], '绝缘故障', { topK: 10 });
    expect(new Set(both.map((p) => p.citation!.collectionId))).toEqual(new Set([faults.id, manuals.id]));
  });

  test('bad files: INVALID_ARGUMENT at upload, or a failed document with a clear error and nothing else touched', async () => {
    expect(await statusOf(upload(faults.id, 'x.exe', 'MZ'))).toBe(status.INVALID_ARGUMENT);
    expect(await statusOf(upload(faults.id, 'empty.csv', ''))).toBe(status.INVALID_ARGUMENT);
    const before = await rows('select count(*)::int as n from knowledge.knowledge_chunks');
    const broken = await ingest(faults.id, 'broken.xlsx', Buffer.from('this is not a workbook'));
    expect(broken.uploadStatus).toBe(K.UploadStatus.UPLOAD_STATUS_FAILED);
    expect(broken.processingError).toMatch(/^xlsx: not a valid xlsx file/);
    const badPdf = await ingest(faults.id, 'broken.pdf', Buffer.from('%PDF-1.4\ntruncated'));
    expect(badPdf.processingError).toMatch(/^pdf: the file could not be read/);
    await call('deleteDocument', { id: badPdf.id });
    const csv = await ingest(faults.id, 'quote.csv', 'a,b\n1,"open\n');
    expect(csv.processingError).toBe('CSV: unterminated quoted field starting on line 2');
    const events = await watch(csv.id);
    expect(events.at(-1)!.event).toMatchObject({
      stage: K.IngestStage.INGEST_STAGE_FAILED,
      message: csv.processingError,
    });
    expect(await rows('select count(*)::int as n from knowledge.knowledge_chunks')).toEqual(before);
    expect(await chroma.count(faults.chromaCollectionId)).toBe(5);
    await call('deleteDocument', { id: broken.id });
    await call('deleteDocument', { id: csv.id });
  });

  test('concurrent uploads of one file name: exactly one wins, the other is ALREADY_EXISTS', async () => {
    const results = await Promise.allSettled([
      upload(faults.id, 'race.csv', FAULT_CSV),
      upload(faults.id, 'race.csv', FAULT_CSV),
    ]);
    const won = results.filter(
      (r) => r.status === 'fulfilled',
    ) as PromiseFulfilledResult<knowledgeV1.Document>[];
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect((lost[0].reason as ServiceError).code).toBe(status.ALREADY_EXISTS);
    await watch(won[0].value.id);
    await call('deleteDocument', { id: won[0].value.id });
  });

  test('overwrite replaces chunks atomically; queries during re-ingest always see a version', async () => {
    expect(await statusOf(upload(faults.id, 'faults.csv', FAULT_CSV))).toBe(status.ALREADY_EXISTS);
    const bigger = `${FAULT_CSV}\n${Array.from({ length: 300 }, (_, i) => `${3000 + i},新故障${i},说明${i},处理${i}`).join('\n')}`;
    const replacement = await upload(faults.id, 'faults.csv', bigger.replace('绝缘故障', '绝缘失效'), true);
    const seen: string[] = [];
    let done = false;
    const finished = watch(replacement.id).then(() => (done = true));
    while (!done) {
      const exact = (await retrieve([faults.id], '停充码=1001')).filter((p) =>
        p.matchedBy.includes(K.MatchSource.MATCH_SOURCE_EXACT),
      );
      expect(exact).toHaveLength(1);
      seen.push(exact[0].content.includes('绝缘失效') ? 'new' : 'old');
    }
    await finished;
    const after = await retrieve([faults.id], '停充码=1001');
    expect(after[0].content).toContain('绝缘失效');
    expect(seen.indexOf('new') === -1 || !seen.slice(seen.indexOf('new')).includes('old')).toBe(true);
    expect(await statusOf(call('getDocument', { id: faultDoc.id }))).toBe(status.NOT_FOUND);
    expect(
      await rows('select count(*)::int as n from knowledge.knowledge_chunks where collection_id = $1', [
        faults.id,
      ]),
    ).toEqual([{ n: 305 }]);
    expect(await chroma.count(faults.chromaCollectionId)).toBe(305);
    faultDoc = (await call<knowledgeV1.GetDocumentResponse>('getDocument', { id: replacement.id })).document!;
    const col = (await call<knowledgeV1.GetCollectionResponse>('getCollection', { id: faults.id }))
      .collection!;
    expect(col).toMatchObject({ documentCount: 1, chunkCount: 305 });
  });

  test('embedding model locked once there are chunks; reindex re-embeds through the OpenAI-compatible endpoint', async () => {
    expect(
      await statusOf(call('updateCollection', { id: faults.id, embeddingModel: 'bge-base-zh-v1.5' })),
    ).toBe(status.FAILED_PRECONDITION);
    expect(await statusOf(call('updateCollection', { id: faults.id, embeddingModel: 'other-model' }))).toBe(
      status.INVALID_ARGUMENT,
    );
    const empty = await createCollection({ name: 'empty' });
    const renamed = await call<knowledgeV1.UpdateCollectionResponse>('updateCollection', {
      id: empty.id,
      name: 'renamed',
      chunkSize: 300,
      embeddingModel: 'bge-base-zh-v1.5',
    });
    expect(renamed.collection).toMatchObject({
      name: 'renamed',
      chunkSize: 300,
      embeddingModel: 'bge-base-zh-v1.5',
    });
    const requestsBefore = embedRequests;
    const res = await call<knowledgeV1.ReindexCollectionResponse>('reindexCollection', {
      id: faults.id,
      embeddingModel: 'bge-base-zh-v1.5',
    });
    expect(res.chunkCount).toBe(305);
    // 305 chunks in batches of 64.
    expect(embedRequests - requestsBefore).toBe(5);
    expect(res.collection).toMatchObject({ embeddingModel: 'bge-base-zh-v1.5', chunkCount: 305 });
    expect(res.collection!.chromaCollectionId).not.toBe(faults.chromaCollectionId);
    expect(await chroma.count(res.collection!.chromaCollectionId)).toBe(305);
    await expect(chroma.count(faults.chromaCollectionId)).rejects.toMatchObject({ kind: 'notFound' });
    faults = res.collection!;
    const hits = await retrieve([faults.id], '停充码=1001');
    expect(hits[0].primaryTag).toBe('停充码=1001');
    expect(hits[0].matchedBy).toContain(K.MatchSource.MATCH_SOURCE_VECTOR);
    expect(embedRequests - requestsBefore).toBe(6);
    // The query's embedding is cached: asking again does not call the embeddings server.
    expect((await retrieve([faults.id], '停充码=1001'))[0].primaryTag).toBe('停充码=1001');
    expect(embedRequests - requestsBefore).toBe(6);
  });

  test('access: private collections hidden, public ones readable by all and managed by admins only', async () => {
    expect(await statusOf(call('getCollection', { id: faults.id }, other))).toBe(status.NOT_FOUND);
    expect(await statusOf(retrieve([faults.id], '1001', {}, other))).toBe(status.NOT_FOUND);
    expect(await statusOf(upload(faults.id, 'x.csv', 'a\n1', false, other))).toBe(status.NOT_FOUND);
    expect(await statusOf(createCollection({ name: 'pub', public: true }))).toBe(status.PERMISSION_DENIED);
    const pub = await createCollection({ name: 'pub', public: true }, admin);
    expect(pub.createdBy).toBe(0);
    expect(await statusOf(upload(pub.id, 'x.csv', 'a\n1', false, other))).toBe(status.PERMISSION_DENIED);
    expect(await statusOf(call('deleteCollection', { id: pub.id }, owner))).toBe(status.PERMISSION_DENIED);
    const listed = await call<knowledgeV1.ListCollectionsResponse>('listCollections', {}, other);
    expect(listed.collections.map((c) => c.id)).toEqual([pub.id]);
    expect(await retrieve([pub.id], '任何', {}, other)).toEqual([]);
    expect(
      (await call<knowledgeV1.GetCollectionResponse>('getCollection', { id: faults.id }, admin)).collection!
        .id,
    ).toBe(faults.id);
  });

  test('delete document removes its vectors; delete collection removes the Chroma collection; audited', async () => {
    const scratch = await createCollection({ name: 'scratch' });
    const doc = await ingest(scratch.id, 'faults.csv', FAULT_CSV);
    expect(await chroma.count(scratch.chromaCollectionId)).toBe(5);
    await call('deleteDocument', { id: doc.id });
    expect(await chroma.count(scratch.chromaCollectionId)).toBe(0);
    expect(await rows('select * from knowledge.knowledge_chunks where document_id = $1', [doc.id])).toEqual(
      [],
    );
    expect(await retrieve([scratch.id], '1001')).toEqual([]);
    await call('deleteCollection', { id: scratch.id });
    await expect(chroma.count(scratch.chromaCollectionId)).rejects.toMatchObject({ kind: 'notFound' });
    expect(await statusOf(call('getCollection', { id: scratch.id }))).toBe(status.NOT_FOUND);

    const nc = await connectNats(nats.url, 'test-audit-reader');
    try {
      const jsm = await jetstreamManager(nc);
      const deadline = Date.now() + 10_000;
      let subjects: Record<string, number> = {};
      while (Date.now() < deadline) {
        subjects =
          (await jsm.streams.info('AUDIT', { subjects_filter: 'audit.knowledge.>' })).state.subjects ?? {};
        if (
          (subjects['audit.knowledge.collection.deleted'] ?? 0) >= 1 &&
          (subjects['audit.knowledge.document.deleted'] ?? 0) >= 3
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(subjects['audit.knowledge.collection.created']).toBeGreaterThanOrEqual(4);
      expect(subjects['audit.knowledge.collection.deleted']).toBe(1);
      expect(subjects['audit.knowledge.document.replaced']).toBe(1);
      expect(subjects['audit.knowledge.collection.reindexed']).toBe(1);
    } finally {
      await nc.close();
    }
  });

  test("Dify's External Knowledge API: POST /retrieval with an API key (public) or an access token", async () => {
    const pub = await createCollection({ name: 'public faults', public: true }, admin);
    const doc = await upload(pub.id, 'faults.csv', FAULT_CSV, false, admin);
    await watch(doc.id, admin);
    const post = async (auth: string | undefined, body: object) => {
      const res = await fetch(difyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const ok = await post('Bearer dify-test-key', {
      knowledge_id: String(pub.id),
      query: '停充码=1002',
      retrieval_setting: { top_k: 2, score_threshold: 0.5 },
    });
    expect(ok.status).toBe(200);
    const records = ok.body.records as { title: string; score: number; content: string; metadata: object }[];
    expect(records[0]).toMatchObject({
      title: 'faults.csv',
      score: 1,
      metadata: { row: 3, primary_tag: '停充码=1002' },
    });
    expect(records.length).toBeLessThanOrEqual(2);
    expect(records.every((r) => r.score >= 0.5)).toBe(true);
    // API keys see public collections only; the owner's token sees the owner's.
    const hidden = await post('Bearer dify-test-key', { knowledge_id: String(faults.id), query: '1001' });
    expect(hidden).toEqual({ status: 404, body: expect.objectContaining({ error_code: 2001 }) });
    const mine = await post(`Bearer ${owner.get('authorization')[0].toString().slice(7)}`, {
      knowledge_id: String(faults.id),
      query: '1001',
    });
    expect(mine.status).toBe(200);
    expect((mine.body.records as { metadata: { primary_tag: string } }[])[0].metadata.primary_tag).toBe(
      '停充码=1001',
    );
    expect((await post(undefined, { knowledge_id: '1', query: 'x' })).body).toMatchObject({
      error_code: 1001,
    });
    expect((await post('Bearer wrong', { knowledge_id: '1', query: 'x' })).body).toMatchObject({
      error_code: 1002,
    });
    expect((await post('Bearer dify-test-key', { knowledge_id: '999999', query: 'x' })).status).toBe(404);
  });

  test('users.deleted: uploads and queries lose their user; the collections are deactivated', async () => {
    const nc = await connectNats(nats.url, 'test-auth');
    try {
      nc.publish('users.deleted', JSON.stringify({ user_id: 10 }));
      await nc.flush();
    } finally {
      await nc.close();
    }
    const deadline = Date.now() + 10_000;
    let left: Record<string, unknown>[];
    do {
      left = await rows('select id from knowledge.knowledge_documents where uploaded_by = 10');
      if (!left.length) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    expect(left).toEqual([]);
    expect(await rows('select count(*)::int as n from knowledge.rag_queries where user_id = 10')).toEqual([
      { n: 0 },
    ]);
    expect(
      await rows(
        'select distinct is_active, created_by from knowledge.knowledge_collections where created_by = 10',
      ),
    ).toEqual([{ is_active: false, created_by: 10 }]);
    // Deactivated collections are not searchable until an admin reactivates them.
    expect(await statusOf(retrieve([faults.id], '1001', {}, admin))).toBe(status.FAILED_PRECONDITION);
    await call('updateCollection', { id: faults.id, isActive: true }, admin);
    expect((await retrieve([faults.id], '停充码=1001', {}, admin))[0].primaryTag).toBe('停充码=1001');
  });

  test('Chroma unavailable → UNAVAILABLE, nothing half-written', async () => {
    await chromaServer.stop();
    const before = await rows('select count(*)::int as n from knowledge.knowledge_collections');
    expect(await statusOf(createCollection({ name: 'down' }, admin))).toBe(status.UNAVAILABLE);
    expect(await rows('select count(*)::int as n from knowledge.knowledge_collections')).toEqual(before);
    expect(await statusOf(retrieve([faults.id], '绝缘电阻', {}, admin))).toBe(status.UNAVAILABLE);
    expect(await statusOf(call('deleteDocument', { id: faultDoc.id }, admin))).toBe(status.UNAVAILABLE);
    // An ingest while Chroma is down fails with a clear error and writes no chunks.
    const chunksBefore = await rows('select count(*)::int as n from knowledge.knowledge_chunks');
    const down = await ingest(faults.id, 'while-down.csv', FAULT_CSV);
    expect(down.uploadStatus).toBe(K.UploadStatus.UPLOAD_STATUS_FAILED);
    expect(down.processingError).toMatch(/^vector store unavailable/);
    expect(await rows('select count(*)::int as n from knowledge.knowledge_chunks')).toEqual(chunksBefore);
    expect(
      await rows('select count(*)::int as n from knowledge.knowledge_chunks where document_id = $1', [
        faultDoc.id,
      ]),
    ).toEqual([{ n: 305 }]);
  });
});
