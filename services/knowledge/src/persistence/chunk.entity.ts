import { EntitySchema } from '@mikro-orm/core';

export interface ChunkRow {
  id: string;
  documentId: number;
  collectionId: number;
  ordinal: number;
  content: string;
  /** jieba tokens, space-separated; `tsv` (a generated tsvector column) indexes them. */
  tokens: string;
  primaryKey?: string | null;
  primaryTag?: string | null;
  metadata: Record<string, unknown>;
  vectorId: string;
  createdAt: Date;
}

/** Searchable chunks (only of completed documents; written in the transaction that completes them). */
export const ChunkEntity = new EntitySchema<ChunkRow>({
  name: 'KnowledgeChunk',
  tableName: 'knowledge_chunks',
  properties: {
    id: { type: 'uuid', primary: true },
    documentId: { type: 'integer', fieldName: 'document_id' },
    collectionId: { type: 'integer', fieldName: 'collection_id' },
    ordinal: { type: 'integer' },
    content: { type: 'text' },
    tokens: { type: 'text' },
    primaryKey: { type: 'string', length: 255, nullable: true, fieldName: 'primary_key' },
    primaryTag: { type: 'string', length: 255, nullable: true, fieldName: 'primary_tag' },
    metadata: { type: 'json' },
    vectorId: { type: 'string', length: 64, fieldName: 'vector_id' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});
