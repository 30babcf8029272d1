import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import type { AuthClaims } from '@charge/service-kit';
import type { ResultRowInput } from '../domain/result-rows';
import type { PageCursor } from '../domain/page-cursor';
import { ACTIVE_STATUSES, type AnalysisStage, type AnalysisStatus } from '../domain/status';
import { AnalysisResultEntity, type AnalysisResultRow } from './analysis-result.entity';
import { AnalysisEntity, type AnalysisRow } from './analysis.entity';
import { DbcFileEntity, type DbcFileRow } from './dbc-file.entity';

const T = '"analysis"."charging_analyses"';
const R = '"analysis"."analysis_results"';

export interface ListFilter {
  userId?: number;
  status?: AnalysisStatus;
  start?: Date;
  end?: Date;
}

export interface NewAnalysis {
  name: string;
  description: string | null;
  filePath: string;
  fileName: string | null;
  fileSize: number;
  fileSha256: string;
  fileType: string;
  userId: number;
}

/** charging_analyses and analysis_results. Status and progress only move forward (in SQL). */
export class AnalysesRepository {
  constructor(private readonly em: EntityManager) {}

  async create(input: NewAnalysis): Promise<AnalysisRow> {
    const row = this.em.create(AnalysisEntity, {
      ...input,
      fileSize: String(input.fileSize),
      stage: null,
      errorMessage: null,
      jobId: null,
      dbcId: null,
      startedAt: null,
      completedAt: null,
    });
    this.em.persist(row);
    await this.em.flush();
    return row;
  }

  /** Fresh read of one analysis (bypasses the identity map). */
  find(id: number): Promise<AnalysisRow | null> {
    return this.em.fork().findOne(AnalysisEntity, { id });
  }

  /** The analysis if the caller may see it (owner or admin); NOT_FOUND otherwise. */
  async getVisible(id: number, claims: AuthClaims): Promise<AnalysisRow> {
    if (!Number.isInteger(id) || id <= 0) throw DomainError.invalidArgument('analysis_id', 'is required');
    const row = await this.find(id);
    if (!row || (claims.role !== 'admin' && row.userId !== claims.userId))
      throw DomainError.notFound('analysis', id);
    return row;
  }

  async resultData(id: number): Promise<unknown> {
    const rows = await this.em.execute<{ result_data: unknown }[]>(
      `select "result_data" from ${T} where "id" = ?`,
      [id],
    );
    return rows[0]?.result_data ?? null;
  }

  results(id: number): Promise<AnalysisResultRow[]> {
    return this.em.fork().find(AnalysisResultEntity, { analysisId: id }, { orderBy: { id: 'asc' } });
  }

  list(filter: ListFilter, cursor: PageCursor | undefined, limit: number): Promise<AnalysisRow[]> {
    const conditions: Record<string, unknown>[] = [];
    if (filter.userId !== undefined) conditions.push({ userId: filter.userId });
    if (filter.status) conditions.push({ status: filter.status });
    if (filter.start) conditions.push({ createdAt: { $gte: filter.start } });
    if (filter.end) conditions.push({ createdAt: { $lt: filter.end } });
    if (cursor) {
      conditions.push({
        $or: [
          { createdAt: { $lt: cursor.createdAt } },
          { createdAt: cursor.createdAt, id: { $lt: cursor.id } },
        ],
      });
    }
    return this.em.find(AnalysisEntity, { $and: conditions } as FilterQuery<AnalysisRow>, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit,
    });
  }

  /** pending and not yet queued → queued with this job id; false when not startable. */
  async markQueued(id: number, jobId: string, useLlm: boolean, dbcId: number | null): Promise<boolean> {
    const rows = await this.em.execute(
      `update ${T} set "job_id" = ?, "use_llm" = ?, "dbc_id" = ?, "stage" = 'queued', "updated_at" = now()
        where "id" = ? and "status" = 'pending' and "job_id" is null returning "id"`,
      [jobId, useLlm, dbcId, id],
    );
    return rows.length > 0;
  }

  /**
   * A worker takes the job: pending → processing (or a redelivered processing job restarts).
   * False when the job is stale (other job id) or the analysis already ended.
   */
  async claim(id: number, jobId: string): Promise<boolean> {
    const rows = await this.em.execute(
      `update ${T} set "status" = 'processing', "stage" = 'validating',
         "progress" = greatest("progress", ?), "started_at" = coalesce("started_at", now()), "updated_at" = now()
        where "id" = ? and "job_id" = ? and "status" in ('pending', 'processing') returning "id"`,
      [0.02, id, jobId],
    );
    return rows.length > 0;
  }

  /** Moves progress forward only; returns false when the analysis is no longer processing. */
  async advance(id: number, progress: number, stage: AnalysisStage): Promise<boolean> {
    const rows = await this.em.execute(
      `update ${T} set "progress" = greatest("progress", ?), "stage" = ?, "updated_at" = now()
        where "id" = ? and "status" = 'processing' returning "id"`,
      [progress, stage, id],
    );
    return rows.length > 0;
  }

  /**
   * processing → completed with the report and result rows, in one transaction. Existing
   * result rows of the analysis are replaced, so a redelivered job never duplicates them.
   * False (nothing written) when the analysis was cancelled meanwhile.
   */
  async complete(
    id: number,
    report: unknown,
    results: ResultRowInput[],
    outcome: {
      status: 'completed' | 'validation_failed' | 'max_iterations_reached';
      errorMessage?: string;
    } = {
      status: 'completed',
    },
  ): Promise<boolean> {
    return this.em.transactional(async (em) => {
      const rows = await em.execute(
        `update ${T} set "status" = ?, "stage" = 'done', "progress" = 1, "result_data" = ?::jsonb,
           "error_message" = ?, "completed_at" = now(), "updated_at" = now()
          where "id" = ? and "status" = 'processing' returning "id"`,
        [outcome.status, JSON.stringify(report), outcome.errorMessage ?? null, id],
      );
      if (rows.length === 0) return false;
      await em.execute(`delete from ${R} where "analysis_id" = ?`, [id]);
      for (const r of results) {
        await em.execute(
          `insert into ${R} ("analysis_id", "result_type", "title", "content", "confidence_score", "meta_info")
            values (?, ?, ?, ?, ?, ?::jsonb)`,
          [
            id,
            r.resultType,
            r.title,
            r.content,
            r.confidenceScore,
            r.metaInfo ? JSON.stringify(r.metaInfo) : null,
          ],
        );
      }
      return true;
    });
  }

  /** processing → failed; false when it had already ended. */
  async fail(id: number, message: string): Promise<boolean> {
    const rows = await this.em.execute(
      `update ${T} set "status" = 'failed', "stage" = 'done', "error_message" = ?, "completed_at" = now(), "updated_at" = now()
        where "id" = ? and "status" in ('pending', 'processing') returning "id"`,
      [message.slice(0, 4000), id],
    );
    return rows.length > 0;
  }

  /** pending|processing → cancelled; false when it had already ended. */
  async cancel(id: number): Promise<boolean> {
    const rows = await this.em.execute(
      `update ${T} set "status" = 'cancelled', "stage" = 'done', "completed_at" = now(), "updated_at" = now()
        where "id" = ? and "status" in (${ACTIVE_STATUSES.map(() => '?').join(', ')}) returning "id"`,
      [id, ...ACTIVE_STATUSES],
    );
    return rows.length > 0;
  }

  async createDbc(input: Omit<DbcFileRow, 'id' | 'createdAt'>): Promise<DbcFileRow> {
    const row = this.em.create(DbcFileEntity, input);
    this.em.persist(row);
    await this.em.flush();
    return row;
  }

  /** The DBC if the caller may use it (owner or admin); NOT_FOUND otherwise. */
  async getVisibleDbc(id: number, claims: AuthClaims): Promise<DbcFileRow> {
    const row = id > 0 ? await this.em.fork().findOne(DbcFileEntity, { id }) : null;
    if (!row || (claims.role !== 'admin' && row.userId !== claims.userId))
      throw DomainError.notFound('dbc', id);
    return row;
  }

  async dbcContent(id: number): Promise<string | null> {
    const rows = await this.em.execute<{ content: string }[]>(
      `select "content" from "analysis"."dbc_files" where "id" = ?`,
      [id],
    );
    return rows[0]?.content ?? null;
  }

  listDbcs(userId: number | undefined, cursor: PageCursor | undefined, limit: number): Promise<DbcFileRow[]> {
    const conditions: Record<string, unknown>[] = [];
    if (userId !== undefined) conditions.push({ userId });
    if (cursor) {
      conditions.push({
        $or: [
          { createdAt: { $lt: cursor.createdAt } },
          { createdAt: cursor.createdAt, id: { $lt: cursor.id } },
        ],
      });
    }
    return this.em.find(DbcFileEntity, { $and: conditions } as FilterQuery<DbcFileRow>, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit,
    });
  }

  async remove(id: number): Promise<void> {
    await this.em.execute(`delete from ${T} where "id" = ?`, [id]);
  }

  /** Removes every analysis and DBC file of a user; returns the analyses' blob keys. */
  async removeForUser(userId: number): Promise<{ id: number; filePath: string }[]> {
    const rows = await this.em.execute<{ id: number; file_path: string }[]>(
      `delete from ${T} where "user_id" = ? returning "id", "file_path"`,
      [userId],
    );
    await this.em.execute(`delete from "analysis"."dbc_files" where "user_id" = ?`, [userId]);
    return rows.map((r) => ({ id: r.id, filePath: r.file_path }));
  }
}
