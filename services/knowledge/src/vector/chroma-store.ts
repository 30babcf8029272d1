import { ChromaClient, type Collection } from 'chromadb';
import { DomainError, isDomainError } from '@charge/errors';

export interface VectorHit {
  id: string;
  /** Cosine similarity, in [-1, 1]. */
  similarity: number;
}

const BATCH = 1000;

/** Collection-level metadata the service sets: its deployment and the last time it wrote. */
export type CollectionTag = Record<string, string | number>;

/** ChromaDB access: one Chroma collection (cosine space) per knowledge collection. */
export class ChromaStore {
  private readonly client: ChromaClient;
  private readonly cache = new Map<string, Collection>();

  constructor(url: string) {
    const u = new URL(url);
    this.client = new ChromaClient({
      host: u.hostname,
      port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      ssl: u.protocol === 'https:',
    });
  }

  /** Any failure to reach Chroma becomes UNAVAILABLE (retryable as-is). */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isDomainError(error)) throw error;
      const name = (error as Error)?.name ?? '';
      if (name === 'ChromaNotFoundError') throw DomainError.notFound('vector collection', what);
      throw DomainError.unavailable(
        `vector store unavailable (${what}): ${(error as Error)?.message ?? String(error)}`,
        'CHROMA_UNAVAILABLE',
      );
    }
  }

  async heartbeat(): Promise<void> {
    await this.guard('heartbeat', () => this.client.heartbeat());
  }

  /** `metadata` marks who created it and when (see VectorSweeper). */
  async create(name: string, metadata?: CollectionTag): Promise<void> {
    const collection = await this.guard(`create ${name}`, () =>
      this.client.createCollection({
        name,
        configuration: { hnsw: { space: 'cosine' } },
        ...(metadata ? { metadata } : {}),
        embeddingFunction: null,
      }),
    );
    this.cache.set(name, collection);
  }

  /** Replaces the collection's metadata (a long reindex keeps its new collection fresh). */
  async tag(name: string, metadata: CollectionTag): Promise<void> {
    const collection = await this.collection(name);
    await this.guard(`modify ${name}`, () => collection.modify({ metadata }));
  }

  /** Every Chroma collection whose name starts with `prefix`, with its metadata. */
  async list(prefix: string): Promise<{ name: string; metadata: Record<string, unknown> }[]> {
    const found: { name: string; metadata: Record<string, unknown> }[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await this.guard('list collections', () =>
        this.client.listCollections({ limit: 100, offset }),
      );
      for (const c of page)
        if (c.name.startsWith(prefix)) found.push({ name: c.name, metadata: { ...(c.metadata ?? {}) } });
      if (page.length < 100) return found;
    }
  }

  /** A page of vector ids in storage order, with the `document_id` each was added for. */
  async page(
    name: string,
    offset: number,
    limit: number,
  ): Promise<{ id: string; documentId: number | null }[]> {
    const collection = await this.collection(name);
    const res = await this.guard(`read ${name}`, () =>
      collection.get({ offset, limit, include: ['metadatas'] as never }),
    );
    return res.ids.map((id, i) => {
      const doc = res.metadatas?.[i]?.document_id;
      return { id, documentId: typeof doc === 'number' ? doc : null };
    });
  }

  /** Removes every vector added for one document (a crashed earlier attempt's, say). */
  async removeDocument(name: string, documentId: number): Promise<void> {
    const collection = await this.collection(name);
    await this.guard(`delete from ${name}`, () => collection.delete({ where: { document_id: documentId } }));
  }

  /** Idempotent. */
  async drop(name: string): Promise<void> {
    this.cache.delete(name);
    try {
      await this.guard(`delete ${name}`, () => this.client.deleteCollection({ name }));
    } catch (error) {
      if (isDomainError(error) && error.kind === 'notFound') return;
      throw error;
    }
  }

  private async collection(name: string): Promise<Collection> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const collection = await this.guard(`open ${name}`, () => this.client.getCollection({ name }));
    this.cache.set(name, collection);
    return collection;
  }

  async add(
    name: string,
    items: { id: string; embedding: number[]; metadata: Record<string, string | number> }[],
  ): Promise<void> {
    const collection = await this.collection(name);
    for (let i = 0; i < items.length; i += BATCH) {
      const batch = items.slice(i, i + BATCH);
      await this.guard(`add to ${name}`, () =>
        collection.add({
          ids: batch.map((x) => x.id),
          embeddings: batch.map((x) => x.embedding),
          metadatas: batch.map((x) => x.metadata),
        }),
      );
    }
  }

  async remove(name: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const collection = await this.collection(name);
    for (let i = 0; i < ids.length; i += BATCH) {
      await this.guard(`delete from ${name}`, () => collection.delete({ ids: ids.slice(i, i + BATCH) }));
    }
  }

  async count(name: string): Promise<number> {
    const collection = await this.collection(name);
    return this.guard(`count ${name}`, () => collection.count());
  }

  async query(name: string, embedding: number[], k: number): Promise<VectorHit[]> {
    const collection = await this.collection(name);
    const result = await this.guard(`query ${name}`, () =>
      collection.query({ queryEmbeddings: [embedding], nResults: k, include: ['distances'] as never }),
    );
    const ids = result.ids[0] ?? [];
    const distances = result.distances?.[0] ?? [];
    return ids.map((id, i) => ({ id, similarity: 1 - (distances[i] ?? 1) }));
  }
}
