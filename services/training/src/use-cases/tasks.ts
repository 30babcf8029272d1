import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { enqueueMessage } from '@charge/events';
import { findExecutable } from '../domain/executables';
import type { HyperparameterValues } from '../domain/hyperparameters';
import { findIdPage } from '@charge/service-kit';
import type { TaskStatus } from '../domain/task-status';
import { ConfigEntity } from '../persistence/config.entity';
import { DatasetEntity } from '../persistence/dataset.entity';
import { LogEntity } from '../persistence/log.entity';
import { MetricEntity } from '../persistence/metric.entity';
import { TaskEntity, type TaskRow } from '../persistence/task.entity';
import { assertOwner, audit, checkId, isAdmin, requireText, type Caller, type UseCaseDeps } from './caller';

export type ModelKind = 'flow_control' | 'llm';

/** Subject of the TRAINING_JOBS work queue. */
export const TRAINING_JOBS_SUBJECT = 'jobs.training';

export interface TrainingJob {
  task_id: number;
}

export interface CreateTaskInput {
  name: string;
  description: string;
  datasetId: number;
  configId: number;
  modelType: ModelKind;
  hyperparameters: HyperparameterValues;
}

const DATASET_TYPE_FOR: Record<ModelKind, string> = { flow_control: 'flow_control', llm: 'sft' };

const auditValues = (t: TaskRow) => ({
  name: t.name,
  status: t.status,
  dataset_id: t.datasetId,
  config_id: t.configId,
});

function stageJob(em: EntityManager, taskId: number): void {
  const job: TrainingJob = { task_id: taskId };
  enqueueMessage(em, TRAINING_JOBS_SUBJECT, Buffer.from(JSON.stringify(job)));
}

export class TaskUseCases {
  constructor(private readonly deps: UseCaseDeps) {}

  async create(em: EntityManager, caller: Caller, input: CreateTaskInput): Promise<TaskRow> {
    const name = requireText('name', input.name, 100);
    const description = requireText('description', input.description, 10_000, false);
    checkId('dataset_id', input.datasetId);
    const dataset = await em.findOne(DatasetEntity, { id: input.datasetId });
    if (!dataset || !(dataset.isPublic || isAdmin(caller) || dataset.createdBy === caller.claims.userId)) {
      throw DomainError.notFound('dataset', input.datasetId);
    }
    if (dataset.datasetType !== DATASET_TYPE_FOR[input.modelType]) {
      throw DomainError.failedPrecondition(
        `a ${input.modelType} task needs a ${DATASET_TYPE_FOR[input.modelType]} dataset, not ${dataset.datasetType}`,
        'DATASET_TYPE_MISMATCH',
      );
    }
    if (input.modelType === 'llm' && !input.configId) {
      throw DomainError.invalidArgument('config_id', 'an llm task needs a config (its base model path)');
    }
    let base: HyperparameterValues = {};
    let adapterType = input.modelType === 'llm' ? 'lora' : 'none';
    let modelSize = input.modelType === 'llm' ? '1.5b' : 'small';
    if (input.configId) {
      const config = await em.findOne(ConfigEntity, { id: input.configId });
      if (!config || !(isAdmin(caller) || config.createdBy === caller.claims.userId)) {
        throw DomainError.notFound('config', input.configId);
      }
      base = config.hyperparameters ?? {};
      adapterType = input.modelType === 'llm' ? config.adapterType : adapterType;
      modelSize = input.modelType === 'llm' ? config.modelSize : modelSize;
    }
    const hyperparameters = { ...base, ...input.hyperparameters };
    const epochs = hyperparameters.num_train_epochs ?? (input.modelType === 'llm' ? 3 : 20);
    const row = await em.transactional(async (tem) => {
      const now = new Date();
      const task = tem.create(TaskEntity, {
        name,
        description: description || null,
        datasetId: dataset.id,
        configId: input.configId || null,
        modelType: input.modelType,
        adapterType,
        modelSize,
        hyperparameters,
        status: 'pending',
        progress: 0,
        currentEpoch: 0,
        totalEpochs: Math.ceil(epochs),
        currentStep: 0,
        createdBy: caller.claims.userId,
        createdAt: now,
        updatedAt: now,
      });
      await tem.flush();
      audit(tem, caller, 'created', 'task', task.id, {
        newValues: { ...auditValues(task), hyperparameters },
      });
      return task;
    });
    this.deps.relay.kick();
    return row;
  }

  async get(em: EntityManager, caller: Caller, id: number, field = 'id'): Promise<TaskRow> {
    checkId(field, id);
    const row = await em.findOne(TaskEntity, { id }, { refresh: true });
    if (!row || !(isAdmin(caller) || row.createdBy === caller.claims.userId))
      throw DomainError.notFound('task', id);
    return row;
  }

  async list(
    em: EntityManager,
    caller: Caller,
    input: { pageSize?: number; pageToken?: string; status?: TaskStatus },
  ) {
    const where: FilterQuery<TaskRow>[] = [];
    if (!isAdmin(caller)) where.push({ createdBy: caller.claims.userId });
    if (input.status) where.push({ status: input.status });
    return findIdPage(em, TaskEntity, { $and: where } as FilterQuery<TaskRow>, input);
  }

  /** PENDING → QUEUED, with the job staged in the outbox of the same transaction. */
  async start(em: EntityManager, caller: Caller, id: number): Promise<TaskRow> {
    const task = await this.get(em, caller, id);
    assertOwner(caller, task);
    if (task.status !== 'pending') {
      throw DomainError.failedPrecondition(
        `task ${id} is ${task.status}; only a pending task can be started`,
        'TASK_NOT_PENDING',
      );
    }
    if (!task.datasetId)
      throw DomainError.failedPrecondition(`task ${id} has no dataset (it was deleted)`, 'DATASET_GONE');
    if (task.modelType === 'llm' && !findExecutable(this.deps.llamaFactoryCli)) {
      throw DomainError.failedPrecondition(
        `the llamafactory trainer is not installed on this host (${this.deps.llamaFactoryCli} not found on PATH)`,
        'TRAINER_UNAVAILABLE',
      );
    }
    return this.transition(em, caller, task, ['pending'], 'queued', 'started', true);
  }

  /** FAILED | CANCELLED → QUEUED; the runner continues from the newest checkpoint. */
  async resume(em: EntityManager, caller: Caller, id: number): Promise<TaskRow> {
    const task = await this.get(em, caller, id);
    assertOwner(caller, task);
    if (task.status !== 'failed' && task.status !== 'cancelled') {
      throw DomainError.failedPrecondition(
        `task ${id} is ${task.status}; only a failed or cancelled task can be resumed`,
        'TASK_NOT_RESUMABLE',
      );
    }
    if (!task.datasetId)
      throw DomainError.failedPrecondition(`task ${id} has no dataset (it was deleted)`, 'DATASET_GONE');
    return this.transition(em, caller, task, ['failed', 'cancelled'], 'queued', 'resumed', true);
  }

  /** Runners see the new status at their next heartbeat and stop the trainer. */
  async cancel(em: EntityManager, caller: Caller, id: number): Promise<TaskRow> {
    const task = await this.get(em, caller, id);
    assertOwner(caller, task);
    return this.transition(
      em,
      caller,
      task,
      ['pending', 'queued', 'running'],
      'cancelled',
      'cancelled',
      false,
    );
  }

  private async transition(
    em: EntityManager,
    caller: Caller,
    task: TaskRow,
    from: TaskStatus[],
    to: TaskStatus,
    action: string,
    queue: boolean,
  ): Promise<TaskRow> {
    const now = new Date();
    const changes: Partial<TaskRow> =
      to === 'cancelled'
        ? {
            status: to,
            endTime: now,
            updatedAt: now,
            durationSeconds: task.startTime
              ? Math.round((now.getTime() - task.startTime.getTime()) / 1000)
              : null,
          }
        : { status: to, errorMessage: null, endTime: null, updatedAt: now };
    await em.transactional(async (tem) => {
      const n = await tem.nativeUpdate(TaskEntity, { id: task.id, status: { $in: from } }, changes);
      if (n !== 1) {
        throw DomainError.failedPrecondition(
          `task ${task.id} changed state concurrently; it is no longer ${from.join(' or ')}`,
          'TASK_STATE_CHANGED',
        );
      }
      if (queue) stageJob(tem, task.id);
      audit(tem, caller, action, 'task', task.id, {
        oldValues: { status: task.status },
        newValues: { status: to },
      });
    });
    this.deps.relay.kick();
    return this.get(em, caller, task.id);
  }

  async metrics(
    em: EntityManager,
    caller: Caller,
    taskId: number,
    input: { pageSize?: number; pageToken?: string },
  ) {
    await this.get(em, caller, taskId, 'task_id');
    return findIdPage(em, MetricEntity, { taskId }, input, 'asc');
  }

  async logs(
    em: EntityManager,
    caller: Caller,
    taskId: number,
    input: { pageSize?: number; pageToken?: string },
  ) {
    await this.get(em, caller, taskId, 'task_id');
    return findIdPage(em, LogEntity, { taskId }, input, 'asc');
  }

  /** New metric and log rows of a task after the given ids (WatchTask polls this). */
  async newRows(em: EntityManager, taskId: number, afterMetricId: number, afterLogId: number) {
    const [metrics, logs] = await Promise.all([
      em.find(MetricEntity, { taskId, id: { $gt: afterMetricId } }, { orderBy: { id: 'asc' }, limit: 500 }),
      em.find(LogEntity, { taskId, id: { $gt: afterLogId } }, { orderBy: { id: 'asc' }, limit: 500 }),
    ]);
    return { metrics, logs };
  }
}
