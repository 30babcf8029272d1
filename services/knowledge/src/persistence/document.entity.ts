import { EntitySchema } from '@mikro-orm/core';

export type UploadStatus = 'uploading' | 'processing' | 'completed' | 'failed';

export interface DocumentRow {
  id: number;
  collectionId: number;
  filename: string;
  filePath: string;
  fileSize?: string | number | null;
  fileType?: string | null;
  content?: string | null;
  chunkCount: number;
  metaInfo?: Record<string, unknown> | null;
  uploadStatus: UploadStatus;
  processingError?: string | null;
  /** Set while this upload waits to replace an older document of the same name. */
  replacesId?: number | null;
  uploadedBy?: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export const DocumentEntity = new EntitySchema<DocumentRow>({
  name: 'KnowledgeDocument',
  tableName: 'knowledge_documents',
  indexes: [
    { name: 'idx_knowledge_documents_collection_id', properties: ['collectionId'] },
    { name: 'idx_knowledge_documents_uploaded_by', properties: ['uploadedBy'] },
    { name: 'idx_knowledge_documents_status', properties: ['uploadStatus'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    collectionId: { type: 'integer', fieldName: 'collection_id' },
    filename: { type: 'string', length: 255 },
    filePath: { type: 'string', length: 500, fieldName: 'file_path' },
    fileSize: { type: 'bigint', nullable: true, fieldName: 'file_size' },
    fileType: { type: 'string', length: 50, nullable: true, fieldName: 'file_type' },
    content: { type: 'text', nullable: true, lazy: true },
    chunkCount: { type: 'integer', nullable: true, fieldName: 'chunk_count', default: 0 },
    metaInfo: { type: 'json', nullable: true, fieldName: 'meta_info' },
    uploadStatus: { type: 'string', length: 20, fieldName: 'upload_status', default: 'uploading' },
    processingError: { type: 'text', nullable: true, fieldName: 'processing_error' },
    replacesId: { type: 'integer', nullable: true, fieldName: 'replaces_id' },
    uploadedBy: { type: 'integer', nullable: true, fieldName: 'uploaded_by' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
    updatedAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'updated_at',
      defaultRaw: 'current_timestamp',
    },
  },
});
