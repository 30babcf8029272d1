import { EntitySchema } from '@mikro-orm/core';

export interface CollectionRow {
  id: number;
  name: string;
  description?: string | null;
  collectionType: string;
  chromaCollectionId?: string | null;
  documentCount: number;
  chunkCount: number;
  embeddingModel: string;
  chunkSize: number;
  chunkOverlap: number;
  isActive: boolean;
  createdBy?: number | null;
  createdAt: Date;
  updatedAt: Date;
}

const timestamp = (fieldName: string) => ({
  type: 'Date',
  columnType: 'timestamptz',
  fieldName,
  defaultRaw: 'current_timestamp',
});

export const CollectionEntity = new EntitySchema<CollectionRow>({
  name: 'KnowledgeCollection',
  tableName: 'knowledge_collections',
  indexes: [
    { name: 'idx_knowledge_collections_created_by', properties: ['createdBy'] },
    { name: 'idx_knowledge_collections_active', properties: ['isActive'] },
    { name: 'idx_knowledge_collections_type', properties: ['collectionType'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', length: 100 },
    description: { type: 'text', nullable: true },
    collectionType: { type: 'string', length: 50, fieldName: 'collection_type', default: 'document' },
    chromaCollectionId: {
      type: 'string',
      length: 255,
      nullable: true,
      unique: true,
      fieldName: 'chroma_collection_id',
    },
    documentCount: { type: 'integer', nullable: true, fieldName: 'document_count', default: 0 },
    chunkCount: { type: 'integer', fieldName: 'chunk_count', default: 0 },
    embeddingModel: {
      type: 'string',
      length: 100,
      nullable: true,
      fieldName: 'embedding_model',
      default: 'bge-base-zh-v1.5',
    },
    chunkSize: { type: 'integer', fieldName: 'chunk_size', default: 800 },
    chunkOverlap: { type: 'integer', fieldName: 'chunk_overlap', default: 100 },
    isActive: { type: 'boolean', fieldName: 'is_active', default: true },
    createdBy: { type: 'integer', nullable: true, fieldName: 'created_by' },
    createdAt: timestamp('created_at'),
    updatedAt: timestamp('updated_at'),
  },
});
