import { knowledgeV1 } from '@charge/contracts';
import { DomainError } from '@charge/errors';
import type { Fusion } from '../domain/fusion';
import type { CollectionRow } from '../persistence/collection.entity';
import type { DocumentEventRow, IngestStage } from '../persistence/document-event.entity';
import type { DocumentRow, UploadStatus } from '../persistence/document.entity';
import type { RagQueryRow } from '../persistence/rag-query.entity';
import type { CollectionKind } from '../use-cases/collections';
import type { MatchSource, Passage, RetrievalOptions } from '../use-cases/retrieval';

const K = knowledgeV1;
const json = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));

const TYPES: Record<CollectionKind, knowledgeV1.CollectionType> = {
  document: K.CollectionType.COLLECTION_TYPE_DOCUMENT,
  guide: K.CollectionType.COLLECTION_TYPE_GUIDE,
  faq: K.CollectionType.COLLECTION_TYPE_FAQ,
  table: K.CollectionType.COLLECTION_TYPE_TABLE,
};
const STATUSES: Record<UploadStatus, knowledgeV1.UploadStatus> = {
  uploading: K.UploadStatus.UPLOAD_STATUS_UPLOADING,
  processing: K.UploadStatus.UPLOAD_STATUS_PROCESSING,
  completed: K.UploadStatus.UPLOAD_STATUS_COMPLETED,
  failed: K.UploadStatus.UPLOAD_STATUS_FAILED,
};
const STAGES: Record<IngestStage, knowledgeV1.IngestStage> = {
  received: K.IngestStage.INGEST_STAGE_RECEIVED,
  parsed: K.IngestStage.INGEST_STAGE_PARSED,
  chunked: K.IngestStage.INGEST_STAGE_CHUNKED,
  embedded: K.IngestStage.INGEST_STAGE_EMBEDDED,
  stored: K.IngestStage.INGEST_STAGE_STORED,
  completed: K.IngestStage.INGEST_STAGE_COMPLETED,
  failed: K.IngestStage.INGEST_STAGE_FAILED,
};
const SOURCES: Record<MatchSource, knowledgeV1.MatchSource> = {
  exact: K.MatchSource.MATCH_SOURCE_EXACT,
  keyword: K.MatchSource.MATCH_SOURCE_KEYWORD,
  vector: K.MatchSource.MATCH_SOURCE_VECTOR,
};

const reverse = <T extends string>(
  table: Record<T, number>,
  field: string,
  value: number | undefined,
): T | undefined => {
  if (!value) return undefined;
  const hit = (Object.entries(table) as [T, number][]).find(([, v]) => v === value);
  if (!hit) throw DomainError.invalidArgument(field, `unknown value ${value}`);
  return hit[0];
};

export const collectionKind = (field: string, v: number | undefined) => reverse(TYPES, field, v);
export const statusFilter = (v: number | undefined) => reverse(STATUSES, 'upload_status', v);
export const stageOf = (s: IngestStage) => STAGES[s];
export const statusOf = (s: UploadStatus) => STATUSES[s];

export function toCollection(c: CollectionRow): knowledgeV1.Collection {
  return {
    id: c.id,
    name: c.name,
    description: c.description ?? '',
    collectionType: TYPES[c.collectionType as CollectionKind] ?? K.CollectionType.COLLECTION_TYPE_UNSPECIFIED,
    chromaCollectionId: c.chromaCollectionId ?? '',
    documentCount: c.documentCount ?? 0,
    embeddingModel: c.embeddingModel ?? '',
    isActive: c.isActive,
    createdBy: c.createdBy ?? 0,
    chunkSize: c.chunkSize,
    chunkOverlap: c.chunkOverlap,
    chunkCount: c.chunkCount ?? 0,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export function toDocument(d: DocumentRow): knowledgeV1.Document {
  return {
    id: d.id,
    collectionId: d.collectionId,
    filename: d.filename,
    fileSize: String(d.fileSize ?? 0),
    fileType: d.fileType ?? '',
    chunkCount: d.chunkCount ?? 0,
    metaInfo: json(d.metaInfo),
    uploadStatus: STATUSES[d.uploadStatus] ?? K.UploadStatus.UPLOAD_STATUS_UNSPECIFIED,
    processingError: d.processingError ?? '',
    uploadedBy: d.uploadedBy ?? 0,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function toEvent(e: DocumentEventRow): knowledgeV1.DocumentEvent {
  return {
    id: String(e.id),
    documentId: e.documentId,
    stage: STAGES[e.stage] ?? K.IngestStage.INGEST_STAGE_UNSPECIFIED,
    message: e.message,
    done: e.done,
    total: e.total,
    createdAt: e.createdAt,
  };
}

export function toPassage(p: Passage): knowledgeV1.RetrievedPassage {
  return {
    content: p.content,
    score: p.score,
    citation: p.citation,
    matchedBy: p.matchedBy.map((m) => SOURCES[m]),
    vectorScore: p.vectorScore,
    keywordScore: p.keywordScore,
    primaryTag: p.primaryTag,
  };
}

export function toRagQuery(q: RagQueryRow): knowledgeV1.RagQuery {
  return {
    id: q.id,
    collectionId: q.collectionId,
    queryText: q.queryText,
    resultCount: q.resultCount ?? 0,
    responseText: json(q.responseText),
    userId: q.userId ?? 0,
    queryTimeMs: q.queryTimeMs ?? 0,
    createdAt: q.createdAt,
  };
}

export function retrievalOptions(o: knowledgeV1.RetrievalOptions | undefined): RetrievalOptions {
  const fusion: Fusion = o?.fusion === K.FusionMethod.FUSION_METHOD_WEIGHTED ? 'weighted' : 'rrf';
  if (o?.fusion && !Object.values(K.FusionMethod).includes(o.fusion))
    throw DomainError.invalidArgument('options.fusion', `unknown value ${o.fusion}`);
  return {
    topK: o?.topK,
    scoreThreshold: o?.scoreThreshold,
    vectorWeight: o?.vectorWeight,
    fusion,
    filters: o?.filters ?? {},
  };
}
