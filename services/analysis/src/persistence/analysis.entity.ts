import { EntitySchema, OptionalProps } from '@mikro-orm/core';
import type { AnalysisStage, AnalysisStatus } from '../domain/status';

export interface AnalysisRow {
  [OptionalProps]?: 'status' | 'progress' | 'useLlm' | 'createdAt' | 'updatedAt';
  id: number;
  name: string;
  description: string | null;
  /** Blob-store key (never a client-supplied name). */
  filePath: string;
  fileName: string | null;
  fileSize: string | null;
  fileSha256: string | null;
  fileType: string | null;
  status: AnalysisStatus;
  stage: AnalysisStage | null;
  progress: number;
  resultData?: unknown;
  errorMessage: string | null;
  jobId: string | null;
  useLlm: boolean;
  dbcId: number | null;
  userId: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

export const AnalysisEntity = new EntitySchema<AnalysisRow>({
  name: 'ChargingAnalysis',
  tableName: 'charging_analyses',
  indexes: [
    { name: 'idx_charging_analyses_user_id', properties: ['userId'] },
    { name: 'idx_charging_analyses_status', properties: ['status'] },
    { name: 'idx_charging_analyses_created', properties: ['createdAt'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', length: 100 },
    description: { type: 'text', nullable: true },
    filePath: { type: 'string', length: 500, fieldName: 'file_path' },
    fileName: { type: 'string', length: 255, nullable: true, fieldName: 'file_name' },
    fileSize: { type: 'bigint', nullable: true, fieldName: 'file_size' },
    fileSha256: { type: 'string', columnType: 'char(64)', nullable: true, fieldName: 'file_sha256' },
    fileType: { type: 'string', length: 20, nullable: true, default: 'blf', fieldName: 'file_type' },
    status: { type: 'string', length: 40, default: 'pending' },
    stage: { type: 'string', length: 40, nullable: true },
    progress: { type: 'double', default: 0 },
    resultData: { type: 'json', nullable: true, fieldName: 'result_data', lazy: true },
    errorMessage: { type: 'text', nullable: true, fieldName: 'error_message' },
    jobId: { type: 'uuid', nullable: true, fieldName: 'job_id' },
    useLlm: { type: 'boolean', default: false, fieldName: 'use_llm' },
    dbcId: { type: 'integer', nullable: true, fieldName: 'dbc_id' },
    userId: { type: 'integer', fieldName: 'user_id' },
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
    startedAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'started_at' },
    completedAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'completed_at' },
  },
});
