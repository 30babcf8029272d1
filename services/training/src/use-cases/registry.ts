import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  UniqueConstraintViolationException,
  type EntityManager,
  type FilterQuery,
} from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { keywordHitRate, keywordProbe } from '../domain/keyword-hits';
import { findIdPage } from '@charge/service-kit';
import {
  classificationReport,
  predict,
  vectorize,
  type ModelState,
  type RawSample,
} from '../trainers/flow-control/model';
import { DatasetEntity } from '../persistence/dataset.entity';
import { EvaluationEntity, type EvaluationRow } from '../persistence/evaluation.entity';
import { ModelVersionEntity, type ModelVersionRow } from '../persistence/model-version.entity';
import { TaskEntity } from '../persistence/task.entity';
import { assertOwner, audit, checkId, isAdmin, requireText, type Caller, type UseCaseDeps } from './caller';
import type { TaskUseCases } from './tasks';

const PLANS = ['balanced', 'accuracy_first', 'latency_first'];

export interface ManualEvaluationInput {
  evaluator: string;
  metrics: string;
  recommendedPlan?: string;
  notes: string;
}

export interface KeywordEvaluationInput {
  datasetId: number;
  endpoint: string;
  model: string;
  keywords: string[];
  maxSamples: number;
}

export class RegistryUseCases {
  constructor(
    private readonly deps: UseCaseDeps,
    private readonly tasks: TaskUseCases,
  ) {}

  /** A completed task's model → a new (inactive, non-default) version with lineage and metrics. */
  async publish(
    em: EntityManager,
    caller: Caller,
    taskId: number,
    name: string,
    version: string,
  ): Promise<ModelVersionRow> {
    const task = await this.tasks.get(em, caller, taskId, 'task_id');
    assertOwner(caller, task);
    const modelName = requireText('name', name || task.name, 100);
    const versionText = requireText('version', version, 50);
    if (task.status !== 'completed' || !task.modelPath) {
      throw DomainError.failedPrecondition(
        `task ${taskId} is ${task.status}; only a completed task can be published`,
        'TASK_NOT_COMPLETED',
      );
    }
    if (task.modelVersionId)
      throw DomainError.failedPrecondition(`task ${taskId} is already published`, 'ALREADY_PUBLISHED');
    const row = await em.transactional(async (tem) => {
      if (await tem.count(ModelVersionEntity, { name: modelName, version: versionText })) {
        throw DomainError.alreadyExists(`${modelName} ${versionText} already exists`, 'VERSION_EXISTS');
      }
      const model = tem.create(ModelVersionEntity, {
        name: modelName,
        modelType: task.modelType,
        version: versionText,
        modelPath: task.modelPath!,
        config: {
          task_id: task.id,
          dataset_id: task.datasetId ?? null,
          config_id: task.configId ?? null,
          adapter_type: task.adapterType ?? null,
          model_size: task.modelSize ?? null,
          hyperparameters: task.hyperparameters ?? {},
        },
        metrics: {
          ...(task.metrics ?? {}),
          total_steps: task.totalSteps ?? null,
          duration_seconds: task.durationSeconds ?? null,
        },
        isActive: false,
        isDefault: false,
        createdBy: caller.claims.userId,
        createdAt: new Date(),
      });
      await tem.flush();
      const n = await tem.nativeUpdate(
        TaskEntity,
        { id: task.id, modelVersionId: null },
        { modelVersionId: model.id },
      );
      if (n !== 1)
        throw DomainError.aborted(`task ${taskId} was published concurrently`, 'ALREADY_PUBLISHED');
      audit(tem, caller, 'published', 'model_version', model.id, {
        newValues: { name: model.name, version: model.version, task_id: task.id },
      });
      return model;
    });
    this.deps.relay.kick();
    return row;
  }

  async get(em: EntityManager, id: number): Promise<ModelVersionRow> {
    checkId('id', id);
    const row = await em.findOne(ModelVersionEntity, { id }, { refresh: true });
    if (!row) throw DomainError.notFound('model version', id);
    return row;
  }

  /**
   * Makes a version its type's only default. A per-type advisory lock serialises
   * concurrent calls (the last one wins); the partial unique index guarantees the invariant.
   */
  async setDefault(em: EntityManager, caller: Caller, id: number): Promise<ModelVersionRow> {
    const model = await this.get(em, id);
    assertOwner(caller, model, true);
    try {
      await em.transactional(async (tem) => {
        await tem
          .getConnection()
          .execute(
            'select pg_advisory_xact_lock(hashtext(?))',
            [`model_default:${model.modelType}`],
            'all',
            tem.getTransactionContext(),
          );
        const previous = await tem.find(ModelVersionEntity, {
          modelType: model.modelType,
          isDefault: true,
          id: { $ne: id },
        });
        await tem.nativeUpdate(
          ModelVersionEntity,
          { modelType: model.modelType, isDefault: true, id: { $ne: id } },
          { isDefault: false },
        );
        await tem.nativeUpdate(ModelVersionEntity, { id }, { isDefault: true, isActive: true });
        audit(tem, caller, 'default_set', 'model_version', id, {
          oldValues: { default_id: previous[0]?.id ?? null },
          newValues: { default_id: id, model_type: model.modelType },
        });
      });
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw DomainError.aborted('another default was set concurrently; retry', 'DEFAULT_CONFLICT');
      }
      throw error;
    }
    this.deps.relay.kick();
    return this.get(em, id);
  }

  async setActive(
    em: EntityManager,
    caller: Caller,
    id: number,
    isActive: boolean,
  ): Promise<ModelVersionRow> {
    const model = await this.get(em, id);
    assertOwner(caller, model, true);
    if (!isActive && model.isDefault) {
      throw DomainError.failedPrecondition(
        'the default version cannot be deactivated; set another default first',
        'IS_DEFAULT',
      );
    }
    await em.transactional(async (tem) => {
      const n = await tem.nativeUpdate(ModelVersionEntity, isActive ? { id } : { id, isDefault: false }, {
        isActive,
      });
      if (n !== 1)
        throw DomainError.aborted('the version became the default concurrently; retry', 'IS_DEFAULT');
      audit(tem, caller, isActive ? 'activated' : 'deactivated', 'model_version', id, {
        oldValues: { is_active: model.isActive },
        newValues: { is_active: isActive },
      });
    });
    this.deps.relay.kick();
    return this.get(em, id);
  }

  async list(em: EntityManager, input: { pageSize?: number; pageToken?: string; modelType?: string }) {
    const filter: FilterQuery<ModelVersionRow> = input.modelType ? { modelType: input.modelType } : {};
    return findIdPage(em, ModelVersionEntity, filter, input);
  }

  async getDefault(em: EntityManager, modelType: string): Promise<ModelVersionRow> {
    const row = await em.findOne(ModelVersionEntity, { modelType, isDefault: true });
    if (!row) throw DomainError.notFound('default model of type', modelType);
    return row;
  }

  async delete(em: EntityManager, caller: Caller, id: number): Promise<void> {
    const model = await this.get(em, id);
    assertOwner(caller, model, true);
    await em.transactional(async (tem) => {
      const n = await tem.nativeDelete(ModelVersionEntity, { id, isDefault: false });
      if (n !== 1)
        throw DomainError.failedPrecondition('the default version cannot be deleted', 'IS_DEFAULT');
      audit(tem, caller, 'deleted', 'model_version', id, {
        oldValues: { name: model.name, version: model.version },
      });
    });
    this.deps.relay.kick();
  }

  /** Accuracy, macro-F1 and confusion matrix of a flow_control task's model on a dataset. */
  async evaluateAutomatically(
    em: EntityManager,
    caller: Caller,
    taskId: number,
    datasetId: number,
  ): Promise<EvaluationRow> {
    const task = await this.tasks.get(em, caller, taskId, 'task_id');
    assertOwner(caller, task);
    if (task.modelType !== 'flow_control') {
      throw DomainError.failedPrecondition(
        'automatic evaluation is available for flow_control tasks only',
        'NOT_FLOW_CONTROL',
      );
    }
    const modelFile = task.modelPath ? path.join(task.modelPath, 'model.json') : '';
    if (task.status !== 'completed' || !existsSync(modelFile)) {
      throw DomainError.failedPrecondition(`task ${taskId} has no trained model`, 'NO_MODEL');
    }
    checkId('automatic.dataset_id', datasetId);
    const dataset = await em.findOne(DatasetEntity, { id: datasetId });
    if (!dataset || !(dataset.isPublic || isAdmin(caller) || dataset.createdBy === caller.claims.userId)) {
      throw DomainError.notFound('dataset', datasetId);
    }
    if (dataset.datasetType !== 'flow_control' || !dataset.filePath) {
      throw DomainError.invalidArgument('automatic.dataset_id', 'must be a flow_control dataset');
    }
    const model = JSON.parse(await readFile(modelFile, 'utf8')) as ModelState;
    const samples = (await readFile(dataset.filePath, 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as RawSample);
    const index = new Map(model.labels.map((l, i) => [l, i]));
    const known = samples.filter((s) => index.has(String(s.label)));
    const report = classificationReport(
      model.labels,
      known.map((s) => index.get(String(s.label))!),
      known.map((s) => predict(model, vectorize(model.space, s.features))),
    );
    const metrics = {
      dataset_id: datasetId,
      unknown_label_samples: samples.length - known.length,
      ...report,
    };
    return this.record(em, caller, taskId, {
      evaluator: 'flow-control-evaluator',
      evaluationType: 'automatic',
      metrics,
    });
  }

  /** Keyword hits of an LLM task's served model on an SFT dataset's prompts. */
  async evaluateKeywords(
    em: EntityManager,
    caller: Caller,
    taskId: number,
    input: KeywordEvaluationInput,
    signal: AbortSignal,
  ): Promise<EvaluationRow> {
    const task = await this.tasks.get(em, caller, taskId, 'task_id');
    assertOwner(caller, task);
    if (task.modelType !== 'llm' || task.status !== 'completed') {
      throw DomainError.failedPrecondition(
        'keyword evaluation needs a completed llm task',
        'NOT_COMPLETED_LLM',
      );
    }
    let url: URL;
    try {
      url = new URL(`${input.endpoint.replace(/\/+$/, '')}/chat/completions`);
    } catch {
      throw DomainError.invalidArgument('keyword.endpoint', 'must be an http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw DomainError.invalidArgument('keyword.endpoint', 'must be an http(s) URL');
    }
    const model = requireText('keyword.model', input.model, 200);
    const max = input.maxSamples || 50;
    if (max < 1 || max > 500) throw DomainError.invalidArgument('keyword.max_samples', 'must be 1..500');
    checkId('keyword.dataset_id', input.datasetId);
    const dataset = await em.findOne(DatasetEntity, { id: input.datasetId });
    if (!dataset || !(dataset.isPublic || isAdmin(caller) || dataset.createdBy === caller.claims.userId)) {
      throw DomainError.notFound('dataset', input.datasetId);
    }
    if (dataset.datasetType !== 'sft' || !dataset.filePath) {
      throw DomainError.invalidArgument('keyword.dataset_id', 'must be an sft dataset');
    }
    const fallback = input.keywords.map((k) => k.trim()).filter(Boolean);
    const probes = (await readFile(dataset.filePath, 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => keywordProbe(JSON.parse(l) as Record<string, unknown>, fallback))
      .filter((p) => p !== undefined)
      .slice(0, max);
    if (!probes.length)
      throw DomainError.invalidArgument('keyword.keywords', 'no sample has keywords and none were given');
    let hitSum = 0;
    let allHit = 0;
    let latency = 0;
    for (const probe of probes) {
      const started = Date.now();
      let answer: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: probe.messages, temperature: 0 }),
          signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { choices?: { message?: { content?: string } }[] };
        answer = body.choices?.[0]?.message?.content ?? '';
      } catch (error) {
        throw DomainError.unavailable(
          `the model endpoint failed: ${(error as Error).message}`,
          'ENDPOINT_UNAVAILABLE',
        );
      }
      latency += Date.now() - started;
      const rate = keywordHitRate(answer, probe.keywords);
      hitSum += rate;
      if (rate === 1) allHit++;
    }
    const metrics = {
      dataset_id: input.datasetId,
      endpoint: input.endpoint,
      model,
      samples: probes.length,
      keyword_hit_rate: hitSum / probes.length,
      samples_all_hit: allHit,
      latency_ms_avg: Math.round(latency / probes.length),
    };
    return this.record(em, caller, taskId, {
      evaluator: 'keyword-hit',
      evaluationType: 'automatic',
      metrics,
    });
  }

  async evaluateManually(
    em: EntityManager,
    caller: Caller,
    taskId: number,
    input: ManualEvaluationInput,
  ): Promise<EvaluationRow> {
    const task = await this.tasks.get(em, caller, taskId, 'task_id');
    assertOwner(caller, task);
    let metrics: unknown = {};
    if (input.metrics.trim()) {
      try {
        metrics = JSON.parse(input.metrics);
      } catch {
        throw DomainError.invalidArgument('manual.metrics', 'must be a JSON object');
      }
    }
    if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
      throw DomainError.invalidArgument('manual.metrics', 'must be a JSON object');
    }
    if (input.recommendedPlan && !PLANS.includes(input.recommendedPlan)) {
      throw DomainError.invalidArgument('manual.recommended_plan', `must be one of ${PLANS.join(', ')}`);
    }
    return this.record(em, caller, taskId, {
      evaluator: requireText('manual.evaluator', input.evaluator, 100, false) || null,
      evaluationType: 'manual',
      metrics: metrics as Record<string, unknown>,
      recommendedPlan: input.recommendedPlan || null,
      notes: requireText('manual.notes', input.notes, 10_000, false) || null,
    });
  }

  private async record(
    em: EntityManager,
    caller: Caller,
    taskId: number,
    fields: Pick<EvaluationRow, 'evaluator' | 'evaluationType' | 'metrics'> & Partial<EvaluationRow>,
  ): Promise<EvaluationRow> {
    const row = await em.transactional(async (tem) => {
      const evaluation = tem.create(EvaluationEntity, {
        ...fields,
        taskId,
        createdBy: caller.claims.userId,
        createdAt: new Date(),
      });
      await tem.flush();
      audit(tem, caller, 'created', 'evaluation', evaluation.id, {
        newValues: { task_id: taskId, evaluation_type: evaluation.evaluationType },
      });
      return evaluation;
    });
    this.deps.relay.kick();
    return row;
  }

  async listEvaluations(em: EntityManager, caller: Caller, taskId: number): Promise<EvaluationRow[]> {
    await this.tasks.get(em, caller, taskId, 'task_id');
    return em.find(EvaluationEntity, { taskId }, { orderBy: { id: 'desc' }, limit: 200 });
  }
}
