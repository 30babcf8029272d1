import { EntitySchema } from '@mikro-orm/core';

export interface DatasetRow {
  id: number;
  name: string;
  description?: string | null;
  datasetType: string;
  filePath?: string | null;
  sampleCount: number;
  metaInfo?: Record<string, unknown> | null;
  isPublic: boolean;
  createdBy?: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export const DatasetEntity = new EntitySchema<DatasetRow>({
  name: 'TrainingDataset',
  tableName: 'training_datasets',
  indexes: [
    { name: 'idx_training_datasets_created_by', properties: ['createdBy'] },
    { name: 'idx_training_datasets_public', properties: ['isPublic'] },
    { name: 'idx_training_datasets_type', properties: ['datasetType'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', length: 100 },
    description: { type: 'text', nullable: true },
    datasetType: {
      type: 'string',
      length: 50,
      nullable: true,
      fieldName: 'dataset_type',
      default: 'standard',
    },
    filePath: { type: 'string', length: 500, nullable: true, fieldName: 'file_path' },
    sampleCount: { type: 'integer', nullable: true, fieldName: 'sample_count', default: 0 },
    metaInfo: { type: 'json', nullable: true, fieldName: 'meta_info' },
    isPublic: { type: 'boolean', fieldName: 'is_public', default: false },
    createdBy: { type: 'integer', nullable: true, fieldName: 'created_by' },
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
