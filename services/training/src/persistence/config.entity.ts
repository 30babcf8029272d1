import { EntitySchema } from '@mikro-orm/core';
import type { HyperparameterValues } from '../domain/hyperparameters';

export interface ConfigRow {
  id: number;
  name: string;
  baseModel: string;
  modelPath: string;
  adapterType: string;
  modelSize: string;
  datasetStrategy: string;
  hyperparameters?: HyperparameterValues | null;
  notes?: string | null;
  createdBy?: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export const ConfigEntity = new EntitySchema<ConfigRow>({
  name: 'TrainingConfig',
  tableName: 'training_configs',
  indexes: [{ name: 'idx_training_configs_created_by', properties: ['createdBy'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', length: 100 },
    baseModel: { type: 'string', length: 100, fieldName: 'base_model' },
    modelPath: { type: 'string', length: 500, fieldName: 'model_path' },
    adapterType: { type: 'string', length: 50, fieldName: 'adapter_type', default: 'lora' },
    modelSize: { type: 'string', length: 20, fieldName: 'model_size', default: '1.5b' },
    datasetStrategy: {
      type: 'string',
      length: 50,
      nullable: true,
      fieldName: 'dataset_strategy',
      default: 'full',
    },
    hyperparameters: { type: 'json', nullable: true },
    notes: { type: 'text', nullable: true },
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
