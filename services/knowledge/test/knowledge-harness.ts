import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { knowledgeV1 } from '@charge/contracts';
import { type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  freePort,
  sharedNatsUrl,
  startTestService,
  TestTokenIssuer,
  unary,
  withClient,
  withToken,
  type TestDatabase,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig, type KnowledgeConfig } from '../src/config';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';
import { ChromaStore } from '../src/vector/chroma-store';
import { TestChromaServer } from './chroma-server';

type UnaryFn = (req: unknown, md: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => unknown;

/**
 * One knowledge service on real Postgres (fresh database), the machine's NATS and a ChromaDB
 * of its own, with gRPC helpers. For the smaller suites; `knowledge-service.test.ts` keeps
 * its own set-up (it also needs fake embedding and chat servers).
 */
export class KnowledgeHarness {
  owner!: Metadata;
  other!: Metadata;
  admin!: Metadata;
  difyUrl = '';
  private client!: knowledgeV1.KnowledgeServiceClient;

  private constructor(
    readonly db: TestDatabase,
    readonly chromaServer: TestChromaServer,
    readonly chroma: ChromaStore,
    private readonly issuer: TestTokenIssuer,
    readonly dataDir: string,
    private service?: RunningService<KnowledgeConfig>,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<KnowledgeHarness> {
    const [db, chromaServer, issuer] = await Promise.all([
      createTestDatabase('knowledge'),
      TestChromaServer.start(),
      TestTokenIssuer.start(),
    ]);
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    const h = new KnowledgeHarness(
      db,
      chromaServer,
      new ChromaStore(chromaServer.url),
      issuer,
      mkdtempSync(path.join(tmpdir(), 'knowledge-data-')),
    );
    h.owner = withToken(issuer.issue({ userId: 10 }));
    h.other = withToken(issuer.issue({ userId: 11 }));
    h.admin = withToken(issuer.issue({ userId: 1, role: 'admin' }));
    await h.startService(env);
    return h;
  }

  /** Starts (or restarts) the service on the same database, Chroma and data dir. */
  async startService(env: Record<string, string> = {}): Promise<void> {
    const httpPort = await freePort();
    this.difyUrl = `http://127.0.0.1:${httpPort}/retrieval`;
    this.service = await startTestService(
      { name: 'knowledge', loadConfig, build },
      {
        env: {
          DATABASE_URL: this.db.url,
          NATS_URL: sharedNatsUrl(),
          AUTH_GRPC_ADDR: this.issuer.address,
          CHROMA_URL: this.chromaServer.url,
          KNOWLEDGE_DATA_DIR: this.dataDir,
          KNOWLEDGE_HTTP_PORT: String(httpPort),
          KNOWLEDGE_DIFY_API_KEYS: 'dify-test-key',
          ...env,
        },
      },
    );
    this.client = clientFor(knowledgeV1.KnowledgeServiceClient, this.service);
  }

  async stopService(): Promise<void> {
    this.client?.close();
    await this.service?.stop();
    this.service = undefined;
  }

  async stop(): Promise<void> {
    await this.stopService();
    await this.issuer.stop();
    await this.chromaServer.dispose();
    await this.db.drop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  rows(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return withClient(this.db.url, (c) =>
      c.query(sql, params).then((r) => r.rows as Record<string, unknown>[]),
    );
  }

  call<Res = unknown>(method: string, req: object, md: Metadata = this.owner): Promise<Res> {
    const type = (knowledgeV1 as unknown as Record<string, { fromPartial(o: object): unknown }>)[
      `${method[0].toUpperCase()}${method.slice(1)}Request`
    ];
    const fn = (this.client as unknown as Record<string, UnaryFn>)[method].bind(this.client);
    return unary(fn as never, type.fromPartial(req), md) as Promise<Res>;
  }

  async createCollection(
    req: Partial<knowledgeV1.CreateCollectionRequest>,
    md: Metadata = this.owner,
  ): Promise<knowledgeV1.Collection> {
    return (
      await this.call<knowledgeV1.CreateCollectionResponse>('createCollection', { name: 'c', ...req }, md)
    ).collection!;
  }

  upload(
    collectionId: number,
    filename: string,
    content: string | Uint8Array,
    overwrite = false,
    md: Metadata = this.owner,
  ): Promise<knowledgeV1.Document> {
    return new Promise((resolve, reject) => {
      const stream = this.client.uploadDocument(
        md,
        (err: ServiceError | null, res: knowledgeV1.UploadDocumentResponse) =>
          err ? reject(err) : resolve(res.document!),
      );
      stream.write({ header: { collectionId, filename, overwrite } });
      const bytes = Buffer.from(content);
      for (let i = 0; i < bytes.length; i += 64 * 1024)
        stream.write({ chunk: bytes.subarray(i, i + 64 * 1024) });
      stream.end();
    });
  }

  /** WatchDocument until the stream ends. */
  watch(id: number, md: Metadata = this.owner): Promise<knowledgeV1.WatchDocumentResponse[]> {
    return new Promise((resolve, reject) => {
      const events: knowledgeV1.WatchDocumentResponse[] = [];
      const stream = this.client.watchDocument(knowledgeV1.WatchDocumentRequest.fromPartial({ id }), md);
      stream.on('data', (e: knowledgeV1.WatchDocumentResponse) => events.push(e));
      stream.on('error', reject);
      stream.on('end', () => resolve(events));
    });
  }

  /** Upload, wait for the ingest to end, and return the document. */
  async ingest(
    collectionId: number,
    filename: string,
    content: string | Uint8Array,
    md: Metadata = this.owner,
  ): Promise<knowledgeV1.Document> {
    const doc = await this.upload(collectionId, filename, content, false, md);
    await this.watch(doc.id, md);
    return (await this.call<knowledgeV1.GetDocumentResponse>('getDocument', { id: doc.id }, md)).document!;
  }

  async retrieve(
    collectionIds: number[],
    query: string,
    options: object = {},
    md: Metadata = this.owner,
  ): Promise<knowledgeV1.RetrievedPassage[]> {
    return (await this.call<knowledgeV1.RetrieveResponse>('retrieve', { collectionIds, query, options }, md))
      .passages;
  }
}
