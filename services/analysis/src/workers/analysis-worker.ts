import type { MikroORM } from '@mikro-orm/postgresql';
import type { JsMsg } from '@nats-io/jetstream';
import { isCanLogError, openLog, type LogReader } from '@charge/can-log';
import { analysisV1 } from '@charge/contracts';
import { PoisonMessageError } from '@charge/events';
import {
  analyzeLog,
  isDbcParseError,
  parseDbc,
  type AnalyzableLog,
  type ChargingReport,
} from '@charge/gbt27930';
import type { Logger } from '@charge/service-kit';
import { recommendationRows, resultRows } from '../domain/result-rows';
import { isTerminal, parsingProgress, PROGRESS, type AnalysisStage } from '../domain/status';
import { AnalysesRepository } from '../persistence/analyses.repository';
import type { LocalBlobStore } from '../storage/blob-store';
import type { LlmRefiner, LlmSection } from '../use-cases/llm-refiner';
import { eventOf, type ProgressBus } from '../use-cases/progress-bus';

export interface WorkerDeps {
  orm: MikroORM;
  blobs: LocalBlobStore;
  bus: ProgressBus;
  logger: Logger;
  /** Deliveries of a job failing unexpectedly before it is stored as failed. */
  maxAttempts: number;
  /** Frame rate cap of one job (0: none). */
  maxFramesPerSecond?: number;
  /** LLM refinement, when configured. */
  llm?: LlmRefiner;
  /** How often a running job heartbeats JetStream and re-checks its stored status. */
  heartbeatMs?: number;
}

/** Why a running job was stopped. */
class StopReason extends Error {
  constructor(readonly kind: 'cancelled' | 'shutdown') {
    super(kind === 'cancelled' ? 'analysis cancelled' : 'worker shutting down');
  }
}

const PROGRESS_WRITE_MS = 200;
/** Small batches, so a job yields to the event loop (API calls, cancel) often. */
const BATCH_FRAMES = 1024;

/**
 * The engine is synchronous per batch and runs on the service's event loop: give other
 * work (RPCs, database replies, cancel events) a turn between batches, and, with a frame
 * rate cap, sleep whenever the job runs ahead of it (bounds the CPU share of jobs).
 */
function yielding(reader: LogReader, maxFramesPerSecond: number): AnalyzableLog {
  const started = Date.now();
  let frames = 0;
  return {
    format: reader.format,
    get warnings() {
      return reader.warnings;
    },
    get stats() {
      return reader.stats;
    },
    async *batches() {
      for await (const batch of reader.batches()) {
        frames += batch.length;
        yield batch;
        const ahead =
          maxFramesPerSecond > 0 ? (frames / maxFramesPerSecond) * 1000 - (Date.now() - started) : 0;
        await new Promise((resolve) => (ahead > 1 ? setTimeout(resolve, ahead) : setImmediate(resolve)));
      }
    },
  };
}

/**
 * Runs analysis jobs from ANALYSIS_JOBS. The message is acknowledged (by the consumer)
 * only after the terminal state is committed; a worker that dies mid-job leaves the
 * message unacknowledged, JetStream redelivers it and the job restarts from the file
 * (result rows are replaced, never duplicated).
 */
export class AnalysisWorker {
  private readonly running = new Map<number, AbortController>();
  private unsubscribe?: () => void;

  constructor(private readonly deps: WorkerDeps) {}

  /** Listens for terminal states published by any replica (cancel, delete). */
  start(): void {
    this.unsubscribe = this.deps.bus.subscribe('*', (event) => {
      if (isTerminal(event.status)) this.abort(event.analysisId, 'cancelled');
    });
  }

  /** Stops listening and aborts running jobs; their messages are redelivered later. */
  stop(): void {
    this.unsubscribe?.();
    for (const id of [...this.running.keys()]) this.abort(id, 'shutdown');
  }

  abort(id: number, kind: 'cancelled' | 'shutdown'): void {
    const ac = this.running.get(id);
    if (ac && !ac.signal.aborted) ac.abort(new StopReason(kind));
  }

  async handle(msg: JsMsg): Promise<void> {
    let job: analysisV1.AnalysisJob;
    try {
      job = analysisV1.AnalysisJob.decode(msg.data);
    } catch (error) {
      throw new PoisonMessageError(`undecodable analysis job (${(error as Error).message})`);
    }
    if (!job.analysisId || !job.jobId)
      throw new PoisonMessageError('analysis job without analysis or job id');
    const id = job.analysisId;
    const log = this.deps.logger.child({ analysis_id: id, job_id: job.jobId });
    const repo = new AnalysesRepository(this.deps.orm.em.fork());
    if (!(await repo.claim(id, job.jobId))) {
      log.info('job is stale or its analysis has ended; dropped');
      return;
    }
    const ac = new AbortController();
    this.running.set(id, ac);
    const heartbeat = setInterval(() => {
      msg.working();
      repo.find(id).then(
        (row) => {
          if (!row || isTerminal(row.status)) this.abort(id, 'cancelled');
        },
        () => undefined,
      );
    }, this.deps.heartbeatMs ?? 500);
    const progress = new ProgressWriter(repo, this.deps.bus, id);
    try {
      await progress.set(PROGRESS.validating, 'validating', true);
      const row = (await repo.find(id))!;
      const dbcText = row.dbcId ? await repo.dbcContent(row.dbcId) : null;
      const dbc = dbcText === null ? undefined : parseDbc(dbcText);
      const reader = await openLog(this.deps.blobs.pathOf(row.filePath), {
        signal: ac.signal,
        batchSize: BATCH_FRAMES,
      });
      await progress.set(PROGRESS.parsingStart, 'parsing', true);
      const report: ChargingReport = await analyzeLog(yielding(reader, this.deps.maxFramesPerSecond ?? 0), {
        signal: ac.signal,
        dbc,
        progressIntervalFrames: 16_384,
        onProgress: (p) => void progress.set(parsingProgress(p.fraction), 'parsing'),
      });
      await progress.settle();
      let stored: ChargingReport & { llm?: LlmSection } = report;
      const rows = resultRows(report);
      let outcome: Parameters<AnalysesRepository['complete']>[3] = { status: 'completed' };
      if (job.useLlm && this.deps.llm) {
        await progress.set(PROGRESS.refining, 'refining', true);
        const llm = await this.deps.llm.refine(report, ac.signal, job.jobId);
        stored = { ...report, llm };
        if (llm.verdict && llm.status === 'completed')
          rows.push(...recommendationRows(llm.verdict.recommendations, llm.verdict.confidence));
        if (llm.status === 'validation_failed' || llm.status === 'max_iterations_reached')
          outcome = {
            status: llm.status,
            errorMessage:
              llm.status === 'validation_failed'
                ? `LLM answer invalid twice in round ${llm.rounds}: ${llm.error ?? ''}`.slice(0, 4000)
                : undefined,
          };
      } else if (job.useLlm) {
        stored = {
          ...report,
          llm: {
            status: 'unavailable',
            model: '',
            rounds: 0,
            knowledge: '',
            passages: [],
            error: 'no LLM configured',
          },
        };
      }
      await progress.set(PROGRESS.reporting, 'reporting', true);
      if (await repo.complete(id, stored, rows, outcome)) {
        log.info({ sessions: report.sessions.length, status: outcome?.status }, 'analysis finished');
      }
    } catch (error) {
      await progress.settle();
      const reason = ac.signal.aborted ? ac.signal.reason : undefined;
      if (reason instanceof StopReason) {
        if (reason.kind === 'shutdown') throw reason; // nak: another worker restarts it
        log.info('analysis cancelled');
        return;
      }
      if (isCanLogError(error) || isDbcParseError(error)) {
        await repo.fail(id, `${error.code}: ${error.message}`);
      } else if (msg.info.deliveryCount >= this.deps.maxAttempts) {
        log.error({ err: error }, 'analysis failed on every attempt');
        await repo.fail(id, `internal error after ${msg.info.deliveryCount} attempts`);
      } else {
        throw error; // nak with backoff; redelivered
      }
      log.info({ err: error }, 'analysis failed');
    } finally {
      clearInterval(heartbeat);
      if (this.running.get(id) === ac) this.running.delete(id);
    }
    const row = await repo.find(id);
    if (row) this.deps.bus.publish(eventOf(row));
  }
}

/** Writes progress (forward only, throttled) and announces it on the bus. */
class ProgressWriter {
  private lastWrite = 0;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: AnalysesRepository,
    private readonly bus: ProgressBus,
    private readonly id: number,
  ) {}

  set(progress: number, stage: AnalysisStage, force = false): Promise<unknown> {
    const now = Date.now();
    if (!force && now - this.lastWrite < PROGRESS_WRITE_MS) return this.pending;
    this.lastWrite = now;
    this.pending = this.pending
      .then(() => this.repo.advance(this.id, progress, stage))
      .then((ok) => {
        if (ok)
          this.bus.publish({
            analysisId: this.id,
            status: 'processing',
            stage,
            progress,
            errorMessage: '',
            time: new Date(),
          });
      })
      .catch(() => undefined);
    return this.pending;
  }

  settle(): Promise<unknown> {
    return this.pending;
  }
}
