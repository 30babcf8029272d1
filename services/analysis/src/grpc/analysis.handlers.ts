import type { UntypedHandleCall } from '@grpc/grpc-js';
import { analysisV1, type googleApi } from '@charge/contracts';
import { DomainError } from '@charge/errors';
import { fileUploadMessages, type CallContext, type Rpc } from '@charge/service-kit';
import type { AnalysisStage, AnalysisStatus } from '../domain/status';
import type { AnalysisResultRow } from '../persistence/analysis-result.entity';
import type { AnalysisRow } from '../persistence/analysis.entity';
import type { DbcFileRow } from '../persistence/dbc-file.entity';
import type { AnalysisUseCases, Caller, UploadPart } from '../use-cases/analyses';
import type { ProgressCodec, ProgressEvent } from '../use-cases/progress-bus';

type Implementation = { [K in keyof analysisV1.AnalysisServiceServer]: UntypedHandleCall };

const S = analysisV1.AnalysisStatus;
const STATUS_TO_PROTO: Record<AnalysisStatus, analysisV1.AnalysisStatus> = {
  pending: S.ANALYSIS_STATUS_PENDING,
  processing: S.ANALYSIS_STATUS_PROCESSING,
  completed: S.ANALYSIS_STATUS_COMPLETED,
  failed: S.ANALYSIS_STATUS_FAILED,
  cancelled: S.ANALYSIS_STATUS_CANCELLED,
  validation_failed: S.ANALYSIS_STATUS_VALIDATION_FAILED,
  max_iterations_reached: S.ANALYSIS_STATUS_MAX_ITERATIONS_REACHED,
};
const G = analysisV1.AnalysisStage;
const STAGE_TO_PROTO: Record<AnalysisStage, analysisV1.AnalysisStage> = {
  queued: G.ANALYSIS_STAGE_QUEUED,
  validating: G.ANALYSIS_STAGE_VALIDATING,
  parsing: G.ANALYSIS_STAGE_PARSING,
  diagnosing: G.ANALYSIS_STAGE_DIAGNOSING,
  retrieving_evidence: G.ANALYSIS_STAGE_RETRIEVING_EVIDENCE,
  refining: G.ANALYSIS_STAGE_REFINING,
  reporting: G.ANALYSIS_STAGE_REPORTING,
  done: G.ANALYSIS_STAGE_DONE,
};
const F = analysisV1.LogFileType;
const TYPE_TO_PROTO: Record<string, analysisV1.LogFileType> = {
  blf: F.LOG_FILE_TYPE_BLF,
  asc: F.LOG_FILE_TYPE_ASC,
  candump: F.LOG_FILE_TYPE_CANDUMP,
  zlg: F.LOG_FILE_TYPE_ZLG,
};

function invert<K extends string, V extends number>(map: Record<K, V>): Map<V, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as V, k as K]));
}
const STATUS_FROM_PROTO = invert(STATUS_TO_PROTO);
const STAGE_FROM_PROTO = invert(STAGE_TO_PROTO);

export function toAnalysis(row: AnalysisRow): analysisV1.Analysis {
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? '',
    fileName: row.fileName ?? '',
    fileSize: String(row.fileSize ?? '0'),
    fileSha256: row.fileSha256?.trim() ?? '',
    fileType: TYPE_TO_PROTO[row.fileType ?? ''] ?? F.LOG_FILE_TYPE_UNSPECIFIED,
    status: STATUS_TO_PROTO[row.status],
    stage: row.stage ? STAGE_TO_PROTO[row.stage] : G.ANALYSIS_STAGE_UNSPECIFIED,
    progress: row.progress,
    errorMessage: row.errorMessage ?? '',
    userId: row.userId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    startedAt: row.startedAt ?? undefined,
    completedAt: row.completedAt ?? undefined,
    dbcId: row.dbcId ?? 0,
  };
}

function toDbc(row: DbcFileRow): analysisV1.DbcFile {
  return {
    id: row.id,
    name: row.name,
    fileName: row.fileName ?? '',
    fileSize: String(row.fileSize),
    fileSha256: row.fileSha256.trim(),
    messageCount: row.messageCount,
    signalCount: row.signalCount,
    userId: row.userId,
    createdAt: row.createdAt,
  };
}

function toResult(row: AnalysisResultRow): analysisV1.AnalysisResult {
  return {
    id: row.id,
    resultType: row.resultType,
    title: row.title,
    content: row.content ?? '',
    confidenceScore: row.confidenceScore ?? 0,
    metaInfoJson: row.metaInfo === null || row.metaInfo === undefined ? '' : JSON.stringify(row.metaInfo),
  };
}

function toEvent(event: ProgressEvent): analysisV1.WatchAnalysisResponse {
  return {
    analysisId: event.analysisId,
    status: STATUS_TO_PROTO[event.status],
    stage: event.stage ? STAGE_TO_PROTO[event.stage] : G.ANALYSIS_STAGE_UNSPECIFIED,
    progress: event.progress,
    errorMessage: event.errorMessage,
    time: event.time,
  };
}

/** The proto encoding of progress events on `analysis.progress.<id>`. */
export const progressCodec: ProgressCodec = {
  encode: (event) => analysisV1.WatchAnalysisResponse.encode(toEvent(event)).finish(),
  decode: (bytes) => {
    const m = analysisV1.WatchAnalysisResponse.decode(bytes);
    const status = STATUS_FROM_PROTO.get(m.status);
    if (!status) throw new Error(`unknown status ${m.status}`);
    return {
      analysisId: m.analysisId,
      status,
      stage: STAGE_FROM_PROTO.get(m.stage) ?? null,
      progress: m.progress,
      errorMessage: m.errorMessage,
      time: m.time ?? new Date(),
    };
  },
};

function caller(ctx: CallContext): Caller {
  const claims = ctx.user();
  return {
    claims,
    actor: {
      userId: claims.userId,
      ipAddress: ctx.ipAddress,
      userAgent: ctx.userAgent,
      requestId: ctx.requestId,
    },
  };
}

async function* uploadParts(
  messages: AsyncIterable<analysisV1.UploadLogRequest>,
): AsyncGenerator<UploadPart> {
  for await (const m of messages) {
    if (m.metadata) yield { kind: 'metadata', ...m.metadata };
    else if (m.chunk) yield { kind: 'chunk', bytes: m.chunk };
    else yield { kind: 'empty' };
  }
}

/**
 * UploadLogFile (REST: the request body is the file) as upload parts: the first message's
 * fields are the metadata (declared size 0 = not declared), every `file` chunk a chunk.
 */
async function* fileUploadParts(
  messages: AsyncIterable<analysisV1.UploadLogFileRequest>,
): AsyncGenerator<UploadPart> {
  const parts = fileUploadMessages(messages, (m) => ({
    name: m.name,
    description: m.description,
    fileName: m.fileName,
    declaredSize: m.declaredSize === '0' ? undefined : m.declaredSize,
  }));
  for await (const part of parts) {
    if (part.header) yield { kind: 'metadata', ...part.header };
    else if (part.chunk) yield { kind: 'chunk', bytes: part.chunk };
  }
}

/** AnalysisService: proto ⇄ use-case mapping only. */
export function analysisHandlers(rpc: Rpc, analyses: AnalysisUseCases): Implementation {
  return {
    uploadLog: rpc.clientStream<analysisV1.UploadLogRequest, analysisV1.UploadLogResponse>(
      async (messages, ctx) => ({
        analysis: toAnalysis(await analyses.upload(ctx.em, caller(ctx), uploadParts(messages), ctx.signal)),
      }),
    ),
    uploadLogFile: rpc.clientStream<analysisV1.UploadLogFileRequest, analysisV1.UploadLogFileResponse>(
      async (messages, ctx) => ({
        analysis: toAnalysis(
          await analyses.upload(ctx.em, caller(ctx), fileUploadParts(messages), ctx.signal),
        ),
      }),
    ),

    startAnalysis: rpc.unary<analysisV1.StartAnalysisRequest, analysisV1.StartAnalysisResponse>(
      async (req, ctx) => ({
        analysis: toAnalysis(
          await analyses.start(ctx.em, caller(ctx), req.analysisId, { useLlm: req.useLlm, dbcId: req.dbcId }),
        ),
      }),
    ),

    uploadDbc: rpc.unary<analysisV1.UploadDbcRequest, analysisV1.UploadDbcResponse>(async (req, ctx) => ({
      dbc: toDbc(
        await analyses.uploadDbc(ctx.em, caller(ctx), {
          name: req.name,
          fileName: req.fileName,
          content: req.content,
        }),
      ),
    })),

    listDbcs: rpc.unary<analysisV1.ListDbcsRequest, analysisV1.ListDbcsResponse>(async (req, ctx) => {
      const page = await analyses.listDbcs(ctx.em, caller(ctx), {
        pageSize: req.page?.pageSize,
        pageToken: req.page?.pageToken,
      });
      return { dbcs: page.dbcs.map(toDbc), page: { nextPageToken: page.nextPageToken, totalSize: 0 } };
    }),

    getAnalysis: rpc.unary<analysisV1.GetAnalysisRequest, analysisV1.GetAnalysisResponse>(
      async (req, ctx) => ({
        analysis: toAnalysis(await analyses.get(ctx.em, caller(ctx), req.analysisId)),
      }),
    ),

    listAnalyses: rpc.unary<analysisV1.ListAnalysesRequest, analysisV1.ListAnalysesResponse>(
      async (req, ctx) => {
        let status: AnalysisStatus | undefined;
        if (req.status !== S.ANALYSIS_STATUS_UNSPECIFIED) {
          status = STATUS_FROM_PROTO.get(req.status);
          if (!status) throw DomainError.invalidArgument('status', 'unknown status');
        }
        const page = await analyses.list(ctx.em, caller(ctx), {
          pageSize: req.page?.pageSize,
          pageToken: req.page?.pageToken,
          status,
          start: req.created?.startTime,
          end: req.created?.endTime,
        });
        return {
          analyses: page.analyses.map(toAnalysis),
          page: { nextPageToken: page.nextPageToken, totalSize: 0 },
        };
      },
    ),

    getReport: rpc.unary<analysisV1.GetReportRequest, analysisV1.GetReportResponse>(async (req, ctx) => {
      const r = await analyses.report(ctx.em, caller(ctx), req.analysisId);
      return {
        analysis: toAnalysis(r.analysis),
        reportJson: JSON.stringify(r.report),
        results: r.results.map(toResult),
      };
    }),

    getSeries: rpc.unary<analysisV1.GetSeriesRequest, analysisV1.GetSeriesResponse>(async (req, ctx) => {
      const slice = await analyses.series(ctx.em, caller(ctx), req.analysisId, {
        sessionIndex: req.sessionIndex,
        names: req.names,
        fromSeconds: req.fromSeconds,
        toSeconds: req.toSeconds,
        maxPoints: req.maxPoints,
      });
      return {
        sessionStartTime: slice.sessionStartTime,
        sessionCount: slice.sessionCount,
        series: slice.series.map((s) => ({
          name: s.name,
          points: s.points.map(([t, value]) => ({ t, value })),
        })),
      };
    }),

    getTrace: rpc.unary<analysisV1.GetTraceRequest, analysisV1.GetTraceResponse>(async (req, ctx) => {
      const page = await analyses.trace(ctx.em, caller(ctx), req.analysisId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        canIds: req.canIds,
        fromSeconds: req.fromSeconds,
        toSeconds: req.toSeconds,
        decode: req.decode,
      });
      return {
        frames: page.frames.map(({ index, frame, message }) => ({
          index: String(index),
          timestamp: frame.timestamp,
          canId: frame.id,
          extended: frame.extended,
          channel: frame.channel,
          data: Buffer.from(frame.data),
          errorFrame: frame.error,
          fd: frame.fd,
          message,
        })),
        nextPageToken: page.nextPageToken,
      };
    }),

    cancelAnalysis: rpc.unary<analysisV1.CancelAnalysisRequest, analysisV1.CancelAnalysisResponse>(
      async (req, ctx) => ({
        analysis: toAnalysis(await analyses.cancel(ctx.em, caller(ctx), req.analysisId)),
      }),
    ),

    deleteAnalysis: rpc.unary<analysisV1.DeleteAnalysisRequest, analysisV1.DeleteAnalysisResponse>(
      async (req, ctx) => {
        await analyses.delete(ctx.em, caller(ctx), req.analysisId);
        return {};
      },
    ),

    downloadLog: rpc.serverStream<analysisV1.DownloadLogRequest, googleApi.HttpBody>((req, send, ctx) =>
      analyses.download(
        ctx.em,
        caller(ctx),
        req.analysisId,
        ({ contentType, data }) => send({ contentType, data, extensions: [] }),
        ctx.signal,
      ),
    ),
    watchAnalysis: rpc.serverStream<analysisV1.WatchAnalysisRequest, analysisV1.WatchAnalysisResponse>(
      (req, send, ctx) =>
        analyses.watch(ctx.em, caller(ctx), req.analysisId, (event) => send(toEvent(event)), ctx.signal),
    ),
  };
}
