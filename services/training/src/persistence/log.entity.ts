import { EntitySchema } from '@mikro-orm/core';

export interface LogRow {
  id: number;
  taskId: number;
  logLevel: string;
  message: string;
  metaInfo?: Record<string, unknown> | null;
  createdAt: Date;
}

export const LogEntity = new EntitySchema<LogRow>({
  name: 'TrainingLog',
  tableName: 'training_logs',
  indexes: [
    { name: 'idx_training_logs_task_id', properties: ['taskId'] },
    { name: 'idx_training_logs_created_at', properties: ['createdAt'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    taskId: { type: 'integer', fieldName: 'task_id' },
    logLevel: { type: 'string', length: 20, fieldName: 'log_level', default: 'INFO' },
    message: { type: 'text' },
    metaInfo: { type: 'json', nullable: true, fieldName: 'meta_info' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});
