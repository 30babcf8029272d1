import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { knowledgeV1 } from '@charge/contracts';
import { createLogger, createOrm } from '@charge/service-kit';
import { eventually } from '@charge/testing';
import { hashedEmbedding } from '../src/domain/hashed-embedder';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';
import { ownerTag, vectorOwner } from '../src/use-cases/vector-owner';
import { VectorSweeper } from '../src/use-cases/vector-sweep';
import { FAULT_CSV } from './fixtures';
import { KnowledgeHarness } from './knowledge-harness';

const HOUR = 3_600_000;

describe('orphaned vectors left by a crash are swept', () => {
  let h: KnowledgeHarness;
  let orm: MikroORM;
  let sweeper: VectorSweeper;
  let owner: string;
  let faults: knowledgeV1.Collection;
  let doc: knowledgeV1.Document;

  const vector = (id: string, documentId: number) => ({
    id,
    embedding: hashedEmbedding(id, []),
    metadata: { document_id: documentId },
  });
  const chunkIds = async (collectionId: number) =>
    (
      await h.rows('select id::text from knowledge.knowledge_chunks where collection_id = $1 order by id', [
        collectionId,
      ])
    ).map((r) => String(r.id));
  const chromaIds = async (name: string) =>
    (await h.chroma.page(name, 0, 10_000)).map((v) => v.id).sort((a, b) => a.localeCompare(b));

  beforeAll(async () => {
    // Periodic sweeps off: the test runs them itself.
    h = await KnowledgeHarness.start({ KNOWLEDGE_SWEEP_INTERVAL_MS: '0' });
    orm = await createOrm({ schema: SCHEMA, entities, migrations, databaseUrl: h.db.url });
    sweeper = new VectorSweeper(orm, h.chroma, createLogger({ service: 'sweep-test', level: 'silent' }), {
      pageSize: 2,
      maxVectorsPerRun: 10_000,
      graceMs: HOUR,
    });
    owner = await vectorOwner(orm.em.fork());
    faults = await h.createCollection({ name: 'faults' });
    doc = await h.ingest(faults.id, 'faults.csv', FAULT_CSV);
    expect(doc.chunkCount).toBe(5);
  }, 60_000);

  afterAll(async () => {
    await orm?.close();
    await h?.stop();
  });

  test('vectors without chunk rows and stale unreferenced collections go; real ones and in-flight ingests stay', async () => {
    const real = await chunkIds(faults.id);
    // A crash between the Chroma add and the Postgres commit: vectors no row references.
    const orphans = [randomUUID(), randomUUID(), randomUUID()];
    await h.chroma.add(faults.chromaCollectionId, [
      ...orphans.map((id) => vector(id, doc.id)),
      vector('not-even-a-uuid', 424242),
    ]);
    expect(await h.chroma.count(faults.chromaCollectionId)).toBe(9);

    // A collection with an ingest in flight: its vectors have no rows yet and must stay.
    const busy = await h.createCollection({ name: 'busy' });
    const [inFlight] = await h.rows(
      `insert into knowledge.knowledge_documents (collection_id, filename, file_path, upload_status)
       values ($1, 'in-flight.csv', '/nonexistent', 'processing') returning id`,
      [busy.id],
    );
    await h.chroma.add(busy.chromaCollectionId, [vector(randomUUID(), Number(inFlight.id))]);

    // Chroma collections no knowledge collection references: stale, fresh, another deployment's.
    await h.chroma.create('knowledge_crashedcreate', {
      ...ownerTag(owner),
      touched_at: Date.now() - 2 * HOUR,
    });
    await h.chroma.create('knowledge_reindexing', ownerTag(owner));
    await h.chroma.create('knowledge_otherdeployment', {
      ...ownerTag('elsewhere:1'),
      touched_at: Date.now() - 2 * HOUR,
    });
    await h.chroma.create('unrelated_collection');

    const result = await sweeper.sweep();
    expect(result).toEqual({ vectorsRemoved: 4, collectionsDropped: ['knowledge_crashedcreate'] });
    expect(await chromaIds(faults.chromaCollectionId)).toEqual(real);
    expect(await h.chroma.count(busy.chromaCollectionId)).toBe(1);
    const names = (await h.chroma.list('')).map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([
        faults.chromaCollectionId,
        busy.chromaCollectionId,
        'knowledge_reindexing',
        'knowledge_otherdeployment',
        'unrelated_collection',
      ]),
    );
    expect(names).not.toContain('knowledge_crashedcreate');

    // Retrieval still finds the real chunks; a second sweep finds nothing.
    expect((await h.retrieve([faults.id], '停充码=1003'))[0].primaryTag).toBe('停充码=1003');
    expect(await sweeper.sweep()).toEqual({ vectorsRemoved: 0, collectionsDropped: [] });
    await h.rows('delete from knowledge.knowledge_documents where id = $1', [inFlight.id]);
  });

  test('a document left processing by a crash is re-ingested at start-up without its first attempt’s vectors', async () => {
    const col = await h.createCollection({ name: 'crashed' });
    const dir = path.join(h.dataDir, 'documents', String(col.id));
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'crashed.csv');
    writeFileSync(file, FAULT_CSV);
    const [row] = await h.rows(
      `insert into knowledge.knowledge_documents (collection_id, filename, file_path, file_size, file_type, upload_status)
       values ($1, 'faults.csv', $2, $3, 'csv', 'processing') returning id`,
      [col.id, file, FAULT_CSV.length],
    );
    const id = Number(row.id);
    await h.chroma.add(col.chromaCollectionId, [vector(randomUUID(), id), vector(randomUUID(), id)]);
    // And a stale Chroma collection of a create that crashed before its row was written.
    await h.chroma.create('knowledge_leftover', { ...ownerTag(owner), touched_at: Date.now() - 2 * HOUR });

    await h.stopService();
    await h.startService({ KNOWLEDGE_SWEEP_INTERVAL_MS: '0' });
    const [d] = await eventually(
      () =>
        h.rows('select upload_status, chunk_count from knowledge.knowledge_documents where id = $1', [id]),
      ([r]) => r.upload_status === 'completed',
    );
    expect(d).toEqual({ upload_status: 'completed', chunk_count: 5 });
    expect(await chromaIds(col.chromaCollectionId)).toEqual(await chunkIds(col.id));
    const left = await eventually(
      () => h.chroma.list('knowledge_leftover'),
      (l) => !l.length,
    );
    expect(left).toEqual([]);
  });
});
