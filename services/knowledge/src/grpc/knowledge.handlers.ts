import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { knowledgeV1 } from '@charge/contracts';
import { DomainError } from '@charge/errors';
import { callerOf, collectUpload, fileUploadMessages, type CallContext, type Rpc } from '@charge/service-kit';
import type { CollectionUseCases } from '../use-cases/collections';
import type { DocumentUseCases, UploadHeader } from '../use-cases/documents';
import type { RetrievalUseCases } from '../use-cases/retrieval';
import {
  collectionKind,
  retrievalOptions,
  statusFilter,
  statusOf,
  toCollection,
  toDocument,
  toEvent,
  toPassage,
  toRagQuery,
} from './mapping';

export interface KnowledgeHandlerDeps {
  rpc: Rpc;
  collections: CollectionUseCases;
  documents: DocumentUseCases;
  retrieval: RetrievalUseCases;
  maxDocumentBytes: number;
  /** WatchDocument's polling interval. */
  watchIntervalMs: number;
}

const caller = callerOf;

const page = (p: { nextPageToken: string; totalSize: number }) => ({
  nextPageToken: p.nextPageToken,
  totalSize: p.totalSize,
});

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Proto ⇄ use-case mapping for charge.knowledge.v1.KnowledgeService. */
export function knowledgeHandlers(deps: KnowledgeHandlerDeps): UntypedServiceImplementation {
  const { rpc, collections, documents, retrieval } = deps;
  /** One document upload: the header first, then chunks; stored whole, ingested in the background. */
  async function receiveDocument(
    messages: AsyncIterable<knowledgeV1.UploadDocumentRequest>,
    ctx: CallContext,
  ): Promise<knowledgeV1.UploadDocumentResponse> {
    const who = caller(ctx);
    const { header, bytes } = await collectUpload(messages, {
      maxBytes: deps.maxDocumentBytes,
      tooLargeReason: 'DOCUMENT_TOO_LARGE',
      header: async (h): Promise<UploadHeader> => {
        const header = { collectionId: h.collectionId, filename: h.filename, overwrite: h.overwrite };
        await documents.checkHeader(ctx.em, who, header);
        return header;
      },
    });
    return { document: toDocument(await documents.upload(ctx.em, who, header, bytes)) };
  }

  return {
    createCollection: rpc.unary<knowledgeV1.CreateCollectionRequest, knowledgeV1.CreateCollectionResponse>(
      async (req, ctx) => ({
        collection: toCollection(
          await collections.create(ctx.em, caller(ctx), {
            name: req.name,
            description: req.description,
            collectionType: collectionKind('collection_type', req.collectionType),
            embeddingModel: req.embeddingModel,
            chunkSize: req.chunkSize,
            chunkOverlap: req.chunkOverlap,
            public: req.public,
          }),
        ),
      }),
    ),
    listCollections: rpc.unary<knowledgeV1.ListCollectionsRequest, knowledgeV1.ListCollectionsResponse>(
      async (req, ctx) => {
        const res = await collections.list(ctx.em, caller(ctx), {
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
          collectionType: collectionKind('collection_type', req.collectionType),
        });
        return { collections: res.items.map(toCollection), page: page(res) };
      },
    ),
    getCollection: rpc.unary<knowledgeV1.GetCollectionRequest, knowledgeV1.GetCollectionResponse>(
      async (req, ctx) => ({ collection: toCollection(await collections.get(ctx.em, caller(ctx), req.id)) }),
    ),
    updateCollection: rpc.unary<knowledgeV1.UpdateCollectionRequest, knowledgeV1.UpdateCollectionResponse>(
      async (req, ctx) => ({
        collection: toCollection(
          await collections.update(ctx.em, caller(ctx), req.id, {
            name: req.name,
            description: req.description,
            collectionType: collectionKind('collection_type', req.collectionType),
            embeddingModel: req.embeddingModel,
            isActive: req.isActive,
            chunkSize: req.chunkSize,
            chunkOverlap: req.chunkOverlap,
          }),
        ),
      }),
    ),
    deleteCollection: rpc.unary<knowledgeV1.DeleteCollectionRequest, knowledgeV1.DeleteCollectionResponse>(
      async (req, ctx) => {
        await collections.delete(ctx.em, caller(ctx), req.id);
        return {};
      },
    ),
    reindexCollection: rpc.unary<knowledgeV1.ReindexCollectionRequest, knowledgeV1.ReindexCollectionResponse>(
      async (req, ctx) => {
        const res = await collections.reindex(ctx.em, caller(ctx), req.id, req.embeddingModel, ctx.signal);
        return { collection: toCollection(res.collection), chunkCount: res.chunkCount };
      },
    ),

    uploadDocument: rpc.clientStream<knowledgeV1.UploadDocumentRequest, knowledgeV1.UploadDocumentResponse>(
      receiveDocument,
    ),
    uploadDocumentFile: rpc.clientStream<
      knowledgeV1.UploadDocumentFileRequest,
      knowledgeV1.UploadDocumentFileResponse
    >((messages, ctx) =>
      receiveDocument(
        fileUploadMessages(messages, (m) => ({
          collectionId: m.collectionId,
          filename: m.filename,
          overwrite: m.overwrite,
        })),
        ctx,
      ),
    ),
    listDocuments: rpc.unary<knowledgeV1.ListDocumentsRequest, knowledgeV1.ListDocumentsResponse>(
      async (req, ctx) => {
        const res = await documents.list(ctx.em, caller(ctx), {
          collectionId: req.collectionId,
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
          status: statusFilter(req.uploadStatus),
        });
        return { documents: res.items.map(toDocument), page: page(res) };
      },
    ),
    getDocument: rpc.unary<knowledgeV1.GetDocumentRequest, knowledgeV1.GetDocumentResponse>(
      async (req, ctx) => ({
        document: toDocument(await documents.get(ctx.em, caller(ctx), req.id)),
      }),
    ),
    deleteDocument: rpc.unary<knowledgeV1.DeleteDocumentRequest, knowledgeV1.DeleteDocumentResponse>(
      async (req, ctx) => {
        await documents.delete(ctx.em, caller(ctx), req.id);
        return {};
      },
    ),
    watchDocument: rpc.serverStream<knowledgeV1.WatchDocumentRequest, knowledgeV1.WatchDocumentResponse>(
      async (req, send, ctx) => {
        await documents.get(ctx.em, caller(ctx), req.id);
        let after = '0';
        while (!ctx.signal.aborted) {
          const doc = await documents.status(ctx.em, req.id);
          if (!doc) throw DomainError.notFound('document', req.id);
          for (const event of await documents.events(ctx.em, req.id, after)) {
            after = String(event.id);
            await send({ event: toEvent(event), uploadStatus: statusOf(doc.uploadStatus) });
            if (event.stage === 'completed' || event.stage === 'failed') return;
          }
          await sleep(deps.watchIntervalMs, ctx.signal);
        }
      },
    ),

    retrieve: rpc.unary<knowledgeV1.RetrieveRequest, knowledgeV1.RetrieveResponse>(async (req, ctx) => {
      const started = performance.now();
      const passages = await retrieval.retrieve(
        ctx.em,
        caller(ctx),
        req.collectionIds,
        req.query,
        retrievalOptions(req.options),
        ctx.signal,
      );
      return { passages: passages.map(toPassage), queryTimeMs: Math.round(performance.now() - started) };
    }),
    query: rpc.unary<knowledgeV1.QueryRequest, knowledgeV1.QueryResponse>(async (req, ctx) => {
      const res = await retrieval.query(
        ctx.em,
        caller(ctx),
        req.collectionId,
        req.query,
        { ...retrievalOptions(req.options), synthesize: req.synthesize },
        ctx.signal,
      );
      return {
        queryId: res.id,
        passages: res.passages.map(toPassage),
        queryTimeMs: res.queryTimeMs,
        answer: res.answer,
      };
    }),
    listQueries: rpc.unary<knowledgeV1.ListQueriesRequest, knowledgeV1.ListQueriesResponse>(
      async (req, ctx) => {
        const res = await retrieval.history(ctx.em, caller(ctx), {
          collectionId: req.collectionId,
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
        });
        return { queries: res.items.map(toRagQuery), page: page(res) };
      },
    ),
  };
}
