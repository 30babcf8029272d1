import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { trainingV1 } from '@charge/contracts';
import { connectNats } from '@charge/events';
import { type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  freePort,
  startTestService,
  statusOf,
  TestNatsServer,
  TestTokenIssuer,
  unary,
  withClient,
  withToken,
  type TestDatabase,
  eventually,
  migrateSchemas,
} from '@charge/testing';
import { build } from '../src/app';
import { loadConfig, type TrainingConfig } from '../src/config';
import { entities, migrations, SCHEMA } from '../src/persistence/schema';
import { separableJsonl } from './fixtures';

const T = trainingV1;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('training service', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let issuer: TestTokenIssuer;
  let service: RunningService<TrainingConfig>;
  let client: trainingV1.TrainingServiceClient;
  let dataDir: string;
  let owner: Metadata;
  let other: Metadata;
  let admin: Metadata;

  const rows = (sql: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(sql, params).then((r) => r.rows as Record<string, unknown>[]));

  type UnaryFn = (req: unknown, md: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => unknown;
  /** A unary call by method name; the request goes through `<Method>Request.fromPartial`. */
  const call = <Req, Res = unknown>(
    method: string,
    req: Partial<Req> | object,
    md: Metadata = owner,
  ): Promise<Res> => {
    const type = (T as unknown as Record<string, { fromPartial(o: object): unknown }>)[
      `${method[0].toUpperCase()}${method.slice(1)}Request`
    ];
    const fn = (client as unknown as Record<string, UnaryFn>)[method].bind(client);
    return unary(fn as never, type.fromPartial(req), md) as Promise<Res>;
  };

  function upload(
    header: Partial<trainingV1.DatasetUploadHeader>,
    content: string,
    md: Metadata = owner,
  ): Promise<trainingV1.UploadDatasetResponse> {
    return new Promise((resolve, reject) => {
      const stream = client.uploadDataset(
        md,
        (err: ServiceError | null, res: trainingV1.UploadDatasetResponse) =>
          err ? reject(err) : resolve(res),
      );
      stream.write({ header: T.DatasetUploadHeader.fromPartial({ name: 'ds', ...header }) });
      const bytes = Buffer.from(content);
      for (let i = 0; i < bytes.length; i += 4096) stream.write({ chunk: bytes.subarray(i, i + 4096) });
      stream.end();
    });
  }

  const flowDataset = async (n = 300, extra: Partial<trainingV1.DatasetUploadHeader> = {}) =>
    (await upload({ datasetType: T.DatasetType.DATASET_TYPE_FLOW_CONTROL, ...extra }, separableJsonl(n)))
      .dataset!;

  const createTask = async (datasetId: number, hp: Partial<trainingV1.Hyperparameters>, name = 'fc') =>
    (
      await call<trainingV1.CreateTaskRequest, trainingV1.CreateTaskResponse>(
        'createTask',
        T.CreateTaskRequest.fromPartial({
          name,
          datasetId,
          modelType: T.ModelType.MODEL_TYPE_FLOW_CONTROL,
          hyperparameters: hp,
        }),
      )
    ).task!;

  const getTask = async (id: number) =>
    (await call<trainingV1.GetTaskRequest, trainingV1.GetTaskResponse>('getTask', { id })).task!;
  const start = (id: number) =>
    call<trainingV1.StartTaskRequest, trainingV1.StartTaskResponse>('startTask', { id });
  const untilStatus = (id: number, wanted: trainingV1.TaskStatus[], timeoutMs = 40_000) =>
    eventually(
      () => getTask(id),
      (t) => wanted.includes(t.status),
      timeoutMs,
    );
  const metricSteps = async (taskId: number) =>
    (await rows('select step from training.training_metrics where task_id = $1 order by id', [taskId])).map(
      (r) => Number(r.step),
    );
  const trainerLog = (taskId: number) =>
    readFileSync(path.join(dataDir, 'runs', `task-${taskId}`, 'trainer_log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);

  /** Message counts per subject on the AUDIT stream, once `done` holds (or after 10 s). */
  async function auditSubjects(filter: string, done: (s: Record<string, number>) => boolean) {
    const nc = await connectNats(nats.url, 'test-audit-reader');
    try {
      const jsm = await jetstreamManager(nc);
      return await eventually(
        async () => (await jsm.streams.info('AUDIT', { subjects_filter: filter })).state.subjects ?? {},
        done,
        10_000,
      );
    } finally {
      await nc.close();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('training');
    nats = await TestNatsServer.start();
    issuer = await TestTokenIssuer.start();
    dataDir = mkdtempSync(path.join(tmpdir(), 'training-data-'));
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    service = await startTestService(
      { name: 'training', loadConfig, build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_GRPC_ADDR: issuer.address,
          TRAINING_DATA_DIR: dataDir,
          TRAINING_SLOTS: '1',
          TRAINING_HEARTBEAT_MS: '200',
          TRAINING_STALE_AFTER_MS: '6000',
          TRAINING_CANCEL_GRACE_MS: '1500',
          LLAMAFACTORY_CLI: 'llamafactory-cli-not-installed-here',
          METRICS_PORT: String(await freePort()),
        },
      },
    );
    client = clientFor(T.TrainingServiceClient, service);
    owner = withToken(issuer.issue({ userId: 10 }));
    other = withToken(issuer.issue({ userId: 11 }));
    admin = withToken(issuer.issue({ userId: 1, role: 'admin' }));
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
    await issuer?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('malformed dataset lines → INVALID_ARGUMENT listing them, nothing stored', async () => {
    const content = [
      '{"features":[1,2],"label":"a"}',
      '{"features":[1],"label":"a"}',
      '{"label":"b"}',
      'x',
    ].join('\n');
    const error = await upload({ datasetType: T.DatasetType.DATASET_TYPE_FLOW_CONTROL }, content).catch(
      (e: ServiceError) => e,
    );
    expect((error as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    expect((error as ServiceError).metadata.get('error-lines')).toEqual(['2,3,4']);
    expect((error as ServiceError).details).toContain('line 3');
    expect(await rows('select * from training.training_datasets')).toHaveLength(0);
    expect(await statusOf(upload({ datasetType: T.DatasetType.DATASET_TYPE_UNSPECIFIED }, '{}'))).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  test('datasets: sample count, private to the owner, public readable by all, audited', async () => {
    const priv = await flowDataset(30);
    expect(priv.sampleCount).toBe(30);
    expect(JSON.parse(priv.metaInfo)).toMatchObject({
      format: 'jsonl',
      labels: { bms_side: 10, cable: 10, charger_side: 10 },
    });
    const pub = await flowDataset(9, { isPublic: true, name: 'public' });
    expect(await statusOf(call('getDataset', { id: priv.id }, other))).toBe(status.NOT_FOUND);
    const seen = await call<trainingV1.ListDatasetsRequest, trainingV1.ListDatasetsResponse>(
      'listDatasets',
      {},
      other,
    );
    expect(seen.datasets.map((d) => d.id)).toEqual([pub.id]);
    expect(await statusOf(call('deleteDataset', { id: pub.id }, other))).toBe(status.PERMISSION_DENIED);
    await call('deleteDataset', { id: priv.id }, admin);
    expect(await statusOf(call('getDataset', { id: priv.id }))).toBe(status.NOT_FOUND);
    // Every change reaches the AUDIT stream through the outbox.
    const subjects = await auditSubjects(
      'audit.training.dataset.>',
      (c) =>
        (c['audit.training.dataset.created'] ?? 0) >= 2 && (c['audit.training.dataset.deleted'] ?? 0) >= 1,
    );
    expect(subjects['audit.training.dataset.created']).toBeGreaterThanOrEqual(2);
    expect(subjects['audit.training.dataset.deleted']).toBe(1);
  });

  test('LLaMA-Factory YAML import → export → import round-trips; bad keys are INVALID_ARGUMENT', async () => {
    const yaml = [
      'model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct',
      'stage: sft',
      'do_train: true',
      'finetuning_type: lora',
      'lora_rank: 16',
      'lora_target: q_proj,v_proj',
      'learning_rate: 2.0e-4',
      'num_train_epochs: 2.0',
      'lr_scheduler_type: cosine',
      'val_size: 0.1',
    ].join('\n');
    const first = (
      await call<trainingV1.ImportConfigYamlRequest, trainingV1.ImportConfigYamlResponse>(
        'importConfigYaml',
        {
          name: 'qwen-lora',
          yaml,
          notes: '',
        },
      )
    ).config!;
    expect(first).toMatchObject({
      baseModel: 'Qwen2.5-1.5B-Instruct',
      modelPath: 'Qwen/Qwen2.5-1.5B-Instruct',
      adapterType: 'lora',
    });
    expect(first.hyperparameters).toMatchObject({
      loraRank: 16,
      learningRate: 0.0002,
      numTrainEpochs: 2,
      loraTarget: 'q_proj,v_proj',
    });
    const exported = (
      await call<trainingV1.ExportConfigYamlRequest, trainingV1.ExportConfigYamlResponse>(
        'exportConfigYaml',
        { id: first.id },
      )
    ).yaml;
    const second = (
      await call<trainingV1.ImportConfigYamlRequest, trainingV1.ImportConfigYamlResponse>(
        'importConfigYaml',
        {
          name: 'again',
          yaml: exported,
          notes: '',
        },
      )
    ).config!;
    expect(second.hyperparameters).toEqual(first.hyperparameters);
    expect(second.modelPath).toBe(first.modelPath);
    expect(
      await statusOf(call('importConfigYaml', { name: 'x', yaml: `${yaml}\nlora_rank_typo: 3`, notes: '' })),
    ).toBe(status.INVALID_ARGUMENT);
    expect(await statusOf(call('getConfig', { id: first.id }, other))).toBe(status.NOT_FOUND);
  });

  test('flow-control training end to end: loss falls, validation accuracy >= 0.9, metrics rows = trainer log, watch, publish, default, evaluation', async () => {
    const dataset = await flowDataset(300);
    const task = await createTask(dataset.id, {
      numTrainEpochs: 6,
      perDeviceTrainBatchSize: 16,
      loggingSteps: 3,
      learningRate: 0.1,
    });
    expect(task.status).toBe(T.TaskStatus.TASK_STATUS_PENDING);
    expect((await start(task.id)).task!.status).toBe(T.TaskStatus.TASK_STATUS_QUEUED);
    expect(await statusOf(start(task.id))).toBe(status.FAILED_PRECONDITION);

    const events: trainingV1.WatchTaskResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.watchTask({ id: task.id }, owner);
      stream.on('data', (e: trainingV1.WatchTaskResponse) => events.push(e));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    const done = await getTask(task.id);
    expect(done.status).toBe(T.TaskStatus.TASK_STATUS_COMPLETED);
    expect(done.progress).toBe(100);
    expect(done.currentStep).toBe(done.totalSteps);
    expect(done.startTime).toBeInstanceOf(Date);
    expect(done.endTime!.getTime()).toBeGreaterThanOrEqual(done.startTime!.getTime());
    expect(done.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(done.metrics).eval_accuracy).toBeGreaterThanOrEqual(0.9);

    const log = trainerLog(task.id);
    const stored = await rows(
      'select step, epoch, loss, accuracy, learning_rate, custom_metrics from training.training_metrics where task_id = $1 order by step',
      [task.id],
    );
    expect(stored.map((r) => r.step)).toEqual(log.map((r) => r.current_steps));
    expect(stored.map((r) => r.loss)).toEqual(log.map((r) => r.loss));
    expect(stored.map((r) => r.accuracy)).toEqual(log.map((r) => r.accuracy));
    expect(stored.map((r) => r.learning_rate)).toEqual(log.map((r) => r.lr));
    expect(stored[0].custom_metrics).toMatchObject({
      total_steps: log[0].total_steps,
      eval_loss: log[0].eval_loss,
    });
    expect(Number(stored.at(-1)!.loss)).toBeLessThan(Number(stored[0].loss));
    expect(Number(stored.at(-1)!.accuracy)).toBeGreaterThanOrEqual(0.9);

    expect(events.filter((e) => e.metric).map((e) => e.metric!.step)).toEqual(
      log.map((r) => r.current_steps),
    );
    expect(events.filter((e) => e.task).at(-1)!.task!.status).toBe(T.TaskStatus.TASK_STATUS_COMPLETED);
    expect(events.some((e) => e.log?.message.startsWith('flow-control:'))).toBe(true);
    const logs = await call<trainingV1.ListTaskLogsRequest, trainingV1.ListTaskLogsResponse>('listTaskLogs', {
      taskId: task.id,
    });
    expect(logs.logs.some((l) => l.message.startsWith('done:'))).toBe(true);
    const page1 = await call<trainingV1.ListTaskMetricsRequest, trainingV1.ListTaskMetricsResponse>(
      'listTaskMetrics',
      {
        taskId: task.id,
        page: { pageSize: 5, pageToken: '' },
      },
    );
    expect(page1.metrics.map((m) => m.step)).toEqual(log.slice(0, 5).map((r) => r.current_steps));
    expect(page1.page!.totalSize).toBe(log.length);

    const published = (
      await call<trainingV1.PublishModelRequest, trainingV1.PublishModelResponse>('publishModel', {
        taskId: task.id,
        name: 'flow-control',
        version: 'v1',
      })
    ).modelVersion!;
    expect(JSON.parse(published.config)).toMatchObject({ task_id: task.id, dataset_id: dataset.id });
    expect(JSON.parse(published.metrics).eval_accuracy).toBeGreaterThanOrEqual(0.9);
    expect(
      await statusOf(call('publishModel', { taskId: task.id, name: 'flow-control', version: 'v2' })),
    ).toBe(status.FAILED_PRECONDITION);
    expect(
      await statusOf(call('getDefaultModel', { modelType: T.ModelType.MODEL_TYPE_FLOW_CONTROL }, other)),
    ).toBe(status.NOT_FOUND);
    await call('setDefaultModel', { id: published.id });
    const def = await call<trainingV1.GetDefaultModelRequest, trainingV1.GetDefaultModelResponse>(
      'getDefaultModel',
      { modelType: T.ModelType.MODEL_TYPE_FLOW_CONTROL },
      other,
    );
    expect(def.modelVersion).toMatchObject({ id: published.id, isDefault: true, isActive: true });
    expect(await statusOf(call('deleteModelVersion', { id: published.id }))).toBe(status.FAILED_PRECONDITION);

    const heldOut = (
      await upload(
        { datasetType: T.DatasetType.DATASET_TYPE_FLOW_CONTROL, name: 'held-out' },
        separableJsonl(60, 99),
      )
    ).dataset!;
    const evaluation = (
      await call<trainingV1.CreateEvaluationRequest, trainingV1.CreateEvaluationResponse>(
        'createEvaluation',
        {
          taskId: task.id,
          automatic: { datasetId: heldOut.id },
        },
      )
    ).evaluation!;
    const m = JSON.parse(evaluation.metrics);
    expect(m.samples).toBe(60);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(m.macro_f1).toBeGreaterThanOrEqual(0.9);
    expect(m.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(60);
    await call('createEvaluation', {
      taskId: task.id,
      manual: {
        evaluator: 'lead',
        metrics: '{"hit_rate":0.8}',
        recommendedPlan: T.RecommendedPlan.RECOMMENDED_PLAN_BALANCED,
        notes: '',
      },
    });
    const evals = await call<trainingV1.ListEvaluationsRequest, trainingV1.ListEvaluationsResponse>(
      'listEvaluations',
      { taskId: task.id },
    );
    expect(evals.evaluations.map((e) => e.evaluationType)).toEqual([
      T.EvaluationType.EVALUATION_TYPE_MANUAL,
      T.EvaluationType.EVALUATION_TYPE_AUTOMATIC,
    ]);
    const wanted = [
      'audit.training.task.created',
      'audit.training.task.started',
      'audit.training.task.completed',
      'audit.training.model_version.published',
      'audit.training.model_version.default_set',
      'audit.training.evaluation.created',
    ];
    const audited = await auditSubjects('audit.training.>', (c) => wanted.every((w) => (c[w] ?? 0) > 0));
    for (const w of wanted) expect(audited[w]).toBeGreaterThan(0);

    // The runner's job is timed into the messaging histogram; the queue is drained.
    const metrics = await (await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`)).text();
    const handled = metrics.match(
      /^jetstream_consumer_handling_seconds_count\{stream="TRAINING_JOBS",consumer="[^"]+",outcome="ack"\} (\d+)$/m,
    );
    expect(Number(handled?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^jetstream_consumer_num_pending\{stream="TRAINING_JOBS",consumer="[^"]+"\} 0$/m);
  });

  test('a config with the balanced strategy trains on the same number of samples per label', async () => {
    const lines = separableJsonl(90).split('\n');
    // 30 per label, plus 20 more of one label.
    const imbalanced = [...lines, ...lines.filter((l) => l.includes('"cable"')).slice(0, 20)].join('\n');
    const dataset = (await upload({ datasetType: T.DatasetType.DATASET_TYPE_FLOW_CONTROL }, imbalanced))
      .dataset!;
    expect(dataset.sampleCount).toBe(110);
    const config = (
      await call<trainingV1.CreateConfigRequest, trainingV1.CreateConfigResponse>('createConfig', {
        config: {
          name: 'balanced fc',
          baseModel: 'flow-control',
          modelPath: 'builtin:flow-control',
          adapterType: 'none',
          datasetStrategy: 'balanced',
          hyperparameters: { numTrainEpochs: 2 },
        },
      })
    ).config!;
    const task = (
      await call<trainingV1.CreateTaskRequest, trainingV1.CreateTaskResponse>('createTask', {
        name: 'balanced',
        datasetId: dataset.id,
        configId: config.id,
        modelType: T.ModelType.MODEL_TYPE_FLOW_CONTROL,
        hyperparameters: { perDeviceTrainBatchSize: 8 },
      })
    ).task!;
    expect(task.hyperparameters).toMatchObject({ numTrainEpochs: 2, perDeviceTrainBatchSize: 8 });
    const nc = await connectNats(nats.url, 'test-progress');
    const progress: Record<string, unknown>[] = [];
    nc.subscribe(`training.progress.${task.id}`, {
      callback: (_e, m) => {
        progress.push(m.json());
      },
    });
    await nc.flush();
    await start(task.id);
    expect(
      (await untilStatus(task.id, [T.TaskStatus.TASK_STATUS_COMPLETED, T.TaskStatus.TASK_STATUS_FAILED]))
        .status,
    ).toBe(T.TaskStatus.TASK_STATUS_COMPLETED);
    const used = readFileSync(path.join(dataDir, 'runs', `task-${task.id}`, 'train_data.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { label: string }).label);
    expect(used).toHaveLength(90);
    expect(
      new Set(['bms_side', 'cable', 'charger_side'].map((l) => used.filter((u) => u === l).length)),
    ).toEqual(new Set([30]));
    const [note] = await rows(
      `select meta_info from training.training_logs where task_id = $1 and meta_info->>'source' = 'runner-data'`,
      [task.id],
    );
    expect(note.meta_info).toMatchObject({ strategy: 'balanced', kept: 90, total: 110 });
    await eventually(
      async () => progress.length,
      () => progress.some((p) => p.status === 'completed'),
      5000,
    );
    await nc.close();
    expect(progress.some((p) => p.status === 'running' && typeof p.current_step === 'number')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ task_id: task.id, status: 'completed', progress: 100 });
  });

  test('two tasks with one slot run one after the other', async () => {
    const dataset = await flowDataset(60);
    const hp = { numTrainEpochs: 4, perDeviceTrainBatchSize: 16, stepDelayMs: 60, loggingSteps: 2 };
    const a = await createTask(dataset.id, hp, 'a');
    const b = await createTask(dataset.id, hp, 'b');
    await start(a.id);
    await start(b.id);
    const [ra, rb] = [
      await untilStatus(a.id, [T.TaskStatus.TASK_STATUS_COMPLETED]),
      await untilStatus(b.id, [T.TaskStatus.TASK_STATUS_COMPLETED]),
    ];
    expect(ra.status).toBe(T.TaskStatus.TASK_STATUS_COMPLETED);
    expect(rb.status).toBe(T.TaskStatus.TASK_STATUS_COMPLETED);
    const [first, second] = ra.startTime! < rb.startTime! ? [ra, rb] : [rb, ra];
    expect(second.startTime!.getTime()).toBeGreaterThanOrEqual(first.endTime!.getTime());
  });

  test('cancel mid-run stops the process group within 5 s; resume continues from the checkpoint without duplicate steps', async () => {
    const dataset = await flowDataset(60);
    // 3 steps per epoch (48 training samples / 16), 20 epochs = 60 steps, 80 ms each ≈ 5 s.
    const task = await createTask(dataset.id, {
      numTrainEpochs: 20,
      perDeviceTrainBatchSize: 16,
      stepDelayMs: 80,
      loggingSteps: 1,
      saveSteps: 5,
    });
    await start(task.id);
    const running = await eventually(
      () => getTask(task.id),
      (t) => t.currentStep >= 12,
    );
    expect(running.status).toBe(T.TaskStatus.TASK_STATUS_RUNNING);
    const [started] = await rows(
      `select meta_info from training.training_logs where task_id = $1 and meta_info->>'source' = 'runner' order by id limit 1`,
      [task.id],
    );
    const pid = Number((started.meta_info as { pid: number }).pid);
    expect(alive(pid)).toBe(true);

    const cancelledAt = Date.now();
    const cancelled = (
      await call<trainingV1.CancelTaskRequest, trainingV1.CancelTaskResponse>('cancelTask', { id: task.id })
    ).task!;
    expect(cancelled.status).toBe(T.TaskStatus.TASK_STATUS_CANCELLED);
    await eventually(
      async () => alive(pid),
      (a) => !a,
      5000,
    );
    expect(alive(pid)).toBe(false);
    expect(Date.now() - cancelledAt).toBeLessThan(5000);
    expect((await getTask(task.id)).status).toBe(T.TaskStatus.TASK_STATUS_CANCELLED);
    expect(await statusOf(call('cancelTask', { id: task.id }))).toBe(status.FAILED_PRECONDITION);

    const before = await metricSteps(task.id);
    const lastBefore = before.at(-1)!;
    expect(lastBefore).toBeLessThan(60);
    await call('resumeTask', { id: task.id });
    const finished = await untilStatus(task.id, [
      T.TaskStatus.TASK_STATUS_COMPLETED,
      T.TaskStatus.TASK_STATUS_FAILED,
    ]);
    expect(finished.status).toBe(T.TaskStatus.TASK_STATUS_COMPLETED);
    const [resumed] = await rows(
      `select meta_info from training.training_logs where task_id = $1 and meta_info->>'source' = 'runner' and meta_info ? 'pid' order by id desc limit 1`,
      [task.id],
    );
    const from = Number((resumed.meta_info as { resumed_from_step: number }).resumed_from_step);
    expect(from).toBeGreaterThan(0);
    expect(from % 5).toBe(0);
    expect(from).toBeLessThanOrEqual(lastBefore);

    const steps = await metricSteps(task.id);
    expect(steps).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(steps.slice(0, from)).toEqual(before.slice(0, from));
    expect(trainerLog(task.id).map((r) => r.current_steps)).toEqual(steps);
  });

  test('concurrent SetDefaultModel calls leave exactly one default per model type', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [r] = await rows(
        `insert into training.model_versions (name, model_type, version, model_path, created_by) values ('race', 'flow_control', $1, '/m', 10) returning id`,
        [`r${i}`],
      );
      ids.push(Number(r.id));
    }
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call('setDefaultModel', { id: ids[i % ids.length] }).then(
          () => status.OK,
          (e: ServiceError) => e.code,
        ),
      ),
    );
    expect(results.every((c) => c === status.OK)).toBe(true);
    const defaults = await rows(
      `select id from training.model_versions where model_type = 'flow_control' and is_default`,
    );
    expect(defaults).toHaveLength(1);
    await expect(
      rows(
        `update training.model_versions set is_default = true where model_type = 'flow_control' and not is_default`,
      ),
    ).rejects.toThrow(/uq_model_versions_one_default/);
  });

  test('an llm task without llamafactory-cli installed → FAILED_PRECONDITION at start, no fake run; keyword-hit evaluation', async () => {
    const sft = (
      await upload(
        { datasetType: T.DatasetType.DATASET_TYPE_SFT, name: 'sft' },
        `${JSON.stringify({ instruction: 'why did charging stop?', input: '', output: 'BST from the charger' })}\n`,
      )
    ).dataset!;
    const llmTask = { name: 'lora', datasetId: sft.id, modelType: T.ModelType.MODEL_TYPE_LLM };
    expect(await statusOf(call('createTask', llmTask))).toBe(status.INVALID_ARGUMENT);
    const config = (
      await call<trainingV1.CreateConfigRequest, trainingV1.CreateConfigResponse>('createConfig', {
        config: {
          name: 'qwen lora',
          baseModel: 'Qwen2.5-1.5B-Instruct',
          modelPath: 'Qwen/Qwen2.5-1.5B-Instruct',
          hyperparameters: { loraRank: 8, template: 'qwen' },
        },
      })
    ).config!;
    const task = (
      await call<trainingV1.CreateTaskRequest, trainingV1.CreateTaskResponse>('createTask', {
        ...llmTask,
        configId: config.id,
      })
    ).task!;
    expect(task).toMatchObject({
      adapterType: 'lora',
      modelSize: '1.5b',
      hyperparameters: { loraRank: 8, template: 'qwen' },
    });
    const err = await start(task.id).catch((e: ServiceError) => e);
    expect((err as ServiceError).code).toBe(status.FAILED_PRECONDITION);
    expect((err as ServiceError).metadata.get('error-reason')).toEqual(['TRAINER_UNAVAILABLE']);
    expect((await getTask(task.id)).status).toBe(T.TaskStatus.TASK_STATUS_PENDING);
    expect(await statusOf(createTask(sft.id, {}))).toBe(status.FAILED_PRECONDITION);

    // Keyword-hit evaluation of an LLM served behind an OpenAI-compatible endpoint. The task
    // is marked completed directly: this host cannot run LLaMA-Factory.
    await rows(
      `update training.training_tasks set status = 'completed', model_path = '/models/lora' where id = $1`,
      [task.id],
    );
    const probes = (
      await upload(
        { datasetType: T.DatasetType.DATASET_TYPE_SFT, name: 'probes' },
        [
          { instruction: 'why did charging stop?', input: '', output: 'BST', keywords: ['BST', 'charger'] },
          {
            conversations: [
              { from: 'human', value: 'what is BHM?' },
              { from: 'gpt', value: 'handshake' },
            ],
            keywords: ['handshake'],
          },
          { instruction: 'no keywords here', input: '', output: 'x' },
        ]
          .map((x) => JSON.stringify(x))
          .join('\n'),
      )
    ).dataset!;
    const seen: { model: string; messages: { role: string; content: string }[] }[] = [];
    const llm = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(JSON.parse(body) as (typeof seen)[number]);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'The charger sent BST.' } }] }),
        );
      });
    });
    await new Promise<void>((r) => llm.listen(0, '127.0.0.1', () => r()));
    try {
      const endpoint = `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`;
      const evaluation = (
        await call<trainingV1.CreateEvaluationRequest, trainingV1.CreateEvaluationResponse>(
          'createEvaluation',
          {
            taskId: task.id,
            keyword: { datasetId: probes.id, endpoint, model: 'qwen-lora', keywords: [], maxSamples: 0 },
          },
        )
      ).evaluation!;
      expect(JSON.parse(evaluation.metrics)).toMatchObject({
        samples: 2,
        keyword_hit_rate: 0.5,
        samples_all_hit: 1,
        model: 'qwen-lora',
      });
      expect(seen.map((r) => r.messages.at(-1)!.content)).toEqual(['why did charging stop?', 'what is BHM?']);
      expect(seen.every((r) => r.model === 'qwen-lora')).toBe(true);
    } finally {
      await new Promise((r) => llm.close(r));
    }
    expect(
      await statusOf(
        call('createEvaluation', {
          taskId: task.id,
          keyword: {
            datasetId: probes.id,
            endpoint: 'http://127.0.0.1:1/v1',
            model: 'm',
            keywords: [],
            maxSamples: 1,
          },
        }),
      ),
    ).toBe(status.UNAVAILABLE);
  });

  test('a running task whose runner stopped sending heartbeats is failed by the reaper', async () => {
    const [r] = await rows(
      `insert into training.training_tasks (name, model_type, status, created_by, updated_at) values ('orphan', 'flow_control', 'running', 10, now() - interval '1 hour') returning id`,
    );
    const id = Number(r.id);
    const reaped = await untilStatus(id, [T.TaskStatus.TASK_STATUS_FAILED], 15_000);
    expect(reaped.status).toBe(T.TaskStatus.TASK_STATUS_FAILED);
    expect(reaped.errorMessage).toContain('no heartbeat');
    const audited = await auditSubjects(
      'audit.training.task.reaped',
      (c) => (c['audit.training.task.reaped'] ?? 0) > 0,
    );
    expect(audited['audit.training.task.reaped']).toBe(1);
  });

  test('users.deleted clears ownership', async () => {
    const ds = await flowDataset(6);
    const nc = await connectNats(nats.url, 'test-auth');
    nc.publish('users.deleted', JSON.stringify({ user_id: 10, deleted_at: new Date().toISOString() }));
    await nc.flush();
    await nc.close();
    const after = await eventually(
      () => rows('select created_by from training.training_datasets where id = $1', [ds.id]),
      (r) => r[0].created_by === null,
      10_000,
    );
    expect(after[0].created_by).toBeNull();
  });
});
