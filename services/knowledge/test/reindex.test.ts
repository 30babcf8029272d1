import { status } from '@grpc/grpc-js';
import { knowledgeV1 } from '@charge/contracts';
import { eventually, statusOf, withClient } from '@charge/testing';
import { BUILTIN_MODEL } from '../src/domain/hashed-embedder';
import { KnowledgeHarness } from './knowledge-harness';

const ROWS = 2500; // three keyset pages of 1,000
const ROWS_SWITCHED = 10_000;

const csv = (rows: number, first: number) =>
  [
    '停充码,故障名称,处理建议',
    ...Array.from({ length: rows }, (_, i) => `${first + i},故障${first + i},检查部件${i % 7}`),
  ].join('\n');

describe('ReindexCollection streams into a new Chroma collection and switches at the end', () => {
  let h: KnowledgeHarness;
  let col: knowledgeV1.Collection;

  beforeAll(async () => {
    h = await KnowledgeHarness.start({ KNOWLEDGE_SWEEP_INTERVAL_MS: '0' });
    col = await h.createCollection({
      name: 'big',
      collectionType: knowledgeV1.CollectionType.COLLECTION_TYPE_TABLE,
    });
    expect((await h.ingest(col.id, 'big.csv', csv(ROWS, 10000))).chunkCount).toBe(ROWS);
  }, 120_000);

  afterAll(() => h?.stop());

  const chromaIds = async (name: string) =>
    (await h.chroma.page(name, 0, 100_000)).map((v) => v.id).sort((a, b) => a.localeCompare(b));
  const chunkIds = async () =>
    (
      await h.rows('select id::text from knowledge.knowledge_chunks where collection_id = $1 order by id', [
        col.id,
      ])
    ).map((r) => String(r.id));

  test('queries keep answering during the reindex; an upload meanwhile ends up in the new vectors', async () => {
    const old = col.chromaCollectionId;
    let settled = false;
    const reindexing = h
      .call<knowledgeV1.ReindexCollectionResponse>('reindexCollection', {
        id: col.id,
        embeddingModel: BUILTIN_MODEL,
      })
      .finally(() => (settled = true));
    // Once the reindex has begun (its new Chroma collection exists), a document is uploaded:
    // it lands before the switch (copied by the reindex) or after it (ingested again).
    const begun = await eventually(
      async () => (await h.chroma.list('knowledge_')).length,
      (n) => n > 1 || settled,
    );
    expect(begun).toBe(2);
    const late = h.ingest(col.id, 'late.csv', csv(3, 90000));
    const answers: string[] = [];
    while (!settled) {
      const hits = await h.retrieve([col.id], '停充码=12345');
      answers.push(hits[0]?.primaryTag ?? 'none');
    }
    const res = await reindexing;
    expect((await late).chunkCount).toBe(3);
    expect(answers.length).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set(['停充码=12345']));

    const now = (await h.call<knowledgeV1.GetCollectionResponse>('getCollection', { id: col.id }))
      .collection!;
    expect(res.collection!.chromaCollectionId).not.toBe(old);
    expect(now).toMatchObject({
      chromaCollectionId: res.collection!.chromaCollectionId,
      chunkCount: ROWS + 3,
    });
    await expect(h.chroma.count(old)).rejects.toMatchObject({ kind: 'notFound' });
    // Every chunk, including the late document's, has its vector in the new collection, and nothing else.
    const [rows, vectors] = [await chunkIds(), await chromaIds(now.chromaCollectionId)];
    expect(rows).toHaveLength(ROWS + 3);
    expect(vectors).toEqual(rows);
    const [stored] = await h.rows(
      'select embedding_model from knowledge.knowledge_collections where id = $1',
      [col.id],
    );
    expect(stored).toEqual({ embedding_model: BUILTIN_MODEL });
    const hits = await h.retrieve([col.id], '故障90001 检查部件1');
    expect(hits[0].primaryTag).toBe('停充码=90001');
    expect(hits[0].matchedBy).toContain(knowledgeV1.MatchSource.MATCH_SOURCE_VECTOR);
  });

  test('an ingest whose collection is switched to new vectors meanwhile starts again there', async () => {
    const target = await h.createCollection({ name: 'switched' });
    const fresh = 'knowledge_switchedbyhand';
    await h.chroma.create(fresh);
    // What a reindex's switch does while this ingest is under way, before its first chunk
    // insert (parsing 10,000 rows takes a while): lock the collection row, point it at a new
    // Chroma collection, commit, drop the old one. The ingest's inserts wait for the commit.
    const doc = await withClient(h.db.url, async (switcher) => {
      const uploaded = await h.upload(target.id, 'big.csv', csv(ROWS_SWITCHED, 20000));
      await switcher.query('begin');
      await switcher.query('select 1 from knowledge.knowledge_collections where id = $1 for update', [
        target.id,
      ]);
      await switcher.query(
        'update knowledge.knowledge_collections set chroma_collection_id = $1 where id = $2',
        [fresh, target.id],
      );
      // The ingest has read the (old) collection once it marks the document processing; its
      // chunk inserts then wait for this transaction.
      const [seen] = await eventually(
        () => h.rows('select upload_status from knowledge.knowledge_documents where id = $1', [uploaded.id]),
        ([d]) => d.upload_status !== 'uploading',
      );
      expect(seen).toEqual({ upload_status: 'processing' });
      await switcher.query('commit');
      return uploaded;
    });
    await h.chroma.drop(target.chromaCollectionId);
    const events = await h.watch(doc.id);
    expect(events.map((e) => e.event!.message)).toContain(
      'the collection was reindexed meanwhile; ingesting again',
    );
    expect(events.at(-1)!.event!.stage).toBe(knowledgeV1.IngestStage.INGEST_STAGE_COMPLETED);
    const [stored] = await h.rows(
      'select upload_status, chunk_count from knowledge.knowledge_documents where id = $1',
      [doc.id],
    );
    expect(stored).toEqual({ upload_status: 'completed', chunk_count: ROWS_SWITCHED });
    const rows = (
      await h.rows('select id::text from knowledge.knowledge_chunks where document_id = $1 order by id', [
        doc.id,
      ])
    ).map((r) => String(r.id));
    expect(rows).toHaveLength(ROWS_SWITCHED);
    expect(await chromaIds(fresh)).toEqual(rows);
  });

  test('refused while a document is being ingested; only managers may reindex', async () => {
    const [busy] = await h.rows(
      `insert into knowledge.knowledge_documents (collection_id, filename, file_path, upload_status)
       values ($1, 'busy.csv', '/nonexistent', 'processing') returning id`,
      [col.id],
    );
    expect(await statusOf(h.call('reindexCollection', { id: col.id, embeddingModel: BUILTIN_MODEL }))).toBe(
      status.FAILED_PRECONDITION,
    );
    await h.rows('delete from knowledge.knowledge_documents where id = $1', [busy.id]);
    expect(
      await statusOf(h.call('reindexCollection', { id: col.id, embeddingModel: BUILTIN_MODEL }, h.other)),
    ).toBe(status.NOT_FOUND);
  });
});
