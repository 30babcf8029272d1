import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { trainingV1 } from '@charge/contracts';
import { type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  startTestService,
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

/** A runner killed mid-task: the reaper fails the task, its trainer dies with it, a new runner resumes. */
describe('training runner failover', () => {
  let db: TestDatabase;
  let nats: TestNatsServer;
  let issuer: TestTokenIssuer;
  let api: RunningService<TrainingConfig>;
  let client: trainingV1.TrainingServiceClient;
  let dataDir: string;
  let owner: Metadata;
  const runners: ChildProcess[] = [];

  const env = () => ({
    ...process.env,
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    AUTH_GRPC_ADDR: issuer.address,
    TRAINING_DATA_DIR: dataDir,
    TRAINING_HEARTBEAT_MS: '200',
    TRAINING_STALE_AFTER_MS: '2500',
    TRAINING_CANCEL_GRACE_MS: '1000',
  });

  /** A separate runner process (the real service entry point, API on a free port). */
  function startRunner(): ChildProcess {
    const child = spawn(
      process.execPath,
      ['--require', require.resolve('tsx/cjs'), path.join(__dirname, '..', 'src', 'main.ts')],
      {
        env: { ...env(), GRPC_HOST: '127.0.0.1', GRPC_PORT: '0', TRAINING_SLOTS: '1', LOG_LEVEL: 'warn' },
        stdio: process.env.TEST_RUNNER_STDIO === 'inherit' ? 'inherit' : 'ignore',
      },
    );
    runners.push(child);
    return child;
  }

  const call = <Res>(method: string, req: object): Promise<Res> => {
    const type = (T as unknown as Record<string, { fromPartial(o: object): unknown }>)[
      `${method[0].toUpperCase()}${method.slice(1)}Request`
    ];
    const fn = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[method].bind(client);
    return unary(fn as never, type.fromPartial(req), owner) as Promise<Res>;
  };
  const getTask = async (id: number) => (await call<trainingV1.GetTaskResponse>('getTask', { id })).task!;
  const rows = (sql: string, params: unknown[] = []) =>
    withClient(db.url, (c) => c.query(sql, params).then((r) => r.rows as Record<string, unknown>[]));
  const runnerLog = async (taskId: number) => {
    const [r] = await rows(
      `select meta_info from training.training_logs where task_id = $1 and meta_info ? 'pid' order by id desc limit 1`,
      [taskId],
    );
    return r?.meta_info as { pid: number; resumed_from_step: number | null } | undefined;
  };

  beforeAll(async () => {
    db = await createTestDatabase('trainingfailover');
    nats = await TestNatsServer.start();
    issuer = await TestTokenIssuer.start();
    dataDir = mkdtempSync(path.join(tmpdir(), 'training-failover-'));
    await migrateSchemas(db.url, { SCHEMA, entities, migrations });
    // The API replica runs no trainers (TRAINING_SLOTS=0) but does reap.
    api = await startTestService(
      { name: 'training', loadConfig, build },
      { env: { ...env(), TRAINING_SLOTS: '0' } },
    );
    client = clientFor(T.TrainingServiceClient, api);
    owner = withToken(issuer.issue({ userId: 5 }));
  });

  afterAll(async () => {
    for (const r of runners) {
      if (r.exitCode === null && r.signalCode === null) {
        const exited = new Promise((resolve) => r.once('exit', resolve));
        r.kill('SIGTERM');
        await exited;
      }
    }
    client?.close();
    await api?.stop();
    await issuer?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('runner killed mid-task → trainer exits, reaper fails the task; resumed, stopped gracefully → re-queued; a third runner finishes it', async () => {
    const dataset = await new Promise<trainingV1.Dataset>((resolve, reject) => {
      const stream = client.uploadDataset(
        owner,
        (err: ServiceError | null, res: trainingV1.UploadDatasetResponse) =>
          err ? reject(err) : resolve(res.dataset!),
      );
      stream.write({
        header: T.DatasetUploadHeader.fromPartial({
          name: 'd',
          datasetType: T.DatasetType.DATASET_TYPE_FLOW_CONTROL,
        }),
      });
      stream.write({ chunk: Buffer.from(separableJsonl(60)) });
      stream.end();
    });
    // 3 steps per epoch, 30 epochs = 90 steps at 60 ms ≈ 5.4 s.
    const task = (
      await call<trainingV1.CreateTaskResponse>('createTask', {
        name: 'failover',
        datasetId: dataset.id,
        modelType: T.ModelType.MODEL_TYPE_FLOW_CONTROL,
        hyperparameters: {
          numTrainEpochs: 30,
          perDeviceTrainBatchSize: 16,
          stepDelayMs: 60,
          loggingSteps: 1,
          saveSteps: 5,
        },
      })
    ).task!;
    const first = startRunner();
    await call('startTask', { id: task.id });
    const running = await eventually(
      () => getTask(task.id),
      (t) => t.currentStep >= 10,
      45_000,
    );
    expect(running.status).toBe(T.TaskStatus.TASK_STATUS_RUNNING);
    const trainerPid = (await runnerLog(task.id))!.pid;
    expect(alive(trainerPid)).toBe(true);

    first.kill('SIGKILL');
    // The replacement boots while the reaper waits out the heartbeat timeout.
    startRunner();
    // The trainer notices its runner's pipe closing and exits.
    expect(
      await eventually(
        async () => alive(trainerPid),
        (a) => !a,
        5000,
      ),
    ).toBe(false);
    const reaped = await eventually(
      () => getTask(task.id),
      (t) => t.status !== T.TaskStatus.TASK_STATUS_RUNNING,
      15_000,
    );
    expect(reaped.status).toBe(T.TaskStatus.TASK_STATUS_FAILED);
    expect(reaped.errorMessage).toContain('no heartbeat');
    const stepsBefore = (
      await rows('select step from training.training_metrics where task_id = $1', [task.id])
    ).length;
    expect(stepsBefore).toBeLessThan(90);

    await call('resumeTask', { id: task.id });
    const resumedRun = await eventually(
      () => getTask(task.id),
      (t) => t.status === T.TaskStatus.TASK_STATUS_RUNNING && t.currentStep >= 30,
      45_000,
    );
    expect(resumedRun.currentStep).toBeLessThan(90);
    expect((await runnerLog(task.id))!.resumed_from_step).toBeGreaterThanOrEqual(10);

    // A graceful stop (SIGTERM) hands the task back to the queue instead of failing it.
    const second = runners[1];
    const stopped = new Promise((resolve) => second.once('exit', resolve));
    second.kill('SIGTERM');
    await stopped;
    expect((await getTask(task.id)).status).toBe(T.TaskStatus.TASK_STATUS_QUEUED);
    startRunner();
    const done = await eventually(
      () => getTask(task.id),
      (t) => t.status === T.TaskStatus.TASK_STATUS_COMPLETED || t.status === T.TaskStatus.TASK_STATUS_FAILED,
      60_000,
    );
    expect(done.status).toBe(T.TaskStatus.TASK_STATUS_COMPLETED);
    expect((await runnerLog(task.id))!.resumed_from_step).toBeGreaterThanOrEqual(30);
    const steps = (
      await rows('select step from training.training_metrics where task_id = $1 order by step', [task.id])
    ).map((r) => Number(r.step));
    expect(steps).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
  }, 120_000);
});
