import { open } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CanLogError, detectFormat, isCanLogError, parseBlfHeader } from '@charge/can-log';
import { analysisV1 } from '@charge/contracts';
import { DomainError } from '@charge/errors';
import type { ChargingReport } from '@charge/gbt27930';
import { enqueueAudit, enqueueMessage, type Actor } from '@charge/events';
import type { AuthClaims, Logger } from '@charge/service-kit';
import { checkDbcUpload } from '../domain/dbc-upload';
import { sliceSeries, type SeriesQuery, type SeriesSlice } from '../domain/series';
import { checkRange, decodeCursor, encodeCursor, pageSize } from '../domain/page-cursor';
import { isTerminal, type AnalysisStatus } from '../domain/status';
import { checkUploadMetadata, logTooLarge, MAX_CHUNK_BYTES } from '../domain/upload-rules';
import { AnalysesRepository, type ListFilter } from '../persistence/analyses.repository';
import type { AnalysisResultRow } from '../persistence/analysis-result.entity';
import type { AnalysisRow } from '../persistence/analysis.entity';
import type { DbcFileRow } from '../persistence/dbc-file.entity';
import type { LocalBlobStore } from '../storage/blob-store';
import { eventOf, type ProgressBus, type ProgressEvent } from './progress-bus';
import type { TraceCursors, TracePage, TraceQuery } from './trace-cursors';

export const SERVICE = 'analysis';
export const JOBS_SUBJECT = 'jobs.analysis';
/** Bytes kept from the start of an upload for format detection and the BLF header. */
const HEAD_BYTES = 64 * 1024;

/** Who is calling, as the use cases need it (transport-free). */
export interface Caller {
  claims: AuthClaims;
  actor: Actor;
}

/** One message of an upload stream, transport-free. */
/** Largest chunk DownloadLog sends. */
export const DOWNLOAD_CHUNK_BYTES = 256 * 1024;

export type UploadPart =
  | { kind: 'metadata'; name: string; description: string; fileName: string; declaredSize?: string }
  | { kind: 'chunk'; bytes: Uint8Array }
  | { kind: 'empty' };

export interface AnalysesDeps {
  blobs: LocalBlobStore;
  bus: ProgressBus;
  traces: TraceCursors;
  relay: { kick(): void };
  maxLogBytes: number;
  logger: Logger;
  /** Aborts a job running in this process (cancel/delete); other replicas hear the bus. */
  abortLocal(id: number): void;
}

export interface AnalysisPage {
  analyses: AnalysisRow[];
  nextPageToken: string;
}

export interface Report {
  analysis: AnalysisRow;
  report: unknown;
  results: AnalysisResultRow[];
}

/** Iterates `source` until it ends or `signal` aborts (then throws CANCELLED). */
async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new DomainError('cancelled', 'upload cancelled by the client'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([it.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    void it.return?.()?.catch(() => undefined);
  }
}

/** Upload, job control, reads and deletion of analyses. */
export class AnalysisUseCases {
  constructor(private readonly deps: AnalysesDeps) {}

  /**
   * Streams an upload into the blob store (hashing and counting as it goes), checks the
   * content, then creates the analysis. Any failure removes the partial file and writes no row.
   */
  async upload(em: EntityManager, caller: Caller, parts: AsyncIterable<UploadPart>, signal: AbortSignal) {
    const { blobs, maxLogBytes } = this.deps;
    const stream = untilAborted(parts, signal);
    const first = await stream.next();
    if (first.done || first.value.kind !== 'metadata')
      throw DomainError.invalidArgument('metadata', 'must be the first message of the upload');
    const meta = checkUploadMetadata(first.value, maxLogBytes);

    const blob = await blobs.begin();
    let committed = false;
    try {
      const hash = createHash('sha256');
      const head: Uint8Array[] = [];
      let headLength = 0;
      let received = 0;
      for await (const part of stream) {
        if (part.kind === 'metadata')
          throw DomainError.invalidArgument('metadata', 'must be sent only once, first');
        if (part.kind === 'empty' || part.bytes.length === 0)
          throw DomainError.invalidArgument('chunk', 'must not be empty');
        if (part.bytes.length > MAX_CHUNK_BYTES)
          throw DomainError.invalidArgument('chunk', `must be at most ${MAX_CHUNK_BYTES} bytes`);
        received += part.bytes.length;
        if (received > maxLogBytes) throw logTooLarge(maxLogBytes);
        if (meta.declaredSize !== undefined && received > meta.declaredSize)
          throw DomainError.invalidArgument('metadata.declared_size', 'more bytes were sent than declared');
        if (headLength < HEAD_BYTES) {
          head.push(part.bytes.slice(0, HEAD_BYTES - headLength));
          headLength += Math.min(part.bytes.length, HEAD_BYTES - headLength);
        }
        hash.update(part.bytes);
        await blob.write(part.bytes);
      }
      if (meta.declaredSize !== undefined && received !== meta.declaredSize)
        throw DomainError.invalidArgument(
          'metadata.declared_size',
          `upload ended after ${received} of ${meta.declaredSize} declared bytes`,
          'UPLOAD_INCOMPLETE',
        );
      const fileType = checkContent(Buffer.concat(head), received);
      const key = await blob.commit();
      const row = await em.transactional(async (tem) => {
        const created = await new AnalysesRepository(tem).create({
          name: meta.name,
          description: meta.description || null,
          filePath: key,
          fileName: meta.fileName || null,
          fileSize: received,
          fileSha256: hash.digest('hex'),
          fileType,
          userId: caller.claims.userId,
        });
        enqueueAudit(tem, {
          service: SERVICE,
          action: 'uploaded',
          resourceType: 'analysis',
          resourceId: created.id,
          newValues: {
            name: created.name,
            file_name: created.fileName,
            file_size: received,
            file_type: fileType,
          },
          actor: caller.actor,
        });
        return created;
      });
      committed = true;
      this.deps.relay.kick();
      return row;
    } finally {
      if (!committed) await blob.discard();
    }
  }

  /** Queues the job (through the outbox, in the same transaction as the status change). */
  async start(
    em: EntityManager,
    caller: Caller,
    id: number,
    options: { useLlm: boolean; dbcId?: number },
  ): Promise<AnalysisRow> {
    const { useLlm } = options;
    const repo = new AnalysesRepository(em);
    const row = await repo.getVisible(id, caller.claims);
    const dbcId = options.dbcId ? (await repo.getVisibleDbc(options.dbcId, caller.claims)).id : null;
    const jobId = randomUUID();
    await em.transactional(async (tem) => {
      if (!(await new AnalysesRepository(tem).markQueued(row.id, jobId, useLlm, dbcId)))
        throw DomainError.failedPrecondition(`analysis ${id} was already started`, 'ALREADY_STARTED');
      const job = analysisV1.AnalysisJob.encode({ analysisId: row.id, jobId, useLlm }).finish();
      enqueueMessage(tem, JOBS_SUBJECT, Buffer.from(job), jobId);
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'started',
        resourceType: 'analysis',
        resourceId: row.id,
        newValues: { job_id: jobId, use_llm: useLlm, dbc_id: dbcId },
        actor: caller.actor,
      });
    });
    this.deps.relay.kick();
    return (await repo.find(row.id))!;
  }

  async uploadDbc(
    em: EntityManager,
    caller: Caller,
    input: { name: string; fileName: string; content: Uint8Array },
  ): Promise<DbcFileRow> {
    const dbc = checkDbcUpload(input);
    const row = await em.transactional(async (tem) => {
      const created = await new AnalysesRepository(tem).createDbc({
        name: dbc.name,
        fileName: dbc.fileName || null,
        fileSize: input.content.length,
        fileSha256: createHash('sha256').update(input.content).digest('hex'),
        content: dbc.text,
        messageCount: dbc.messageCount,
        signalCount: dbc.signalCount,
        userId: caller.claims.userId,
      });
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'uploaded',
        resourceType: 'dbc',
        resourceId: created.id,
        newValues: { name: created.name, file_name: created.fileName, messages: dbc.messageCount },
        actor: caller.actor,
      });
      return created;
    });
    this.deps.relay.kick();
    return row;
  }

  async listDbcs(
    em: EntityManager,
    caller: Caller,
    input: { pageSize?: number; pageToken?: string },
  ): Promise<{ dbcs: DbcFileRow[]; nextPageToken: string }> {
    const limit = pageSize(input.pageSize);
    const userId = caller.claims.role === 'admin' ? undefined : caller.claims.userId;
    const rows = await new AnalysesRepository(em).listDbcs(
      userId,
      decodeCursor(input.pageToken ?? ''),
      limit + 1,
    );
    const dbcs = rows.slice(0, limit);
    const last = dbcs[dbcs.length - 1];
    return {
      dbcs,
      nextPageToken:
        rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : '',
    };
  }

  get(em: EntityManager, caller: Caller, id: number): Promise<AnalysisRow> {
    return new AnalysesRepository(em).getVisible(id, caller.claims);
  }

  async list(
    em: EntityManager,
    caller: Caller,
    input: { pageSize?: number; pageToken?: string; status?: AnalysisStatus; start?: Date; end?: Date },
  ): Promise<AnalysisPage> {
    checkRange(input.start, input.end);
    const limit = pageSize(input.pageSize);
    const filter: ListFilter = { status: input.status, start: input.start, end: input.end };
    if (caller.claims.role !== 'admin') filter.userId = caller.claims.userId;
    const rows = await new AnalysesRepository(em).list(
      filter,
      decodeCursor(input.pageToken ?? ''),
      limit + 1,
    );
    const analyses = rows.slice(0, limit);
    const last = analyses[analyses.length - 1];
    return {
      analyses,
      nextPageToken:
        rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : '',
    };
  }

  async report(em: EntityManager, caller: Caller, id: number): Promise<Report> {
    const repo = new AnalysesRepository(em);
    const analysis = await repo.getVisible(id, caller.claims);
    const report = await repo.resultData(analysis.id);
    if (report === null)
      throw DomainError.failedPrecondition(
        `analysis ${id} has no report (status ${analysis.status})`,
        'REPORT_NOT_READY',
      );
    return { analysis, report, results: await repo.results(analysis.id) };
  }

  async series(em: EntityManager, caller: Caller, id: number, query: SeriesQuery): Promise<SeriesSlice> {
    const { report } = await this.report(em, caller, id);
    return sliceSeries(report as ChargingReport, query);
  }

  async trace(em: EntityManager, caller: Caller, id: number, query: TraceQuery): Promise<TracePage> {
    const row = await new AnalysesRepository(em).getVisible(id, caller.claims);
    return this.deps.traces.page(row.id, this.deps.blobs.pathOf(row.filePath), query);
  }

  /**
   * Streams the stored log to `send` in chunks of at most `DOWNLOAD_CHUNK_BYTES`, waiting
   * for each to be taken (backpressure), until the end or the signal.
   */
  async download(
    em: EntityManager,
    caller: Caller,
    id: number,
    send: (chunk: { contentType: string; data: Buffer }) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const row = await new AnalysesRepository(em).getVisible(id, caller.claims);
    const contentType = row.fileType === 'blf' ? 'application/octet-stream' : 'text/plain; charset=utf-8';
    const handle = await open(this.deps.blobs.pathOf(row.filePath), 'r');
    try {
      const buffer = Buffer.alloc(DOWNLOAD_CHUNK_BYTES);
      for (;;) {
        if (signal.aborted) return;
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) return;
        await send({ contentType, data: Buffer.from(buffer.subarray(0, bytesRead)) });
      }
    } finally {
      await handle.close();
    }
  }

  async cancel(em: EntityManager, caller: Caller, id: number): Promise<AnalysisRow> {
    const repo = new AnalysesRepository(em);
    const row = await repo.getVisible(id, caller.claims);
    await em.transactional(async (tem) => {
      if (!(await new AnalysesRepository(tem).cancel(row.id)))
        throw DomainError.failedPrecondition(`analysis ${id} has already ended`, 'ALREADY_TERMINAL');
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'cancelled',
        resourceType: 'analysis',
        resourceId: row.id,
        oldValues: { status: row.status },
        newValues: { status: 'cancelled' },
        actor: caller.actor,
      });
    });
    this.deps.relay.kick();
    const updated = (await repo.find(row.id))!;
    this.deps.abortLocal(row.id);
    this.deps.bus.publish(eventOf(updated));
    return updated;
  }

  async delete(em: EntityManager, caller: Caller, id: number): Promise<void> {
    const repo = new AnalysesRepository(em);
    const row = await repo.getVisible(id, caller.claims);
    await em.transactional(async (tem) => {
      const trepo = new AnalysesRepository(tem);
      await trepo.cancel(row.id);
      await trepo.remove(row.id);
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'deleted',
        resourceType: 'analysis',
        resourceId: row.id,
        oldValues: { name: row.name, status: row.status, file_name: row.fileName },
        actor: caller.actor,
      });
    });
    this.deps.relay.kick();
    this.deps.abortLocal(row.id);
    this.deps.bus.publish({ ...eventOf(row), status: 'cancelled', stage: 'done' });
    await this.deps.blobs.remove(row.filePath);
  }

  /**
   * Streams state changes until a terminal status: live events from the bus, plus a
   * database poll as the fallback. Progress sent never decreases.
   */
  async watch(
    em: EntityManager,
    caller: Caller,
    id: number,
    send: (event: ProgressEvent) => Promise<void>,
    signal: AbortSignal,
    pollMs = 1000,
  ): Promise<void> {
    const repo = new AnalysesRepository(em);
    const row = await repo.getVisible(id, caller.claims);
    let lastKey = '';
    let maxProgress = 0;
    let chain = Promise.resolve();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let done = false;
    const offer = (event: ProgressEvent) => {
      if (done) return;
      const progress = Math.max(maxProgress, event.progress);
      const key = `${event.status}|${event.stage}|${progress}`;
      if (key === lastKey) return;
      lastKey = key;
      maxProgress = progress;
      const terminal = isTerminal(event.status);
      if (terminal) done = true;
      chain = chain.then(() => send({ ...event, progress })).then(() => (terminal ? finish() : undefined));
      chain.catch(() => finish());
    };
    const unsubscribe = this.deps.bus.subscribe(row.id, offer);
    const onAbort = () => finish();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(() => {
      repo.find(row.id).then(
        (r) => (r ? offer(eventOf(r)) : finish()),
        () => undefined,
      );
    }, pollMs);
    try {
      offer(eventOf((await repo.find(row.id)) ?? row));
      await finished;
      await chain;
    } finally {
      clearInterval(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** `users.deleted`: removes the user's analyses (results cascade) and their files. */
  async onUserDeleted(em: EntityManager, userId: number): Promise<number> {
    const removed = await new AnalysesRepository(em).removeForUser(userId);
    for (const r of removed) {
      this.deps.abortLocal(r.id);
      await this.deps.blobs
        .remove(r.filePath)
        .catch((err: unknown) =>
          this.deps.logger.warn({ err, analysis_id: r.id }, 'could not remove the file of a deleted user'),
        );
    }
    return removed.length;
  }
}

/** Detects the format from the content and checks what can be checked cheaply (BLF header). */
function checkContent(head: Uint8Array, size: number): string {
  const format = detectFormat(head);
  if (!format)
    throw DomainError.invalidArgument(
      'chunk',
      'content is not a supported CAN log (BLF, ASC, candump -L, ZLG)',
      'UNSUPPORTED_LOG_FORMAT',
    );
  if (format === 'blf') {
    let fileSize: number;
    try {
      fileSize = parseBlfHeader(head).fileSize;
    } catch (error) {
      const e = isCanLogError(error) ? error : new CanLogError('BAD_HEADER', String(error));
      throw DomainError.invalidArgument(
        'chunk',
        `BLF header is invalid: ${e.message}`,
        e.code === 'TRUNCATED_HEADER' ? 'LOG_TRUNCATED' : 'LOG_INVALID',
      );
    }
    if (fileSize > size)
      throw DomainError.invalidArgument(
        'chunk',
        `BLF is truncated: ${size} bytes uploaded, its header says ${fileSize}`,
        'LOG_TRUNCATED',
      );
  }
  return format;
}
