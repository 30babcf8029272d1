import { EntitySchema } from '@mikro-orm/core';

export interface MetricRow {
  id: number;
  taskId: number;
  epoch: number;
  step: number;
  loss?: number | null;
  accuracy?: number | null;
  learningRate?: number | null;
  gpuMemory?: number | null;
  customMetrics?: Record<string, unknown> | null;
  createdAt: Date;
}

export const MetricEntity = new EntitySchema<MetricRow>({
  name: 'TrainingMetric',
  tableName: 'training_metrics',
  indexes: [
    { name: 'idx_training_metrics_task_id', properties: ['taskId'] },
    { name: 'idx_training_metrics_epoch', properties: ['epoch'] },
    { name: 'idx_training_metrics_step', properties: ['step'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    taskId: { type: 'integer', fieldName: 'task_id' },
    epoch: { type: 'integer' },
    step: { type: 'integer' },
    loss: { type: 'double', nullable: true },
    accuracy: { type: 'double', nullable: true },
    learningRate: { type: 'double', nullable: true, fieldName: 'learning_rate' },
    gpuMemory: { type: 'double', nullable: true, fieldName: 'gpu_memory' },
    customMetrics: { type: 'json', nullable: true, fieldName: 'custom_metrics' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});
