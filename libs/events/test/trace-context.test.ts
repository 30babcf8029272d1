/**
 * Trace context through the outbox and JetStream: a message staged inside a traced call
 * carries the producer span's context in its outbox row and NATS headers, and the durable
 * consumer handles it inside a CONSUMER span that is a child of that producer span (with
 * the handler's log records carrying the trace id). Real PostgreSQL and a test-owned NATS.
 */
import { Writable } from 'node:stream';
import { context, propagation, SpanKind, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  connectNats,
  enqueueMessage,
  ensureStream,
  EventMetrics,
  onUsersDeleted,
  OutboxMessageEntity,
  OutboxRelay,
  outboxSchemaSql,
  PoisonMessageError,
  startDurableConsumer,
  USERS_DELETED_SUBJECT,
  type RunningConsumer,
} from '@charge/events';
import { createLogger, createOrm } from '@charge/service-kit';
import {
  createTestDatabase,
  eventually,
  TestNatsServer,
  withClient,
  type TestDatabase,
} from '@charge/testing';

const SCHEMA = 'analysis';
const quiet = {
  warn: () => undefined,
  error: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

describe('trace context through the outbox and JetStream', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = trace.getTracer('events-test');
  let db: TestDatabase;
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let orm: MikroORM;
  let relay: OutboxRelay;
  const consumers: RunningConsumer[] = [];

  beforeAll(async () => {
    provider.register();
    db = await createTestDatabase('eventstrace');
    nats = await TestNatsServer.start();
    nc = await connectNats(nats.url, 'events-trace-test');
    const jsm = await jetstreamManager(nc);
    for (const stream of ['AUDIT', 'ANALYSIS_JOBS', 'TRAINING_JOBS'] as const)
      await ensureStream(jsm, stream);
    await withClient(db.url, async (c) => {
      await c.query(`create schema "${SCHEMA}"`);
      for (const sql of outboxSchemaSql(SCHEMA)) await c.query(sql);
    });
    orm = await createOrm({
      schema: SCHEMA,
      entities: [OutboxMessageEntity],
      migrations: [],
      databaseUrl: db.url,
    });
    relay = new OutboxRelay({ orm, nc, schema: SCHEMA, logger: quiet });
  });

  afterAll(async () => {
    for (const c of consumers) await c.stop();
    await relay?.stop();
    await nc?.drain();
    await orm?.close();
    await nats?.dispose();
    await db?.drop();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  beforeEach(() => exporter.reset());

  /** Stages one message inside a SERVER span (as an RPC would) and returns that span's context. */
  async function stageInRpc(subject: string, payload: string, id?: string): Promise<SpanContext> {
    return tracer.startActiveSpan('/charge.test.v1.Test/Stage', { kind: SpanKind.SERVER }, async (span) => {
      await orm.em.fork().transactional(async (em) => enqueueMessage(em, subject, Buffer.from(payload), id));
      span.end();
      return span.spanContext();
    });
  }

  const finished = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
  const waitForSpans = (name: string, n: number) =>
    eventually(
      async () => finished(name),
      (spans) => spans.length >= n,
      15_000,
    );

  test('the consumer span is a child of the producer span, in the caller’s trace; handler logs carry the trace id', async () => {
    const rpc = await stageInRpc('jobs.analysis', 'job-1', '11111111-1111-4111-8111-111111111111');

    // The row holds the producer span's W3C context.
    const [row] = await withClient(db.url, (c) =>
      c.query(`select trace_context from "${SCHEMA}".outbox_messages`).then((r) => r.rows),
    );
    const [producer] = finished('create jobs.analysis');
    expect(producer).toBeDefined();
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.spanContext().traceId).toBe(rpc.traceId);
    expect(producer.parentSpanContext?.spanId).toBe(rpc.spanId);
    expect(row.trace_context.traceparent).toBe(
      `00-${rpc.traceId}-${producer.spanContext().spanId}-0${producer.spanContext().traceFlags}`,
    );

    expect(await relay.relayOnce()).toBe(1);

    const records: Record<string, unknown>[] = [];
    const logger = createLogger({
      service: 'events-test',
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
          done();
        },
      }),
    });
    const seen: { active?: SpanContext; traceparent?: string } = {};
    consumers.push(
      await startDurableConsumer({
        nc,
        stream: 'ANALYSIS_JOBS',
        durable: 'trace-test-workers',
        logger,
        maxMessages: 1,
        handler: async (msg: JsMsg) => {
          await new Promise((r) => setTimeout(r, 5));
          seen.active = trace.getActiveSpan()?.spanContext();
          seen.traceparent = msg.headers?.get('traceparent');
          // What a downstream gRPC call would inject (createGrpcClient's interceptor).
          const outgoing: Record<string, string> = {};
          propagation.inject(context.active(), outgoing);
          seen.traceparent = `${seen.traceparent}|${outgoing.traceparent}`;
          logger.info({ job: msg.string() }, 'handling job');
        },
      }),
    );

    const [consumer] = await waitForSpans('process jobs.analysis', 1);
    expect(consumer).toBeDefined();
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(rpc.traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.parentSpanContext?.isRemote).toBe(true);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.destination.name': 'jobs.analysis',
      'messaging.nats.stream': 'ANALYSIS_JOBS',
      'messaging.consumer.group.name': 'trace-test-workers',
      'messaging.message.id': '11111111-1111-4111-8111-111111111111',
      'messaging.nats.outcome': 'ack',
    });
    expect(consumer.status.code).not.toBe(SpanStatusCode.ERROR);

    // Inside the handler the consumer span is active: downstream calls continue it.
    expect(seen.active?.spanId).toBe(consumer.spanContext().spanId);
    const [header, outgoing] = seen.traceparent!.split('|');
    expect(header.split('-')[1]).toBe(rpc.traceId);
    expect(outgoing.split('-').slice(1, 3)).toEqual([rpc.traceId, consumer.spanContext().spanId]);

    const line = records.find((r) => r.msg === 'handling job');
    expect(line).toMatchObject({
      trace_id: rpc.traceId,
      span_id: consumer.spanContext().spanId,
      job: 'job-1',
    });
  });

  test('outcomes: nak and term mark the span failed and are timed by outcome; no headers → a root span', async () => {
    const metrics = new EventMetrics(nc);
    const attempts = new Map<string, number>();
    consumers.push(
      await startDurableConsumer({
        nc,
        stream: 'TRAINING_JOBS',
        durable: 'trace-test-outcomes',
        logger: quiet,
        metrics,
        handler: async (msg) => {
          const body = msg.string();
          attempts.set(body, (attempts.get(body) ?? 0) + 1);
          if (body === 'poison') throw new PoisonMessageError('undecodable');
          if (body === 'flaky' && attempts.get(body) === 1) throw new Error('transient');
        },
      }),
    );
    await stageInRpc('jobs.training', 'flaky');
    await stageInRpc('jobs.training', 'poison');
    await relay.relayOnce();
    // Published straight to JetStream, without a trace context.
    await jetstream(nc).publish('jobs.training', Buffer.from('untraced'));

    const spans = await waitForSpans('process jobs.training', 4);
    expect(spans).toHaveLength(4);
    const byOutcome = (o: string) => spans.filter((s) => s.attributes['messaging.nats.outcome'] === o);
    expect(byOutcome('nak')).toHaveLength(1);
    expect(byOutcome('term')).toHaveLength(1);
    expect(byOutcome('ack')).toHaveLength(2);
    for (const s of [...byOutcome('nak'), ...byOutcome('term')]) {
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.events.some((e) => e.name === 'exception')).toBe(true);
    }
    // Each delivery is a child of its producer span: the redelivered flaky message has two.
    const children = finished('create jobs.training')
      .map((p) => spans.filter((s) => parentOf(s) === p.spanContext().spanId).length)
      .sort();
    expect(children).toEqual([1, 2]);
    const untraced = spans.filter((s) => !s.parentSpanContext);
    expect(untraced).toHaveLength(1);
    expect(untraced[0].attributes['messaging.nats.outcome']).toBe('ack');

    const consumerLabels = 'stream="TRAINING_JOBS",consumer="trace-test-outcomes"';
    // Acks are asynchronous: wait until the server has them all.
    const text = await eventually(
      () => metrics.collect(),
      (t) => t.includes(`jetstream_consumer_num_ack_pending{${consumerLabels}} 0`),
      10_000,
    );
    const labels = (o: string) => `${consumerLabels},outcome="${o}"`;
    expect(text).toContain(`jetstream_consumer_handling_seconds_count{${labels('ack')}} 2`);
    expect(text).toContain(`jetstream_consumer_handling_seconds_count{${labels('nak')}} 1`);
    expect(text).toContain(`jetstream_consumer_handling_seconds_count{${labels('term')}} 1`);
    expect(text).toContain(`jetstream_consumer_handling_seconds_bucket{${labels('ack')},le="+Inf"} 2`);
    expect(text).toContain(`jetstream_consumer_num_pending{${consumerLabels}} 0`);
    expect(text).toContain(`jetstream_consumer_num_ack_pending{${consumerLabels}} 0`);
    expect(text).toContain('messaging_metrics_scrape_errors_total 0');
  });

  test('users.deleted (USERS stream) is handled in a span continuing the deleting call', async () => {
    const handled: SpanContext[] = [];
    const stop = await onUsersDeleted(nc, {
      queue: 'trace-test',
      logger: quiet,
      handler: async () => handled.push(trace.getActiveSpan()!.spanContext()),
    });
    try {
      await nc.flush();
      const rpc = await stageInRpc(USERS_DELETED_SUBJECT, JSON.stringify({ user_id: 7 }));
      await relay.relayOnce();
      const [span] = await waitForSpans(`process ${USERS_DELETED_SUBJECT}`, 1);
      const [producer] = finished(`create ${USERS_DELETED_SUBJECT}`);
      expect(span.spanContext().traceId).toBe(rpc.traceId);
      expect(span.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
      expect(handled[0]?.spanId).toBe(span.spanContext().spanId);
    } finally {
      await stop();
    }
  });

  test('the outbox backlog counts staged rows until the relay publishes them', async () => {
    await stageInRpc('audit.test.thing.created', 'a');
    await stageInRpc('audit.test.thing.created', 'b');
    await new Promise((r) => setTimeout(r, 20));
    const before = await relay.backlog();
    expect(before.messages).toBe(2);
    expect(before.oldestAgeSeconds).toBeGreaterThan(0);
    const metrics = new EventMetrics(nc);
    metrics.watchOutbox(SCHEMA, relay);
    expect(await metrics.collect()).toContain(`outbox_pending_messages{schema="${SCHEMA}"} 2`);
    expect(await relay.relayOnce()).toBe(2);
    expect(await relay.backlog()).toEqual({ messages: 0, oldestAgeSeconds: 0 });
    expect(await metrics.collect()).toContain(`outbox_oldest_message_age_seconds{schema="${SCHEMA}"} 0`);
  });
});

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
