import { status, type ServiceError } from '@grpc/grpc-js';
import { knowledgeV1 } from '@charge/contracts';
import { statusOf } from '@charge/testing';
import { FAULT_CSV } from './fixtures';
import { KnowledgeHarness } from './knowledge-harness';

/** The gRPC error of a call expected to fail: code and machine reason. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ code: number; reason: string; details: string }> {
  const error = (await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  )) as ServiceError;
  return {
    code: error.code,
    reason: String(error.metadata?.get('error-reason')[0] ?? ''),
    details: error.details,
  };
}

describe('inactive collections are not searchable', () => {
  let h: KnowledgeHarness;
  let faults: knowledgeV1.Collection;
  let active: knowledgeV1.Collection;

  beforeAll(async () => {
    h = await KnowledgeHarness.start();
    faults = await h.createCollection({ name: 'faults', public: true }, h.admin);
    active = await h.createCollection({ name: 'active' }, h.owner);
    expect((await h.ingest(faults.id, 'faults.csv', FAULT_CSV, h.admin)).chunkCount).toBe(5);
    expect((await h.ingest(active.id, 'faults.csv', FAULT_CSV)).chunkCount).toBe(5);
  }, 60_000);

  afterAll(() => h?.stop());

  const setActive = (id: number, isActive: boolean) =>
    h.call<knowledgeV1.UpdateCollectionResponse>('updateCollection', { id, isActive }, h.admin);

  test('Retrieve, Query and Dify refuse a named inactive collection; nothing is logged', async () => {
    expect((await h.retrieve([faults.id], '停充码=1001'))[0].primaryTag).toBe('停充码=1001');
    expect((await setActive(faults.id, false)).collection!.isActive).toBe(false);

    const refused = await failure(h.retrieve([faults.id], '停充码=1001'));
    expect(refused).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'COLLECTION_INACTIVE' });
    expect(refused.details).toContain(`collection ${faults.id} is inactive`);
    // Named together with an active one: still refused, not silently narrowed.
    expect(await failure(h.retrieve([active.id, faults.id], '1001'))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'COLLECTION_INACTIVE',
    });
    expect(await statusOf(h.call('query', { collectionId: faults.id, query: '1001' }, h.admin))).toBe(
      status.FAILED_PRECONDITION,
    );
    expect(
      await h.rows('select count(*)::int as n from knowledge.rag_queries where collection_id = $1', [
        faults.id,
      ]),
    ).toEqual([{ n: 0 }]);

    const res = await fetch(h.difyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer dify-test-key' },
      body: JSON.stringify({ knowledge_id: String(faults.id), query: '停充码=1001' }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error_code: 2001 });

    // The other collection is unaffected.
    expect((await h.retrieve([active.id], '停充码=1002'))[0].primaryTag).toBe('停充码=1002');
  });

  test('admins still manage an inactive collection, and reactivating makes it searchable again', async () => {
    const got = await h.call<knowledgeV1.GetCollectionResponse>('getCollection', { id: faults.id }, h.admin);
    expect(got.collection).toMatchObject({ isActive: false, chunkCount: 5 });
    const docs = await h.call<knowledgeV1.ListDocumentsResponse>(
      'listDocuments',
      { collectionId: faults.id },
      h.admin,
    );
    expect(docs.documents).toHaveLength(1);
    const extra = await h.ingest(faults.id, 'more.csv', '停充码,故障名称\n1009,测试故障', h.admin);
    expect(extra.chunkCount).toBe(1);

    await setActive(faults.id, true);
    const hits = await h.retrieve([faults.id], '停充码=1009');
    expect(hits[0]).toMatchObject({ primaryTag: '停充码=1009', score: 1 });
    const [stored] = await h.rows('select is_active from knowledge.knowledge_collections where id = $1', [
      faults.id,
    ]);
    expect(stored).toEqual({ is_active: true });
  });
});
