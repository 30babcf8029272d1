import { knowledgeV1 } from '@charge/contracts';
import { keywordTokens, tsqueryOf } from '../src/domain/tokenizer';
import { KEYWORD_RANK_CAP } from '../src/use-cases/candidate-sql';
import { KnowledgeHarness } from './knowledge-harness';

const K = knowledgeV1;

test('keyword tokens: single characters only when nothing longer is left; tsquery operators', () => {
  expect(keywordTokens(['直流', '输出', '对', '地', '绝缘'])).toEqual(['直流', '输出', '绝缘']);
  expect(keywordTokens(['对', '地'])).toEqual(['对', '地']);
  expect(tsqueryOf(['绝缘', "it's", '绝缘'], '&')).toBe("'绝缘' & 'its'");
  expect(tsqueryOf(['a-b', '3001'])).toBe("'ab' | '3001'");
});

describe('keyword search over many matching chunks', () => {
  let h: KnowledgeHarness;
  let col: knowledgeV1.Collection;
  // Far more chunks share the common words than a keyword branch ranks.
  const COMMON = KEYWORD_RANK_CAP * 3;

  beforeAll(async () => {
    h = await KnowledgeHarness.start({ KNOWLEDGE_SWEEP_INTERVAL_MS: '0' });
    col = await h.createCollection({ name: 'kw', collectionType: K.CollectionType.COLLECTION_TYPE_TABLE });
    const rows = ['故障码,说明'];
    for (let i = 0; i < COMMON; i++) rows.push(`${5000 + i},直流母线绝缘下降 检查线缆${i}`);
    rows.push('9999,直流母线绝缘下降 熔断器烧毁');
    rows.push('9998,熔断器更换记录');
    expect((await h.ingest(col.id, 'kw.csv', rows.join('\n'))).chunkCount).toBe(COMMON + 2);
  }, 60_000);

  afterAll(() => h?.stop());

  test('the chunk with every query word ranks first, then chunks with some; at most top_k', async () => {
    const keywordOnly = { topK: 5, vectorWeight: 0 };
    const hits = await h.retrieve([col.id], '直流母线绝缘 熔断器烧毁', keywordOnly);
    expect(hits).toHaveLength(5);
    expect(hits[0]).toMatchObject({
      primaryTag: '故障码=9999',
      matchedBy: [K.MatchSource.MATCH_SOURCE_KEYWORD],
    });
    expect(hits[0].keywordScore).toBeGreaterThan(hits[1].keywordScore);
    // No chunk has every word: the chunks with any of them, best ranked first.
    const any = await h.retrieve([col.id], '熔断器 母线 更换', keywordOnly);
    expect(
      any
        .map((p) => p.primaryTag)
        .slice(0, 2)
        .sort(),
    ).toEqual(['故障码=9998', '故障码=9999']);
    expect(any.every((p) => p.matchedBy.includes(K.MatchSource.MATCH_SOURCE_KEYWORD))).toBe(true);
  });

  test('hybrid: exact, keyword and vector hits fused; vector-only hits come with their rows', async () => {
    const hits = await h.retrieve([col.id], '故障码=5007', { topK: 3 });
    expect(hits[0]).toMatchObject({ primaryTag: '故障码=5007', score: 1 });
    expect(hits[0].matchedBy).toEqual(
      expect.arrayContaining([K.MatchSource.MATCH_SOURCE_EXACT, K.MatchSource.MATCH_SOURCE_VECTOR]),
    );
    const vectorOnly = await h.retrieve([col.id], '检查线缆12', { topK: 3, vectorWeight: 1 });
    expect(vectorOnly[0].content).toContain('检查线缆12');
    expect(vectorOnly[0].citation).toMatchObject({ filename: 'kw.csv', collectionId: col.id });
  });
});
