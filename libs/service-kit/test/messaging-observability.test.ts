/**
 * A service built the usual way (startService → startBackbone → startDurableConsumer, no
 * metrics or tracing code of its own): an RPC stages a job, the worker handles it and calls
 * a downstream gRPC service through createGrpcClient. The downstream call continues the
 * caller's trace (RPC → producer → consumer → client), and the service's /metrics, fetched
 * over HTTP, shows the job durations by outcome, the consumer's queue depth and the outbox
 * backlog. Real PostgreSQL, a test-owned nats-server, real gRPC on loopback.
 */
import { Metadata, Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { Migration } from '@mikro-orm/migrations';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { authV1, healthV1 } from '@charge/contracts';
import {
  enqueueMessage,
  natsConfigSchema,
  OutboxMessageEntity,
  outboxSchemaSql,
  PoisonMessageError,
  startDurableConsumer,
} from '@charge/events';
import {
  baseConfigSchema,
  createGrpcClient,
  databaseConfigSchema,
  parseConfig,
  Rpc,
  startBackbone,
  type PersistenceModule,
  type RunningService,
  type ServiceSpec,
} from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  eventually,
  freePort,
  migrateSchemas,
  startTestService,
  TestNatsServer,
  unary,
  withToken,
  type TestDatabase,
} from '@charge/testing';

class MigrationOutbox extends Migration {
  override async up(): Promise<void> {
    for (const sql of outboxSchemaSql('analysis')) this.addSql(sql);
  }
}

const persistence: PersistenceModule = {
  SCHEMA: 'analysis',
  entities: [OutboxMessageEntity],
  migrations: [{ name: 'MigrationOutbox', class: MigrationOutbox }],
};

const configSchema = baseConfigSchema.extend({ ...databaseConfigSchema.shape, ...natsConfigSchema.shape });
const loadConfig = (env: Record<string, string | undefined>) => parseConfig(configSchema, env);

/** The downstream service: records the traceparent of every Check. */
class Downstream {
  private constructor(
    private readonly server: Server,
    readonly address: string,
    readonly seen: { service: string; traceparent?: string }[],
  ) {}

  static async start(): Promise<Downstream> {
    const server = new Server();
    const seen: { service: string; traceparent?: string }[] = [];
    server.addService(healthV1.HealthService, {
      check: (
        call: ServerUnaryCall<healthV1.HealthCheckRequest, healthV1.HealthCheckResponse>,
        callback: sendUnaryData<healthV1.HealthCheckResponse>,
      ) => {
        seen.push({
          service: call.request.service,
          traceparent: call.metadata.get('traceparent')[0] as string | undefined,
        });
        callback(null, { status: healthV1.HealthCheckResponse_ServingStatus.SERVING });
      },
      watch: (call: { end(): void }) => call.end(),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    return new Downstream(server, `127.0.0.1:${port}`, seen);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

describe('messaging observability of a service', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let db: TestDatabase;
  let nats: TestNatsServer;
  let downstream: Downstream;
  let service: RunningService;
  let client: authV1.AuthServiceClient;
  const jobs: string[] = [];
  let release: () => void = () => undefined;
  const blocked = new Promise<void>((resolve) => (release = resolve));

  const spec: ServiceSpec<ReturnType<typeof loadConfig>> = {
    name: 'observed',
    loadConfig,
    build: async (ctx) => {
      const { orm, nc, relay } = await startBackbone(ctx, persistence, { streams: ['ANALYSIS_JOBS'] });
      const health = createGrpcClient(healthV1.HealthClient, downstream.address);
      ctx.lifecycle.onStop('downstream', () => health.close());
      const workers = await startDurableConsumer({
        nc,
        stream: 'ANALYSIS_JOBS',
        durable: 'observed-workers',
        logger: ctx.logger,
        maxMessages: 1,
        handler: async (msg) => {
          const job = msg.string();
          if (job === 'poison') throw new PoisonMessageError('not a job');
          if (job === 'block') await blocked;
          await unary(health.check.bind(health), { service: job });
        },
      });
      ctx.lifecycle.onStop('workers', () => workers.stop());
      const rpc = new Rpc({ logger: ctx.logger, orm, inflight: ctx.inflight, metrics: ctx.metrics });
      // GetJwks stands in for a mutating RPC: it stages the next job of `jobs`.
      const implementation = {
        getJwks: rpc.unary<authV1.GetJwksRequest, authV1.GetJwksResponse>(
          async (_req, call) => {
            const job = jobs.shift() ?? 'ok';
            await call.em.transactional(async (em) => enqueueMessage(em, 'jobs.analysis', Buffer.from(job)));
            relay.kick();
            return { keys: [] };
          },
          { auth: 'public' },
        ),
      };
      return { services: [{ definition: authV1.AuthServiceService, implementation }] };
    },
  };

  beforeAll(async () => {
    provider.register();
    db = await createTestDatabase('kitmessaging');
    nats = await TestNatsServer.start();
    downstream = await Downstream.start();
    await migrateSchemas(db.url, persistence);
    service = await startTestService(spec, {
      env: { DATABASE_URL: db.url, NATS_URL: nats.url, METRICS_PORT: String(await freePort()) },
    });
    client = clientFor(authV1.AuthServiceClient, service);
  });

  afterAll(async () => {
    release();
    client?.close();
    await service?.stop();
    await downstream?.stop();
    await nats?.dispose();
    await db?.drop();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  const stage = (job: string, md: Metadata = new Metadata()) => {
    jobs.push(job);
    return unary(client.getJwks.bind(client), {}, md);
  };

  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  test('a worker’s downstream gRPC call continues the trace of the RPC that staged the job', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const callerSpan = 'b7ad6b7169203331';
    await stage('traced', withToken(undefined, { traceparent: `00-${traceId}-${callerSpan}-01` }));
    const seen = await eventually(
      async () => downstream.seen.find((s) => s.service === 'traced'),
      (s) => s !== undefined,
      15_000,
    );
    expect(seen).toBeDefined();
    const [, downstreamTrace, downstreamParent] = seen!.traceparent!.split('-');
    expect(downstreamTrace).toBe(traceId);

    const spans = await eventually(
      async () => exporter.getFinishedSpans(),
      (s) => s.some((x) => x.name === 'process jobs.analysis'),
      10_000,
    );
    const rpc = spans.find((s) => s.name === '/charge.auth.v1.AuthService/GetJwks')!;
    const producer = spans.find((s) => s.name === 'create jobs.analysis')!;
    const consumer = spans.find((s) => s.name === 'process jobs.analysis')!;
    expect(rpc.parentSpanContext?.spanId).toBe(callerSpan);
    expect(producer.parentSpanContext?.spanId).toBe(rpc.spanContext().spanId);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(downstreamParent).toBe(consumer.spanContext().spanId);
  });

  test('/metrics shows job durations by outcome, the queue depth while a job is in hand, and the outbox backlog', async () => {
    const consumer = 'stream="ANALYSIS_JOBS",consumer="observed-workers"';
    await stage('poison');
    await stage('block');
    await stage('ok');
    await stage('ok');
    // One job in hand (blocked), two waiting in the stream.
    const busy = await eventually(
      scrape,
      (t) =>
        value(t, `jetstream_consumer_num_ack_pending{${consumer}}`) === 1 &&
        value(t, `jetstream_consumer_num_pending{${consumer}}`) === 2,
      15_000,
    );
    expect(value(busy, `jetstream_consumer_num_ack_pending{${consumer}}`)).toBe(1);
    expect(value(busy, `jetstream_consumer_num_pending{${consumer}}`)).toBe(2);
    expect(busy).toContain('# TYPE jetstream_consumer_num_pending gauge');
    expect(busy).toContain('# TYPE jetstream_consumer_handling_seconds histogram');

    release();
    const idle = await eventually(
      scrape,
      (t) =>
        value(t, `jetstream_consumer_handling_seconds_count{${consumer},outcome="ack"}`) === 4 &&
        value(t, `jetstream_consumer_num_ack_pending{${consumer}}`) === 0,
      15_000,
    );
    expect(value(idle, `jetstream_consumer_handling_seconds_count{${consumer},outcome="ack"}`)).toBe(4);
    expect(value(idle, `jetstream_consumer_handling_seconds_count{${consumer},outcome="term"}`)).toBe(1);
    expect(
      value(idle, `jetstream_consumer_handling_seconds_bucket{${consumer},outcome="ack",le="+Inf"}`),
    ).toBe(4);
    expect(value(idle, `jetstream_consumer_handling_seconds_sum{${consumer},outcome="ack"}`)).toBeGreaterThan(
      0,
    );
    expect(value(idle, `jetstream_consumer_num_pending{${consumer}}`)).toBe(0);
    expect(value(idle, `jetstream_consumer_num_ack_pending{${consumer}}`)).toBe(0);
    expect(value(idle, 'outbox_pending_messages{schema="analysis"}')).toBe(0);
    expect(value(idle, 'messaging_metrics_scrape_errors_total')).toBe(0);
    // The RPC metrics are still there, on the same endpoint.
    expect(
      value(
        idle,
        'grpc_server_handled_total{grpc_service="charge.auth.v1.AuthService",grpc_method="GetJwks",grpc_code="OK"}',
      ),
    ).toBe(5);
    // Every line is valid exposition text; each family is declared once.
    const types = idle.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });
});
