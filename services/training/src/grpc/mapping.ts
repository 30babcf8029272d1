import { trainingV1 } from '@charge/contracts';
import { DomainError } from '@charge/errors';
import { hyperparametersToProto } from '../domain/hyperparameters';
import type { TaskStatus } from '../domain/task-status';
import type { ConfigRow } from '../persistence/config.entity';
import type { DatasetRow } from '../persistence/dataset.entity';
import type { EvaluationRow } from '../persistence/evaluation.entity';
import type { LogRow } from '../persistence/log.entity';
import type { MetricRow } from '../persistence/metric.entity';
import type { ModelVersionRow } from '../persistence/model-version.entity';
import type { TaskRow } from '../persistence/task.entity';
import type { ModelKind } from '../use-cases/tasks';

const json = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));
const opt = (v: number | null | undefined) => (v === null || v === undefined ? undefined : v);

const DATASET_TYPES: Record<string, trainingV1.DatasetType> = {
  flow_control: trainingV1.DatasetType.DATASET_TYPE_FLOW_CONTROL,
  sft: trainingV1.DatasetType.DATASET_TYPE_SFT,
};
const MODEL_TYPES: Record<string, trainingV1.ModelType> = {
  flow_control: trainingV1.ModelType.MODEL_TYPE_FLOW_CONTROL,
  llm: trainingV1.ModelType.MODEL_TYPE_LLM,
};
const STATUSES: Record<TaskStatus, trainingV1.TaskStatus> = {
  pending: trainingV1.TaskStatus.TASK_STATUS_PENDING,
  queued: trainingV1.TaskStatus.TASK_STATUS_QUEUED,
  running: trainingV1.TaskStatus.TASK_STATUS_RUNNING,
  completed: trainingV1.TaskStatus.TASK_STATUS_COMPLETED,
  failed: trainingV1.TaskStatus.TASK_STATUS_FAILED,
  cancelled: trainingV1.TaskStatus.TASK_STATUS_CANCELLED,
};
const PLANS: Record<string, trainingV1.RecommendedPlan> = {
  balanced: trainingV1.RecommendedPlan.RECOMMENDED_PLAN_BALANCED,
  accuracy_first: trainingV1.RecommendedPlan.RECOMMENDED_PLAN_ACCURACY_FIRST,
  latency_first: trainingV1.RecommendedPlan.RECOMMENDED_PLAN_LATENCY_FIRST,
};
const LEVELS: Record<string, trainingV1.LogLevel> = {
  DEBUG: trainingV1.LogLevel.LOG_LEVEL_DEBUG,
  INFO: trainingV1.LogLevel.LOG_LEVEL_INFO,
  WARNING: trainingV1.LogLevel.LOG_LEVEL_WARNING,
  ERROR: trainingV1.LogLevel.LOG_LEVEL_ERROR,
};

function reverse<T extends number>(table: Record<string, T>, value: T): string | undefined {
  return Object.entries(table).find(([, v]) => v === value)?.[0];
}

/** Required enum → stored string; INVALID_ARGUMENT naming the field when unspecified. */
export function datasetKind(field: string, value: trainingV1.DatasetType): 'flow_control' | 'sft' {
  const kind = reverse(DATASET_TYPES, value);
  if (!kind)
    throw DomainError.invalidArgument(field, 'must be DATASET_TYPE_FLOW_CONTROL or DATASET_TYPE_SFT');
  return kind as 'flow_control' | 'sft';
}

export function modelKind(field: string, value: trainingV1.ModelType): ModelKind {
  const kind = reverse(MODEL_TYPES, value);
  if (!kind) throw DomainError.invalidArgument(field, 'must be MODEL_TYPE_FLOW_CONTROL or MODEL_TYPE_LLM');
  return kind as ModelKind;
}

/** Optional filters: unspecified → undefined. */
export const datasetTypeFilter = (v: trainingV1.DatasetType) => reverse(DATASET_TYPES, v);
export const modelTypeFilter = (v: trainingV1.ModelType) => reverse(MODEL_TYPES, v);
export const statusFilter = (v: trainingV1.TaskStatus) => reverse(STATUSES, v) as TaskStatus | undefined;
export const planName = (v: trainingV1.RecommendedPlan) => reverse(PLANS, v);

export function toDataset(row: DatasetRow): trainingV1.Dataset {
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? '',
    datasetType: DATASET_TYPES[row.datasetType] ?? trainingV1.DatasetType.DATASET_TYPE_UNSPECIFIED,
    sampleCount: row.sampleCount ?? 0,
    metaInfo: json(row.metaInfo),
    isPublic: row.isPublic,
    createdBy: row.createdBy ?? 0,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function toConfig(row: ConfigRow): trainingV1.TrainingConfig {
  return {
    id: row.id,
    name: row.name,
    baseModel: row.baseModel,
    modelPath: row.modelPath,
    adapterType: row.adapterType,
    modelSize: row.modelSize,
    datasetStrategy: row.datasetStrategy ?? 'full',
    hyperparameters: hyperparametersToProto(row.hyperparameters) as trainingV1.Hyperparameters,
    notes: row.notes ?? '',
    createdBy: row.createdBy ?? 0,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function toTask(row: TaskRow): trainingV1.TrainingTask {
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? '',
    datasetId: row.datasetId ?? 0,
    configId: row.configId ?? 0,
    modelVersionId: row.modelVersionId ?? 0,
    modelType: MODEL_TYPES[row.modelType] ?? trainingV1.ModelType.MODEL_TYPE_UNSPECIFIED,
    adapterType: row.adapterType ?? '',
    modelSize: row.modelSize ?? '',
    hyperparameters: hyperparametersToProto(row.hyperparameters) as trainingV1.Hyperparameters,
    status: STATUSES[row.status] ?? trainingV1.TaskStatus.TASK_STATUS_UNSPECIFIED,
    progress: row.progress ?? 0,
    currentEpoch: row.currentEpoch ?? 0,
    totalEpochs: row.totalEpochs ?? 0,
    currentStep: row.currentStep ?? 0,
    totalSteps: row.totalSteps ?? 0,
    metrics: json(row.metrics),
    errorMessage: row.errorMessage ?? '',
    startTime: row.startTime ?? undefined,
    endTime: row.endTime ?? undefined,
    durationSeconds: row.durationSeconds ?? 0,
    gpuMemoryUsage: json(row.gpuMemoryUsage),
    modelPath: row.modelPath ?? '',
    createdBy: row.createdBy ?? 0,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function toMetric(row: MetricRow): trainingV1.TrainingMetric {
  return {
    id: row.id,
    taskId: row.taskId,
    epoch: row.epoch,
    step: row.step,
    loss: opt(row.loss),
    accuracy: opt(row.accuracy),
    learningRate: opt(row.learningRate),
    gpuMemory: opt(row.gpuMemory),
    customMetrics: json(row.customMetrics),
    createdAt: row.createdAt,
  };
}

export function toLog(row: LogRow): trainingV1.TrainingLog {
  return {
    id: row.id,
    taskId: row.taskId,
    logLevel: LEVELS[row.logLevel] ?? trainingV1.LogLevel.LOG_LEVEL_UNSPECIFIED,
    message: row.message,
    metaInfo: json(row.metaInfo),
    createdAt: row.createdAt,
  };
}

export function toModelVersion(row: ModelVersionRow): trainingV1.ModelVersion {
  return {
    id: row.id,
    name: row.name,
    modelType: MODEL_TYPES[row.modelType] ?? trainingV1.ModelType.MODEL_TYPE_UNSPECIFIED,
    version: row.version,
    modelPath: row.modelPath,
    config: json(row.config),
    metrics: json(row.metrics),
    isActive: row.isActive,
    isDefault: row.isDefault,
    createdBy: row.createdBy ?? 0,
    createdAt: row.createdAt,
  };
}

export function toEvaluation(row: EvaluationRow): trainingV1.Evaluation {
  return {
    id: row.id,
    taskId: row.taskId,
    evaluator: row.evaluator ?? '',
    evaluationType:
      row.evaluationType === 'manual'
        ? trainingV1.EvaluationType.EVALUATION_TYPE_MANUAL
        : trainingV1.EvaluationType.EVALUATION_TYPE_AUTOMATIC,
    metrics: json(row.metrics),
    recommendedPlan:
      PLANS[row.recommendedPlan ?? ''] ?? trainingV1.RecommendedPlan.RECOMMENDED_PLAN_UNSPECIFIED,
    notes: row.notes ?? '',
    createdBy: row.createdBy ?? 0,
    createdAt: row.createdAt,
  };
}
