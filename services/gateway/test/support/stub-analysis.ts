import { Metadata, Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import { analysisV1 } from '@charge/contracts';

/** What the stub saw of the last call's metadata. */
export interface SeenMetadata {
  authorization?: string;
  requestId?: string;
  traceparent?: string;
  forwardedFor?: string;
  userAgent?: string;
}

/**
 * A real gRPC server standing in for the analysis service (not yet part of the platform
 * the gateway tests start): it drives the gateway's streaming, deadline and metadata paths
 * deterministically. Analysis id 1 streams three events and ends; id 2 streams one event,
 * then fails with FAILED_PRECONDITION; id 4 streams one event and stays open until the
 * caller cancels; any other id fails at once with NOT_FOUND.
 */
export class StubAnalysis {
  seen: SeenMetadata = {};
  /** Open-ended watches (id 4) whose caller went away. */
  cancelledWatches = 0;

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(): Promise<StubAnalysis> {
    const server = new Server();
    const holder: { stub?: StubAnalysis } = {};
    const impl: Record<string, unknown> = {};
    for (const key of Object.keys(analysisV1.AnalysisServiceService))
      impl[key] = (_call: unknown, cb: (e: { code: number; details: string }) => void) =>
        cb({ code: status.UNIMPLEMENTED, details: 'stub' });
    const record = (md: Metadata) => {
      const one = (k: string) => md.get(k)[0]?.toString();
      holder.stub!.seen = {
        authorization: one('authorization'),
        requestId: one('x-request-id'),
        traceparent: one('traceparent'),
        forwardedFor: one('x-forwarded-for'),
        userAgent: one('x-forwarded-user-agent'),
      };
    };
    impl.getAnalysis = (
      call: { request: analysisV1.GetAnalysisRequest; metadata: Metadata },
      cb: (e: unknown, r?: analysisV1.GetAnalysisResponse) => void,
    ) => {
      record(call.metadata);
      if (call.request.analysisId !== 1) {
        const trailers = new Metadata();
        trailers.set('error-reason', 'ANALYSIS_NOT_FOUND');
        return cb({ code: status.NOT_FOUND, details: 'analysis not found', metadata: trailers });
      }
      cb(
        null,
        analysisV1.GetAnalysisResponse.fromPartial({
          analysis: {
            id: 1,
            name: 'session',
            fileSize: '12345678901',
            status: analysisV1.AnalysisStatus.ANALYSIS_STATUS_COMPLETED,
            progress: 1,
            createdAt: new Date('2026-12-01T10:00:00Z'),
          },
        }),
      );
    };
    impl.watchAnalysis = (
      call: ServerWritableStream<analysisV1.WatchAnalysisRequest, analysisV1.WatchAnalysisResponse>,
    ) => {
      record(call.metadata);
      const id = call.request.analysisId;
      if (id === 4) {
        call.write(analysisV1.WatchAnalysisResponse.fromPartial({ analysisId: 4, progress: 0.1 }));
        call.on('cancelled', () => (holder.stub!.cancelledWatches += 1));
        return;
      }
      if (id !== 1 && id !== 2)
        return void call.emit('error', { code: status.NOT_FOUND, details: 'analysis not found' });
      const event = (progress: number, st: analysisV1.AnalysisStatus) =>
        analysisV1.WatchAnalysisResponse.fromPartial({ analysisId: id, status: st, progress });
      call.write(event(0, analysisV1.AnalysisStatus.ANALYSIS_STATUS_PENDING));
      if (id === 2) {
        setTimeout(
          () => call.emit('error', { code: status.FAILED_PRECONDITION, details: 'worker lost' }),
          20,
        );
        return;
      }
      call.write(event(0.5, analysisV1.AnalysisStatus.ANALYSIS_STATUS_PROCESSING));
      call.write(event(1, analysisV1.AnalysisStatus.ANALYSIS_STATUS_COMPLETED));
      call.end();
    };
    server.addService(analysisV1.AnalysisServiceService, impl as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    holder.stub = new StubAnalysis(server, `127.0.0.1:${port}`);
    return holder.stub;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
