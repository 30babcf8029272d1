import { EntitySchema } from '@mikro-orm/core';

export type IngestStage = 'received' | 'parsed' | 'chunked' | 'embedded' | 'stored' | 'completed' | 'failed';

export interface DocumentEventRow {
  id: string;
  documentId: number;
  stage: IngestStage;
  message: string;
  done: number;
  total: number;
  createdAt: Date;
}

/** A document's ingest log (WatchDocument replays it). */
export const DocumentEventEntity = new EntitySchema<DocumentEventRow>({
  name: 'KnowledgeDocumentEvent',
  tableName: 'knowledge_document_events',
  indexes: [{ name: 'idx_knowledge_document_events_document', properties: ['documentId', 'id'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    documentId: { type: 'integer', fieldName: 'document_id' },
    stage: { type: 'string', length: 20 },
    message: { type: 'text', default: '' },
    done: { type: 'integer', default: 0 },
    total: { type: 'integer', default: 0 },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});
