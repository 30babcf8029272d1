import { EntitySchema } from '@mikro-orm/core';
import type { HyperparameterValues } from '../domain/hyperparameters';
import type { TaskStatus } from '../domain/task-status';

export interface TaskRow {
  id: number;
  name: string;
  description?: string | null;
  datasetId?: number | null;
  configId?: number | null;
  modelVersionId?: number | null;
  modelType: string;
  adapterType?: string | null;
  modelSize?: string | null;
  hyperparameters?: HyperparameterValues | null;
  status: TaskStatus;
  progress?: number | null;
  currentEpoch?: number | null;
  totalEpochs?: number | null;
  currentStep?: number | null;
  totalSteps?: number | null;
  metrics?: Record<string, unknown> | null;
  logs?: string | null;
  errorMessage?: string | null;
  startTime?: Date | null;
  endTime?: Date | null;
  durationSeconds?: number | null;
  gpuMemoryUsage?: Record<string, unknown> | null;
  modelPath?: string | null;
  createdBy?: number | null;
  createdAt: Date;
  /** Also the runner's heartbeat while the task is running. */
  updatedAt: Date;
}

export const TaskEntity = new EntitySchema<TaskRow>({
  name: 'TrainingTask',
  tableName: 'training_tasks',
  indexes: [
    { name: 'idx_training_tasks_dataset_id', properties: ['datasetId'] },
    { name: 'idx_training_tasks_config_id', properties: ['configId'] },
    { name: 'idx_training_tasks_status', properties: ['status'] },
    { name: 'idx_training_tasks_created_at', properties: ['createdAt'] },
    { name: 'idx_training_tasks_created_by', properties: ['createdBy'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', length: 100 },
    description: { type: 'text', nullable: true },
    datasetId: { type: 'integer', nullable: true, fieldName: 'dataset_id' },
    configId: { type: 'integer', nullable: true, fieldName: 'config_id' },
    modelVersionId: { type: 'integer', nullable: true, fieldName: 'model_version_id' },
    modelType: { type: 'string', length: 50, fieldName: 'model_type' },
    adapterType: { type: 'string', length: 50, nullable: true, fieldName: 'adapter_type', default: 'lora' },
    modelSize: { type: 'string', length: 20, nullable: true, fieldName: 'model_size', default: '1.5b' },
    hyperparameters: { type: 'json', nullable: true },
    status: { type: 'string', length: 20, default: 'pending' },
    progress: { type: 'double', nullable: true, defaultRaw: '0.0' },
    currentEpoch: { type: 'integer', nullable: true, fieldName: 'current_epoch', default: 0 },
    totalEpochs: { type: 'integer', nullable: true, fieldName: 'total_epochs' },
    currentStep: { type: 'integer', nullable: true, fieldName: 'current_step', default: 0 },
    totalSteps: { type: 'integer', nullable: true, fieldName: 'total_steps' },
    metrics: { type: 'json', nullable: true },
    logs: { type: 'text', nullable: true },
    errorMessage: { type: 'text', nullable: true, fieldName: 'error_message' },
    startTime: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'start_time' },
    endTime: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'end_time' },
    durationSeconds: { type: 'integer', nullable: true, fieldName: 'duration_seconds' },
    gpuMemoryUsage: { type: 'json', nullable: true, fieldName: 'gpu_memory_usage' },
    modelPath: { type: 'string', length: 500, nullable: true, fieldName: 'model_path' },
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
