import { EntitySchema } from '@mikro-orm/core';

export interface RagQueryRow {
  id: number;
  collectionId: number;
  queryText: string;
  resultCount: number;
  responseText?: unknown;
  userId?: number | null;
  queryTimeMs?: number | null;
  createdAt: Date;
}

export const RagQueryEntity = new EntitySchema<RagQueryRow>({
  name: 'RagQuery',
  tableName: 'rag_queries',
  indexes: [
    { name: 'idx_rag_queries_collection_id', properties: ['collectionId'] },
    { name: 'idx_rag_queries_created_at', properties: ['createdAt'] },
    { name: 'idx_rag_queries_user_id', properties: ['userId'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    collectionId: { type: 'integer', fieldName: 'collection_id' },
    queryText: { type: 'text', fieldName: 'query_text' },
    resultCount: { type: 'integer', nullable: true, fieldName: 'result_count', default: 0 },
    responseText: { type: 'json', nullable: true, fieldName: 'response_text' },
    userId: { type: 'integer', nullable: true, fieldName: 'user_id' },
    queryTimeMs: { type: 'integer', nullable: true, fieldName: 'query_time_ms' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});
