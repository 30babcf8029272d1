import { EntitySchema } from '@mikro-orm/core';

export interface ModelVersionRow {
  id: number;
  name: string;
  modelType: string;
  version: string;
  modelPath: string;
  config?: Record<string, unknown> | null;
  metrics?: Record<string, unknown> | null;
  isActive: boolean;
  isDefault: boolean;
  createdBy?: number | null;
  createdAt: Date;
}

export const ModelVersionEntity = new EntitySchema<ModelVersionRow>({
  name: 'ModelVersion',
  tableName: 'model_versions',
  indexes: [
    { name: 'idx_model_versions_type', properties: ['modelType'] },
    { name: 'idx_model_versions_active', properties: ['isActive'] },
    { name: 'idx_model_versions_default', properties: ['isDefault'] },
    { name: 'idx_model_versions_created_by', properties: ['createdBy'] },
    {
      name: 'uq_model_versions_one_default',
      expression:
        'create unique index "uq_model_versions_one_default" on "training"."model_versions" ("model_type") where "is_default"',
    },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', length: 100 },
    modelType: {
      type: 'string',
      length: 50,
      nullable: true,
      fieldName: 'model_type',
      default: 'flow_control',
    },
    version: { type: 'string', length: 50 },
    modelPath: { type: 'string', length: 500, fieldName: 'model_path' },
    config: { type: 'json', nullable: true },
    metrics: { type: 'json', nullable: true },
    isActive: { type: 'boolean', fieldName: 'is_active', default: false },
    isDefault: { type: 'boolean', fieldName: 'is_default', default: false },
    createdBy: { type: 'integer', nullable: true, fieldName: 'created_by' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});
