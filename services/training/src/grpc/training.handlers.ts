import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { trainingV1 } from '@charge/contracts';
import { DomainError } from '@charge/errors';
import { callerOf, collectUpload, fileUploadMessages, type CallContext, type Rpc } from '@charge/service-kit';
import { hyperparametersFromProto } from '../domain/hyperparameters';
import { isTerminal } from '../domain/task-status';
import type { ConfigInput, ConfigUseCases } from '../use-cases/configs';
import type { DatasetUseCases, UploadHeader } from '../use-cases/datasets';
import type { RegistryUseCases } from '../use-cases/registry';
import type { TaskUseCases } from '../use-cases/tasks';
import {
  datasetKind,
  datasetTypeFilter,
  modelKind,
  modelTypeFilter,
  planName,
  statusFilter,
  toConfig,
  toDataset,
  toEvaluation,
  toLog,
  toMetric,
  toModelVersion,
  toTask,
} from './mapping';

export interface TrainingHandlerDeps {
  rpc: Rpc;
  datasets: DatasetUseCases;
  configs: ConfigUseCases;
  tasks: TaskUseCases;
  registry: RegistryUseCases;
  maxDatasetBytes: number;
  /** WatchTask's polling interval. */
  watchIntervalMs: number;
}

const caller = callerOf;

function configInput(message: trainingV1.TrainingConfigInput | undefined): ConfigInput {
  const c = message ?? ({} as Partial<trainingV1.TrainingConfigInput>);
  return {
    name: c.name ?? '',
    baseModel: c.baseModel ?? '',
    modelPath: c.modelPath ?? '',
    adapterType: c.adapterType ?? '',
    modelSize: c.modelSize ?? '',
    datasetStrategy: c.datasetStrategy ?? '',
    hyperparameters: hyperparametersFromProto(c.hyperparameters, 'config.hyperparameters'),
    notes: c.notes ?? '',
  };
}

const page = (p: { nextPageToken: string; totalSize: number }) => ({
  nextPageToken: p.nextPageToken,
  totalSize: p.totalSize,
});

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Proto ⇄ use-case mapping for charge.training.v1.TrainingService. */
export function trainingHandlers(deps: TrainingHandlerDeps): UntypedServiceImplementation {
  const { rpc, datasets, configs, tasks, registry } = deps;
  /** One dataset upload: the header first, then chunks; validated before anything is stored. */
  async function receiveDataset(
    messages: AsyncIterable<trainingV1.UploadDatasetRequest>,
    ctx: CallContext,
  ): Promise<trainingV1.UploadDatasetResponse> {
    const { header, bytes } = await collectUpload(messages, {
      maxBytes: deps.maxDatasetBytes,
      tooLargeReason: 'DATASET_TOO_LARGE',
      header: (h): UploadHeader => ({
        name: h.name,
        description: h.description,
        datasetType: datasetKind('header.dataset_type', h.datasetType),
        isPublic: h.isPublic,
        fileName: h.fileName,
      }),
    });
    return { dataset: toDataset(await datasets.upload(ctx.em, caller(ctx), header, bytes)) };
  }

  return {
    uploadDataset: rpc.clientStream<trainingV1.UploadDatasetRequest, trainingV1.UploadDatasetResponse>(
      receiveDataset,
    ),
    uploadDatasetFile: rpc.clientStream<
      trainingV1.UploadDatasetFileRequest,
      trainingV1.UploadDatasetFileResponse
    >((messages, ctx) =>
      receiveDataset(
        fileUploadMessages(messages, (m) => ({
          name: m.name,
          description: m.description,
          datasetType: m.datasetType,
          isPublic: m.isPublic,
          fileName: m.fileName,
        })),
        ctx,
      ),
    ),
    listDatasets: rpc.unary<trainingV1.ListDatasetsRequest, trainingV1.ListDatasetsResponse>(
      async (req, ctx) => {
        const res = await datasets.list(ctx.em, caller(ctx), {
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
          datasetType: datasetTypeFilter(req.datasetType),
        });
        return { datasets: res.items.map(toDataset), page: page(res) };
      },
    ),
    getDataset: rpc.unary<trainingV1.GetDatasetRequest, trainingV1.GetDatasetResponse>(async (req, ctx) => ({
      dataset: toDataset(await datasets.get(ctx.em, caller(ctx), req.id)),
    })),
    deleteDataset: rpc.unary<trainingV1.DeleteDatasetRequest, trainingV1.DeleteDatasetResponse>(
      async (req, ctx) => {
        await datasets.delete(ctx.em, caller(ctx), req.id);
        return {};
      },
    ),

    createConfig: rpc.unary<trainingV1.CreateConfigRequest, trainingV1.CreateConfigResponse>(
      async (req, ctx) => ({
        config: toConfig(await configs.create(ctx.em, caller(ctx), configInput(req.config))),
      }),
    ),
    getConfig: rpc.unary<trainingV1.GetConfigRequest, trainingV1.GetConfigResponse>(async (req, ctx) => ({
      config: toConfig(await configs.get(ctx.em, caller(ctx), req.id)),
    })),
    listConfigs: rpc.unary<trainingV1.ListConfigsRequest, trainingV1.ListConfigsResponse>(
      async (req, ctx) => {
        const res = await configs.list(ctx.em, caller(ctx), {
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
        });
        return { configs: res.items.map(toConfig), page: page(res) };
      },
    ),
    updateConfig: rpc.unary<trainingV1.UpdateConfigRequest, trainingV1.UpdateConfigResponse>(
      async (req, ctx) => ({
        config: toConfig(await configs.update(ctx.em, caller(ctx), req.id, configInput(req.config))),
      }),
    ),
    deleteConfig: rpc.unary<trainingV1.DeleteConfigRequest, trainingV1.DeleteConfigResponse>(
      async (req, ctx) => {
        await configs.delete(ctx.em, caller(ctx), req.id);
        return {};
      },
    ),
    importConfigYaml: rpc.unary<trainingV1.ImportConfigYamlRequest, trainingV1.ImportConfigYamlResponse>(
      async (req, ctx) => ({
        config: toConfig(await configs.importYaml(ctx.em, caller(ctx), req.name, req.yaml, req.notes)),
      }),
    ),
    exportConfigYaml: rpc.unary<trainingV1.ExportConfigYamlRequest, trainingV1.ExportConfigYamlResponse>(
      async (req, ctx) => ({
        yaml: await configs.exportYaml(ctx.em, caller(ctx), req.id),
      }),
    ),

    createTask: rpc.unary<trainingV1.CreateTaskRequest, trainingV1.CreateTaskResponse>(async (req, ctx) => {
      const row = await tasks.create(ctx.em, caller(ctx), {
        name: req.name,
        description: req.description,
        datasetId: req.datasetId,
        configId: req.configId,
        modelType: modelKind('model_type', req.modelType),
        hyperparameters: hyperparametersFromProto(req.hyperparameters),
      });
      return { task: toTask(row) };
    }),
    startTask: rpc.unary<trainingV1.StartTaskRequest, trainingV1.StartTaskResponse>(async (req, ctx) => ({
      task: toTask(await tasks.start(ctx.em, caller(ctx), req.id)),
    })),
    cancelTask: rpc.unary<trainingV1.CancelTaskRequest, trainingV1.CancelTaskResponse>(async (req, ctx) => ({
      task: toTask(await tasks.cancel(ctx.em, caller(ctx), req.id)),
    })),
    resumeTask: rpc.unary<trainingV1.ResumeTaskRequest, trainingV1.ResumeTaskResponse>(async (req, ctx) => ({
      task: toTask(await tasks.resume(ctx.em, caller(ctx), req.id)),
    })),
    getTask: rpc.unary<trainingV1.GetTaskRequest, trainingV1.GetTaskResponse>(async (req, ctx) => ({
      task: toTask(await tasks.get(ctx.em, caller(ctx), req.id)),
    })),
    listTasks: rpc.unary<trainingV1.ListTasksRequest, trainingV1.ListTasksResponse>(async (req, ctx) => {
      const res = await tasks.list(ctx.em, caller(ctx), {
        pageSize: req.page?.pageSize,
        pageToken: req.page?.pageToken,
        status: statusFilter(req.status),
      });
      return { tasks: res.items.map(toTask), page: page(res) };
    }),
    watchTask: rpc.serverStream<trainingV1.WatchTaskRequest, trainingV1.WatchTaskResponse>(
      async (req, send, ctx) => {
        const who = caller(ctx);
        let metricId = 0;
        let logId = 0;
        let lastState = '';
        for (;;) {
          ctx.em.clear();
          const task = await tasks.get(ctx.em, who, req.id);
          const { metrics, logs } = await tasks.newRows(ctx.em, task.id, metricId, logId);
          for (const m of metrics) await send({ metric: toMetric(m) });
          for (const l of logs) await send({ log: toLog(l) });
          metricId = metrics.at(-1)?.id ?? metricId;
          logId = logs.at(-1)?.id ?? logId;
          const state = `${task.status}|${task.currentStep}|${task.progress}|${task.updatedAt.getTime()}`;
          if (state !== lastState) {
            await send({ task: toTask(task) });
            lastState = state;
          }
          if (isTerminal(task.status) && metrics.length < 500 && logs.length < 500) return;
          if (ctx.signal.aborted) return;
          await sleep(deps.watchIntervalMs, ctx.signal);
        }
      },
    ),
    listTaskMetrics: rpc.unary<trainingV1.ListTaskMetricsRequest, trainingV1.ListTaskMetricsResponse>(
      async (req, ctx) => {
        const res = await tasks.metrics(ctx.em, caller(ctx), req.taskId, {
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
        });
        return { metrics: res.items.map(toMetric), page: page(res) };
      },
    ),
    listTaskLogs: rpc.unary<trainingV1.ListTaskLogsRequest, trainingV1.ListTaskLogsResponse>(
      async (req, ctx) => {
        const res = await tasks.logs(ctx.em, caller(ctx), req.taskId, {
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
        });
        return { logs: res.items.map(toLog), page: page(res) };
      },
    ),

    publishModel: rpc.unary<trainingV1.PublishModelRequest, trainingV1.PublishModelResponse>(
      async (req, ctx) => ({
        modelVersion: toModelVersion(
          await registry.publish(ctx.em, caller(ctx), req.taskId, req.name, req.version),
        ),
      }),
    ),
    setDefaultModel: rpc.unary<trainingV1.SetDefaultModelRequest, trainingV1.SetDefaultModelResponse>(
      async (req, ctx) => ({
        modelVersion: toModelVersion(await registry.setDefault(ctx.em, caller(ctx), req.id)),
      }),
    ),
    setModelActive: rpc.unary<trainingV1.SetModelActiveRequest, trainingV1.SetModelActiveResponse>(
      async (req, ctx) => ({
        modelVersion: toModelVersion(await registry.setActive(ctx.em, caller(ctx), req.id, req.isActive)),
      }),
    ),
    listModelVersions: rpc.unary<trainingV1.ListModelVersionsRequest, trainingV1.ListModelVersionsResponse>(
      async (req, ctx) => {
        ctx.user();
        const res = await registry.list(ctx.em, {
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
          modelType: modelTypeFilter(req.modelType),
        });
        return { modelVersions: res.items.map(toModelVersion), page: page(res) };
      },
    ),
    getDefaultModel: rpc.unary<trainingV1.GetDefaultModelRequest, trainingV1.GetDefaultModelResponse>(
      async (req, ctx) => {
        ctx.user();
        return {
          modelVersion: toModelVersion(
            await registry.getDefault(ctx.em, modelKind('model_type', req.modelType)),
          ),
        };
      },
    ),
    deleteModelVersion: rpc.unary<
      trainingV1.DeleteModelVersionRequest,
      trainingV1.DeleteModelVersionResponse
    >(async (req, ctx) => {
      await registry.delete(ctx.em, caller(ctx), req.id);
      return {};
    }),

    createEvaluation: rpc.unary<trainingV1.CreateEvaluationRequest, trainingV1.CreateEvaluationResponse>(
      async (req, ctx) => {
        const who = caller(ctx);
        if (req.automatic) {
          return {
            evaluation: toEvaluation(
              await registry.evaluateAutomatically(ctx.em, who, req.taskId, req.automatic.datasetId),
            ),
          };
        }
        if (req.keyword) {
          const k = req.keyword;
          const row = await registry.evaluateKeywords(
            ctx.em,
            who,
            req.taskId,
            {
              datasetId: k.datasetId,
              endpoint: k.endpoint,
              model: k.model,
              keywords: k.keywords,
              maxSamples: k.maxSamples,
            },
            ctx.signal,
          );
          return { evaluation: toEvaluation(row) };
        }
        if (req.manual) {
          const m = req.manual;
          const row = await registry.evaluateManually(ctx.em, who, req.taskId, {
            evaluator: m.evaluator,
            metrics: m.metrics,
            recommendedPlan: planName(m.recommendedPlan),
            notes: m.notes,
          });
          return { evaluation: toEvaluation(row) };
        }
        throw DomainError.invalidArgument('kind', 'set automatic, keyword or manual');
      },
    ),
    listEvaluations: rpc.unary<trainingV1.ListEvaluationsRequest, trainingV1.ListEvaluationsResponse>(
      async (req, ctx) => ({
        evaluations: (await registry.listEvaluations(ctx.em, caller(ctx), req.taskId)).map(toEvaluation),
      }),
    ),
  };
}
