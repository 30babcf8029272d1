/**
 * Knowledge ingest and retrieval benchmark (not a Jest suite):
 *
 *   npx tsx services/knowledge/test/knowledge-bench.ts [--rows N] [--queries N] [--rounds N]
 *   (or KNOWLEDGE_BENCH_ROWS / KNOWLEDGE_BENCH_QUERIES; 100,000 rows take several minutes)
 *
 * Starts its own ChromaDB and the knowledge service (real Postgres, the machine's NATS),
 * then prints side by side: (1) ingest of an N-row fault-code CSV through UploadDocument
 * with the built-in embedder vs ChromaDB's bare insert of the same vectors (batches of
 * 1,000); (2) hybrid Retrieve latency vs a bare Chroma query of the same vectors; (3)
 * recall@5 on the Chinese fault-code corpus of the tests (exact codes and paraphrased
 * questions), hybrid Retrieve vs a vector-only Chroma query of the same chunks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { knowledgeV1 } from '@charge/contracts';
import {
  clientFor,
  createTestDatabase,
  sharedNatsUrl,
  startTestService,
  TestTokenIssuer,
  unary,
  withToken,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig } from '../src/config';
import { parseDocument } from '../src/domain/documents';
import { hashedEmbedding } from '../src/domain/hashed-embedder';
import { Tokenizer } from '../src/domain/tokenizer';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';
import { ChromaStore } from '../src/vector/chroma-store';
import { TestChromaServer } from './chroma-server';
import { FAULT_CORPUS, PARAPHRASES } from './fixtures';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('rows', Number(process.env.KNOWLEDGE_BENCH_ROWS) || 5000);
const QUERIES = arg('queries', Number(process.env.KNOWLEDGE_BENCH_QUERIES) || 200);
/** Ingest/insert rounds (medians are printed); one by default above 20,000 rows. */
const ROUNDS = arg('rounds', ROWS > 20_000 ? 1 : 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

function corpusCsv(rows: number): string {
  const lines = ['故障码,故障名称,原因,处理措施'];
  for (let i = 0; i < rows; i++) {
    const [, name, cause, action] = FAULT_CORPUS[i % FAULT_CORPUS.length];
    lines.push(`${10000 + i},${name}${i},${cause}（设备${i % 97}号）,${action}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const db = await createTestDatabase('kbench');
  const chromaServer = await TestChromaServer.start();
  const issuer = await TestTokenIssuer.start();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knowledge-bench-'));
  await migrateSchemas(db.url, { SCHEMA, entities, migrations });
  const service = await startTestService(
    { name: 'knowledge', loadConfig, build },
    {
      env: {
        DATABASE_URL: db.url,
        NATS_URL: sharedNatsUrl(),
        AUTH_GRPC_ADDR: issuer.address,
        CHROMA_URL: chromaServer.url,
        KNOWLEDGE_DATA_DIR: dataDir,
        KNOWLEDGE_HTTP_PORT: '0',
      },
    },
  );
  const client = clientFor(knowledgeV1.KnowledgeServiceClient, service);
  const md: Metadata = withToken(issuer.issue({ userId: 1, role: 'admin' }));
  const call = <Res>(method: keyof knowledgeV1.KnowledgeServiceClient, req: unknown) =>
    unary(
      (client[method] as never as (...a: unknown[]) => unknown).bind(client) as never,
      req,
      md,
    ) as Promise<Res>;
  try {
    const csv = corpusCsv(ROWS);
    const tokenizer = new Tokenizer();
    // The very vectors the ingest computes: the chunks' texts, embedded by the built-in model.
    const chunks = parseDocument('csv', Buffer.from(csv), { chunkSize: 800, chunkOverlap: 100 }).chunks;
    const vectors = chunks.map((c) => hashedEmbedding(c.content, tokenizer.tokens(c.content)));

    // Bare Chroma insert of the same vectors.
    const chroma = new ChromaStore(chromaServer.url);
    /** ChromaDB's own insert of the same vectors, batches of 1,000 one after another (as the ingest adds them). */
    const bareInsert = async (name: string) => {
      await chroma.create(name);
      const t0 = performance.now();
      await chroma.add(
        name,
        vectors.map((embedding, i) => ({ id: `v${i}`, embedding, metadata: { document_id: 1 } })),
      );
      return (performance.now() - t0) / 1000;
    };
    /** UploadDocument into a new collection until the document is searchable. */
    const ingest = async (round: number) => {
      const { collection } = await call<knowledgeV1.CreateCollectionResponse>(
        'createCollection',
        knowledgeV1.CreateCollectionRequest.fromPartial({
          name: `bench ${round}`,
          collectionType: knowledgeV1.CollectionType.COLLECTION_TYPE_TABLE,
        }),
      );
      const t0 = performance.now();
      const doc = await new Promise<knowledgeV1.Document>((resolve, reject) => {
        const stream = client.uploadDocument(
          md,
          (err: ServiceError | null, res: knowledgeV1.UploadDocumentResponse) =>
            err ? reject(err) : resolve(res.document!),
        );
        stream.write({ header: { collectionId: collection!.id, filename: 'bench.csv', overwrite: false } });
        const bytes = Buffer.from(csv);
        for (let i = 0; i < bytes.length; i += 64 * 1024)
          stream.write({ chunk: bytes.subarray(i, i + 64 * 1024) });
        stream.end();
      });
      // Until the document is searchable (WatchDocument polls at 200 ms: too coarse to time by).
      let done: knowledgeV1.Document;
      for (;;) {
        done = (
          await call<knowledgeV1.GetDocumentResponse>(
            'getDocument',
            knowledgeV1.GetDocumentRequest.fromPartial({ id: doc.id }),
          )
        ).document!;
        if (done.uploadStatus >= knowledgeV1.UploadStatus.UPLOAD_STATUS_COMPLETED) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const seconds = (performance.now() - t0) / 1000;
      if (done.chunkCount !== ROWS) throw new Error(`ingest: ${done.processingError}`);
      return { seconds, collection: collection! };
    };

    // Rounds in ABBA order, so neither side always runs on the warmer (or busier) server.
    const bareTimes: number[] = [];
    const ingestTimes: number[] = [];
    let collection!: knowledgeV1.Collection;
    for (let r = 0; r < ROUNDS; r++) {
      const bareFirst = r % 2 === 0;
      if (bareFirst) bareTimes.push(await bareInsert(`bench_bare_${r}`));
      const ours = await ingest(r);
      ingestTimes.push(ours.seconds);
      collection = ours.collection;
      if (!bareFirst) bareTimes.push(await bareInsert(`bench_bare_${r}`));
      process.stdout.write(
        `round ${r + 1}: ingest ${ours.seconds.toFixed(2)} s, bare ${bareTimes[r].toFixed(2)} s, ratio ${(ours.seconds / bareTimes[r]).toFixed(2)}\n`,
      );
    }
    const bareInsertS = median(bareTimes);
    const ingestS = median(ingestTimes);
    const bareName = `bench_bare_${ROUNDS - 1}`;

    // Retrieval latency: hybrid through gRPC vs a bare Chroma query.
    const queries = Array.from({ length: QUERIES }, (_, i) => {
      const [code, name, cause] = FAULT_CORPUS[i % FAULT_CORPUS.length];
      return i % 3 === 0
        ? String(10000 + i)
        : i % 3 === 1
          ? `${name}怎么处理`
          : `${cause.slice(0, 8)} ${code}`;
    });
    const hybrid: number[] = [];
    const bare: number[] = [];
    for (const q of queries) {
      let s = performance.now();
      await call(
        'retrieve',
        knowledgeV1.RetrieveRequest.fromPartial({
          collectionIds: [collection!.id],
          query: q,
          options: { topK: 5 },
        }),
      );
      hybrid.push(performance.now() - s);
      const v = hashedEmbedding(q, tokenizer.tokens(q));
      s = performance.now();
      await chroma.query(bareName, v, 5);
      bare.push(performance.now() - s);
    }
    // Quality: recall@5 on the fault-code corpus, hybrid vs vector-only over the same vectors.
    const { collection: quality } = await call<knowledgeV1.CreateCollectionResponse>(
      'createCollection',
      knowledgeV1.CreateCollectionRequest.fromPartial({
        name: 'bench quality',
        collectionType: knowledgeV1.CollectionType.COLLECTION_TYPE_TABLE,
      }),
    );
    const qualityCsv = ['故障码,故障名称,原因,处理措施', ...FAULT_CORPUS.map((r) => r.join(','))].join('\n');
    const qualityChunks = parseDocument('csv', Buffer.from(qualityCsv), {
      chunkSize: 800,
      chunkOverlap: 100,
    }).chunks;
    await new Promise<void>((resolve, reject) => {
      const stream = client.uploadDocument(md, (err: ServiceError | null) => (err ? reject(err) : resolve()));
      stream.write({ header: { collectionId: quality!.id, filename: 'quality.csv', overwrite: false } });
      stream.write({ chunk: Buffer.from(qualityCsv) });
      stream.end();
    });
    for (;;) {
      const { documents } = await call<knowledgeV1.ListDocumentsResponse>(
        'listDocuments',
        knowledgeV1.ListDocumentsRequest.fromPartial({ collectionId: quality!.id }),
      );
      if (documents[0]?.uploadStatus === knowledgeV1.UploadStatus.UPLOAD_STATUS_COMPLETED) break;
      if (documents[0]?.uploadStatus === knowledgeV1.UploadStatus.UPLOAD_STATUS_FAILED)
        throw new Error(`quality ingest: ${documents[0].processingError}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await chroma.create('bench_quality_bare');
    await chroma.add(
      'bench_quality_bare',
      qualityChunks.map((c, i) => ({
        id: `q${i}`,
        embedding: hashedEmbedding(c.content, tokenizer.tokens(c.content)),
        metadata: { document_id: 1, ordinal: i },
      })),
    );
    const codeOfOrdinal = (i: number) => FAULT_CORPUS[i][0];
    const recall = async (pairs: [string, string][]) => {
      let ours = 0;
      let theirs = 0;
      for (const [query, code] of pairs) {
        const { passages } = await call<knowledgeV1.RetrieveResponse>(
          'retrieve',
          knowledgeV1.RetrieveRequest.fromPartial({
            collectionIds: [quality!.id],
            query,
            options: { topK: 5 },
          }),
        );
        if (passages.some((p) => p.primaryTag === `故障码=${code}`)) ours++;
        const hits = await chroma.query(
          'bench_quality_bare',
          hashedEmbedding(query, tokenizer.tokens(query)),
          5,
        );
        if (hits.some((h) => codeOfOrdinal(Number(h.id.slice(1))) === code)) theirs++;
      }
      return [ours / pairs.length, theirs / pairs.length];
    };
    const [codesOurs, codesBare] = await recall(FAULT_CORPUS.map((r) => [r[0], r[0]]));
    const [paraOurs, paraBare] = await recall(PARAPHRASES);

    const row = (label: string, ours: string, theirs: string) =>
      process.stdout.write(`${label.padEnd(34)}${ours.padStart(16)}${theirs.padStart(20)}\n`);
    process.stdout.write(
      `\nknowledge bench: ${ROWS} rows (768-d built-in embedder), ${QUERIES} queries, ingest median of ${ROUNDS}\n\n`,
    );
    row('', 'knowledge', 'bare ChromaDB');
    row('ingest / insert (s)', ingestS.toFixed(2), bareInsertS.toFixed(2));
    row('ingest / insert (rows/s)', (ROWS / ingestS).toFixed(0), (ROWS / bareInsertS).toFixed(0));
    row('ratio (target ≤ 1.25)', (ingestS / bareInsertS).toFixed(2), '');
    row('query p50 (ms) (target ≤ 20)', pct(hybrid, 50).toFixed(1), pct(bare, 50).toFixed(1));
    row('query p95 (ms) (target ≤ 50)', pct(hybrid, 95).toFixed(1), pct(bare, 95).toFixed(1));
    process.stdout.write(
      `\nrecall@5 on the ${FAULT_CORPUS.length}-code corpus, ${PARAPHRASES.length} paraphrases (bare: vector only)\n`,
    );
    row('codes (target ≥ 0.95)', codesOurs.toFixed(2), codesBare.toFixed(2));
    row('paraphrases (target ≥ 0.7)', paraOurs.toFixed(2), paraBare.toFixed(2));
  } finally {
    client.close();
    await service.stop();
    await issuer.stop();
    await chromaServer.dispose();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
