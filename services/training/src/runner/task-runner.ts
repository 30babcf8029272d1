import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AckPolicy, jetstream, jetstreamManager, type Consumer, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  enqueueAudit,
  ensureStream,
  eventMetricsOf,
  failSpan,
  jetStreamSpanOptions,
  startConsumerSpan,
  STREAMS,
  type JobOutcome,
} from '@charge/events';
import type { Logger } from '@charge/service-kit';
import { selectSamples, type DatasetStrategy } from '../domain/dataset-strategy';
import { ConfigEntity } from '../persistence/config.entity';
import { DatasetEntity } from '../persistence/dataset.entity';
import { LogEntity, type LogRow } from '../persistence/log.entity';
import { MetricEntity, type MetricRow } from '../persistence/metric.entity';
import { TaskEntity, type TaskRow } from '../persistence/task.entity';
import { latestCheckpoint, TRAINER_LOG, truncateTrainerLog } from '../trainers/flow-control/training';
import type { TrainingJob } from '../use-cases/tasks';
import { prepareTrainer } from './launchers';
import { metricFromRecord } from './trainer-log';

export interface RunnerOptions {
  orm: MikroORM;
  nc: NatsConnection;
  logger: Logger;
  /** Trainer processes at once. */
  slots: number;
  durable: string;
  heartbeatMs: number;
  graceMs: number;
  dataDir: string;
  llamaFactoryCli: string;
  /** Wakes the outbox relay after a commit that staged messages. */
  relay: { kick(): void };
}

type Outcome = 'done' | 'requeue';

/** Core NATS subject prefix of per-task progress notifications (`training.progress.<id>`). */
export const PROGRESS_SUBJECT_PREFIX = 'training.progress.';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pulls TRAINING_JOBS one message per free slot, claims the task (QUEUED → RUNNING),
 * launches its trainer in its own process group, streams `trainer_log.jsonl` into
 * training_metrics and stdout/stderr into training_logs, and heartbeats (task
 * `updated_at` and the message's ack deadline). A heartbeat that finds the task no longer
 * RUNNING (CancelTask) terminates the process group. The message is acked once the final
 * status is committed; a runner that dies leaves it to redelivery and the reaper.
 */
export class TrainingRunner {
  private stopped = false;
  private loops: Promise<void>[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly options: RunnerOptions) {}

  async start(): Promise<void> {
    const { nc, durable, heartbeatMs } = this.options;
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, 'TRAINING_JOBS');
    const stream = STREAMS.TRAINING_JOBS.name;
    try {
      await jsm.consumers.info(stream, durable);
    } catch {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: Math.max(30_000, heartbeatMs * 10) * 1e6,
        max_deliver: -1,
      });
    }
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    for (let i = 0; i < this.options.slots; i++) this.loops.push(this.loop(consumer));
  }

  /** Stops pulling; running trainers are stopped and their tasks re-queued. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const child of this.children) this.killGroup(child);
    await Promise.all(this.loops);
  }

  private async loop(consumer: Consumer): Promise<void> {
    while (!this.stopped) {
      let msg: JsMsg | null;
      try {
        msg = await consumer.next({ expires: 1000 });
      } catch (error) {
        if (this.stopped) return;
        this.options.logger.warn({ err: error }, 'training job pull failed; retrying');
        await sleep(500);
        continue;
      }
      if (!msg) continue;
      if (this.stopped) {
        msg.nak();
        return;
      }
      await this.process(msg);
    }
  }

  /**
   * One job inside a consumer span (a child of the StartTask call that queued it, from the
   * message's trace headers), timed into the messaging job-duration histogram.
   */
  private process(msg: JsMsg): Promise<void> {
    const stream = STREAMS.TRAINING_JOBS.name;
    const finish = eventMetricsOf(this.options.nc)?.startHandling(stream, this.options.durable);
    return startConsumerSpan(jetStreamSpanOptions(msg, stream, this.options.durable), async (span) => {
      let outcome: JobOutcome = 'ack';
      try {
        const result = await this.handle(msg);
        if (result === 'malformed') outcome = 'term';
        else if (result === 'requeue') {
          outcome = 'nak';
          msg.nak(1000);
        } else msg.ack();
      } catch (error) {
        outcome = 'nak';
        this.options.logger.error({ err: error }, 'training job failed; it will be redelivered');
        failSpan(span, error, outcome);
        msg.nak(2000);
      } finally {
        span.setAttribute('messaging.nats.outcome', outcome);
        span.end();
        finish?.(outcome);
      }
    });
  }

  private async handle(msg: JsMsg): Promise<Outcome | 'malformed'> {
    let job: TrainingJob;
    try {
      job = JSON.parse(msg.string()) as TrainingJob;
    } catch {
      this.options.logger.error({ subject: msg.subject, seq: msg.seq }, 'malformed training job terminated');
      // No reason: nats-server 2.9 ignores `+TERM <reason>` and would redeliver it.
      msg.term();
      return 'malformed';
    }
    const em = this.options.orm.em.fork();
    const now = new Date();
    // The claim is atomic: a duplicate or stale message finds the task no longer QUEUED.
    const claimed = await em.nativeUpdate(
      TaskEntity,
      { id: job.task_id, status: 'queued' },
      { status: 'running', updatedAt: now, errorMessage: null, endTime: null },
    );
    if (claimed !== 1) return 'done';
    await em.nativeUpdate(TaskEntity, { id: job.task_id, startTime: null }, { startTime: now });
    const task = await em.findOneOrFail(TaskEntity, { id: job.task_id });
    try {
      return await this.run(task, msg);
    } catch (error) {
      await this.finish(task, 'failed', {
        errorMessage: `runner error: ${(error as Error).message}`.slice(0, 2000),
      });
      return 'done';
    }
  }

  private async run(task: TaskRow, msg: JsMsg): Promise<Outcome> {
    const { orm, heartbeatMs } = this.options;
    const em = orm.em.fork();
    const dataset = task.datasetId ? await em.findOne(DatasetEntity, { id: task.datasetId }) : null;
    if (!dataset?.filePath || !existsSync(dataset.filePath)) {
      await this.finish(task, 'failed', { errorMessage: 'the task dataset no longer exists' });
      return 'done';
    }
    const config = task.configId ? await em.findOne(ConfigEntity, { id: task.configId }) : null;
    const outputDir = path.resolve(this.options.dataDir, 'runs', `task-${task.id}`);
    const checkpoint = latestCheckpoint(outputDir);
    const resumeStep = checkpoint?.step ?? 0;
    // Steps after the checkpoint are trained again: their old rows go, so none is duplicated.
    await em.nativeDelete(MetricEntity, { taskId: task.id, step: { $gt: resumeStep } });
    // Likewise the trainer's log, before the tail starts.
    truncateTrainerLog(path.join(outputDir, TRAINER_LOG), resumeStep);
    // Records up to the checkpoint that a dead runner never ingested are picked up from the
    // log; everything at or below the highest stored step is skipped.
    const [{ max }] = await em
      .getConnection()
      .execute<{ max: number | null }[]>(
        'select max(step) as max from "training"."training_metrics" where task_id = ?',
        [task.id],
      );
    let lastStep = Math.min(resumeStep, max ?? 0);
    const selection = await this.selectTrainingData(
      task,
      dataset.filePath,
      config?.datasetStrategy,
      outputDir,
      !!checkpoint,
    );
    if (!selection.kept) {
      await this.finish(task, 'failed', {
        errorMessage: `dataset strategy ${selection.strategy} left no samples`,
      });
      return 'done';
    }
    const command = await prepareTrainer({
      taskId: task.id,
      modelType: task.modelType,
      datasetPath: selection.path,
      datasetMeta: dataset.metaInfo ?? {},
      modelPath: config?.modelPath,
      hyperparameters: task.hyperparameters ?? {},
      outputDir,
      resumeFrom: checkpoint?.dir,
      llamaFactoryCli: this.options.llamaFactoryCli,
    });
    const child = spawn(command.command, command.args, {
      cwd: outputDir,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, CHARGE_TRAINER_EXIT_WITH_STDIN: '1' },
    });
    this.children.add(child);
    const logs: Omit<LogRow, 'id'>[] = [];
    const addLog = (level: string, message: string, meta: Record<string, unknown>) =>
      logs.push({
        taskId: task.id,
        logLevel: level,
        message: message.slice(0, 10_000),
        metaInfo: meta,
        createdAt: new Date(),
      });
    addLog(
      'INFO',
      `runner: started ${task.modelType} trainer (pid ${child.pid})${checkpoint ? ` from step ${resumeStep}` : ''}`,
      {
        source: 'runner',
        pid: child.pid,
        resumed_from_step: checkpoint ? resumeStep : null,
      },
    );
    if (selection.strategy !== 'full') {
      addLog(
        'INFO',
        `runner: dataset strategy ${selection.strategy} kept ${selection.kept} of ${selection.total} samples`,
        {
          source: 'runner-data',
          strategy: selection.strategy,
          kept: selection.kept,
          total: selection.total,
        },
      );
    }
    let lastStderr = '';
    createInterface({ input: child.stdout! }).on('line', (line) =>
      addLog('INFO', line, { stream: 'stdout' }),
    );
    createInterface({ input: child.stderr! }).on('line', (line) => {
      lastStderr = line;
      addLog('ERROR', line, { stream: 'stderr' });
    });
    child.stdin!.on('error', () => undefined);

    const logFile = path.join(outputDir, TRAINER_LOG);
    let offset = 0;
    let partial = '';
    let inode: number | undefined;
    let latest: MetricRow | undefined;
    let latestTotal: number | undefined;
    let latestPercentage: number | undefined;
    const pump = async () => {
      const fem = orm.em.fork();
      if (logs.length) await fem.insertMany(LogEntity, logs.splice(0) as LogRow[]);
      if (!existsSync(logFile)) return;
      const fh = await open(logFile, 'r');
      let text: string;
      try {
        const { size, ino } = await fh.stat();
        if (ino !== inode || size < offset) {
          // Replaced or truncated (a trainer that rewrites its log): read it again from the start;
          // records already ingested are skipped by step.
          offset = 0;
          partial = '';
          inode = ino;
        }
        const buf = Buffer.alloc(size - offset);
        await fh.read(buf, 0, buf.length, offset);
        offset = size;
        text = partial + buf.toString('utf8');
      } finally {
        await fh.close();
      }
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      const rows: Omit<MetricRow, 'id'>[] = [];
      for (const line of lines) {
        if (!line.trim()) continue;
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const metric = metricFromRecord(task.id, record);
        if (!metric || metric.step <= lastStep) continue;
        lastStep = metric.step;
        rows.push(metric);
        latest = metric as MetricRow;
        latestTotal = typeof record.total_steps === 'number' ? record.total_steps : latestTotal;
        latestPercentage = typeof record.percentage === 'number' ? record.percentage : latestPercentage;
      }
      if (!rows.length) return;
      await fem.insertMany(MetricEntity, rows as MetricRow[]);
      await fem.nativeUpdate(
        TaskEntity,
        { id: task.id, status: 'running' },
        {
          currentStep: latest!.step,
          totalSteps: latestTotal ?? null,
          currentEpoch: latest!.epoch,
          progress: latestPercentage ?? (latestTotal ? (100 * latest!.step) / latestTotal : 0),
          ...(latest!.gpuMemory != null ? { gpuMemoryUsage: { vram_allocated_gb: latest!.gpuMemory } } : {}),
          updatedAt: new Date(),
        },
      );
      this.notify(task.id, {
        status: 'running',
        current_step: latest!.step,
        total_steps: latestTotal ?? null,
        progress: latestPercentage ?? null,
        loss: latest!.loss ?? null,
        accuracy: latest!.accuracy ?? null,
      });
    };

    let cancelled = false;
    let pumping: Promise<void> = Promise.resolve();
    const tick = () => {
      pumping = pumping
        .then(async () => {
          await pump();
          msg.working();
          const alive = await orm.em
            .fork()
            .nativeUpdate(TaskEntity, { id: task.id, status: 'running' }, { updatedAt: new Date() });
          if (alive === 0 && !cancelled) {
            cancelled = true;
            this.killGroup(child);
          }
        })
        .catch((error) =>
          this.options.logger.warn({ err: error, task_id: task.id }, 'runner heartbeat failed'),
        );
    };
    const timer = setInterval(tick, Math.min(heartbeatMs, 500));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        addLog('ERROR', `runner: could not start the trainer: ${error.message}`, { source: 'runner' });
        resolve({ code: -1, signal: null });
      });
    });
    clearInterval(timer);
    this.children.delete(child);
    await pumping;
    await pump();

    if (this.stopped && !cancelled) {
      addLog('WARNING', 'runner: shutting down; the task is re-queued and resumes from its last checkpoint', {
        source: 'runner',
      });
      await pump();
      await orm.em
        .fork()
        .nativeUpdate(
          TaskEntity,
          { id: task.id, status: 'running' },
          { status: 'queued', updatedAt: new Date() },
        );
      return 'requeue';
    }
    if (cancelled) {
      addLog('WARNING', `runner: trainer stopped (task cancelled; ${exit.signal ?? `exit ${exit.code}`})`, {
        source: 'runner',
      });
      await pump();
      return 'done';
    }
    if (exit.code === 0) {
      const resultsFile = path.join(outputDir, 'all_results.json');
      const results = existsSync(resultsFile)
        ? (JSON.parse(await readFile(resultsFile, 'utf8')) as Record<string, unknown>)
        : {};
      addLog('INFO', 'runner: trainer finished', { source: 'runner' });
      await pump();
      await this.finish(task, 'completed', { metrics: results, modelPath: outputDir, progress: 100 });
    } else {
      const why = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      addLog('ERROR', `runner: trainer failed (${why})`, { source: 'runner' });
      await pump();
      await this.finish(task, 'failed', {
        errorMessage: `trainer failed (${why})${lastStderr ? `: ${lastStderr}` : ''}`.slice(0, 2000),
      });
    }
    return 'done';
  }

  /**
   * Applies the config's dataset strategy once per task (a resumed run reuses the file it
   * trained on); `full` trains on the uploaded file itself.
   */
  private async selectTrainingData(
    task: TaskRow,
    datasetFile: string,
    configured: string | null | undefined,
    outputDir: string,
    resuming: boolean,
  ): Promise<{ path: string; strategy: DatasetStrategy; kept: number; total: number }> {
    const strategy = (configured ?? 'full') as DatasetStrategy;
    const lines = (await readFile(datasetFile, 'utf8')).split('\n').filter((l) => l.trim());
    if (strategy === 'full') return { path: datasetFile, strategy, kept: lines.length, total: lines.length };
    const selected = path.join(outputDir, 'train_data.jsonl');
    if (resuming && existsSync(selected)) {
      const kept = (await readFile(selected, 'utf8')).split('\n').filter((l) => l.trim()).length;
      return { path: selected, strategy, kept, total: lines.length };
    }
    const kind = task.modelType === 'flow_control' ? 'flow_control' : 'sft';
    const kept = selectSamples(kind, strategy, lines, task.hyperparameters?.seed ?? 42);
    await mkdir(outputDir, { recursive: true });
    await writeFile(selected, kept.length ? `${kept.join('\n')}\n` : '');
    return { path: selected, strategy, kept: kept.length, total: lines.length };
  }

  private async finish(
    task: TaskRow,
    status: 'completed' | 'failed',
    fields: Partial<TaskRow>,
  ): Promise<void> {
    const em = this.options.orm.em.fork();
    const current = await em.findOne(TaskEntity, { id: task.id }, { fields: ['startTime'] });
    const now = new Date();
    const started = current?.startTime ?? task.startTime;
    await em.transactional(async (tem) => {
      const n = await tem.nativeUpdate(
        TaskEntity,
        { id: task.id, status: 'running' },
        {
          ...fields,
          status,
          endTime: now,
          durationSeconds: started ? Math.round((now.getTime() - started.getTime()) / 1000) : null,
          updatedAt: now,
        },
      );
      // The runner is the actor here (user 0), as for every transition it makes.
      if (n === 1) {
        enqueueAudit(tem, {
          service: 'training',
          action: status,
          resourceType: 'task',
          resourceId: task.id,
          oldValues: { status: 'running' },
          newValues: { status, error_message: fields.errorMessage ?? null },
          actor: {},
        });
      }
    });
    this.options.relay.kick();
    this.notify(task.id, {
      status,
      progress: fields.progress ?? null,
      error_message: fields.errorMessage ?? null,
    });
  }

  /** Best-effort fan-out on `training.progress.<id>` (core NATS; the database stays the record). */
  private notify(taskId: number, body: Record<string, unknown>): void {
    try {
      this.options.nc.publish(
        `${PROGRESS_SUBJECT_PREFIX}${taskId}`,
        JSON.stringify({ task_id: taskId, ...body }),
      );
    } catch (error) {
      this.options.logger.debug({ err: error, task_id: taskId }, 'progress notification dropped');
    }
  }

  /** SIGTERM to the trainer's process group, SIGKILL after the grace period. */
  private killGroup(child: ChildProcess): void {
    const pid = child.pid;
    if (!pid) return;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-pid, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) signal('SIGKILL');
    }, this.options.graceMs);
    timer.unref();
    child.once('exit', () => clearTimeout(timer));
  }
}
