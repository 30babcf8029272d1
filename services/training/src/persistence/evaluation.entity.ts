import { EntitySchema } from '@mikro-orm/core';

export interface EvaluationRow {
  id: number;
  taskId: number;
  evaluator?: string | null;
  evaluationType: string;
  metrics?: Record<string, unknown> | null;
  recommendedPlan?: string | null;
  notes?: string | null;
  createdBy?: number | null;
  createdAt: Date;
}

export const EvaluationEntity = new EntitySchema<EvaluationRow>({
  name: 'TrainingEvaluation',
  tableName: 'training_evaluations',
  indexes: [
    { name: 'idx_training_evaluations_task_id', properties: ['taskId'] },
    { name: 'idx_training_evaluations_created_by', properties: ['createdBy'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    taskId: { type: 'integer', fieldName: 'task_id' },
    evaluator: { type: 'string', length: 100, nullable: true },
    evaluationType: {
      type: 'string',
      length: 50,
      nullable: true,
      fieldName: 'evaluation_type',
      default: 'automatic',
    },
    metrics: { type: 'json', nullable: true },
    recommendedPlan: { type: 'string', length: 100, nullable: true, fieldName: 'recommended_plan' },
    notes: { type: 'text', nullable: true },
    createdBy: { type: 'integer', nullable: true, fieldName: 'created_by' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});
