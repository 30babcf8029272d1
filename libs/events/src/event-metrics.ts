import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Histogram, labels, secondsSince } from '@charge/metrics';
import type { OutboxBacklog } from './outbox-relay';

/** What a handler's message ended as. */
export type JobOutcome = 'ack' | 'nak' | 'term';

/** Handling-time buckets in seconds: jobs run from milliseconds (audit rows) to hours (training). */
export const JOB_BUCKETS_S = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Something that counts what is waiting in an outbox (OutboxRelay). */
export interface OutboxBacklogSource {
  backlog(): Promise<OutboxBacklog>;
}

export interface EventMetricsOptions {
  /** Per-request timeout of the consumer info lookups made at scrape time. */
  infoTimeoutMs?: number;
}

/**
 * Prometheus metrics of a service's messaging: handling time of every message its durable
 * consumers process (histogram by stream, consumer and outcome), and, read at scrape time,
 * each consumer's queue depth (JetStream `num_pending` and `num_ack_pending`) and the
 * outbox backlog. Rendered in the text exposition format 0.0.4 by `collect()`.
 *
 * `bindEventMetrics(nc, metrics)` ties an instance to a NATS connection, so every
 * `startDurableConsumer` on that connection records into it with no code in the service
 * (service-kit's startBackbone does this and adds the instance to the service's registry).
 */
export class EventMetrics {
  private readonly handled = new Histogram(
    'jetstream_consumer_handling_seconds',
    'Time from delivery of a message to its ack, nak or term, by stream, consumer and outcome.',
    JOB_BUCKETS_S,
  );
  private readonly consumers = new Map<string, { stream: string; consumer: string }>();
  private readonly streams = new Set<string>();
  private readonly outboxes = new Map<string, OutboxBacklogSource>();
  private jsm?: Promise<JetStreamManager>;
  private scrapeErrors = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: EventMetricsOptions = {},
  ) {}

  /** Reports this durable consumer's queue depth. */
  watchConsumer(stream: string, consumer: string): void {
    this.consumers.set(`${stream}\u0000${consumer}`, { stream, consumer });
  }

  /** Reports the queue depth of every consumer of this stream (e.g. a work queue whose consumers run elsewhere). */
  watchStream(stream: string): void {
    this.streams.add(stream);
  }

  /** Reports the rows waiting in an outbox (labelled with its schema). */
  watchOutbox(schema: string, source: OutboxBacklogSource): void {
    this.outboxes.set(schema, source);
  }

  /** Starts timing one message; call the result once with what became of it. */
  startHandling(stream: string, consumer: string): (outcome: JobOutcome) => void {
    const t0 = process.hrtime.bigint();
    let done = false;
    return (outcome) => {
      if (done) return;
      done = true;
      this.handled.observe(labels({ stream, consumer, outcome }), secondsSince(t0));
    };
  }

  /** The metrics as exposition text; queue depths and backlog are read now. */
  async collect(): Promise<string> {
    const lines = this.handled.render();

    const depths = await this.queueDepths();
    lines.push(
      '# HELP jetstream_consumer_num_pending Messages of the stream not yet delivered to the consumer.',
      '# TYPE jetstream_consumer_num_pending gauge',
      ...depths.map((d) => `jetstream_consumer_num_pending{${d.labels}} ${d.pending}`),
      '# HELP jetstream_consumer_num_ack_pending Messages delivered to the consumer and not yet acknowledged.',
      '# TYPE jetstream_consumer_num_ack_pending gauge',
      ...depths.map((d) => `jetstream_consumer_num_ack_pending{${d.labels}} ${d.ackPending}`),
    );

    if (this.outboxes.size) {
      const backlogs = await Promise.all(
        [...this.outboxes].map(async ([schema, source]) => {
          try {
            return { schema, backlog: await source.backlog() };
          } catch {
            this.scrapeErrors += 1;
            return undefined;
          }
        }),
      );
      const found = backlogs.filter((b): b is { schema: string; backlog: OutboxBacklog } => !!b);
      lines.push(
        '# HELP outbox_pending_messages Messages staged in the outbox and not yet published.',
        '# TYPE outbox_pending_messages gauge',
        ...found.map((b) => `outbox_pending_messages{${labels({ schema: b.schema })}} ${b.backlog.messages}`),
        '# HELP outbox_oldest_message_age_seconds Age of the oldest message waiting in the outbox (0 when empty).',
        '# TYPE outbox_oldest_message_age_seconds gauge',
        ...found.map(
          (b) =>
            `outbox_oldest_message_age_seconds{${labels({ schema: b.schema })}} ${b.backlog.oldestAgeSeconds}`,
        ),
      );
    }
    lines.push(
      '# HELP messaging_metrics_scrape_errors_total Queue-depth or backlog lookups that failed during a scrape (their series are left out).',
      '# TYPE messaging_metrics_scrape_errors_total counter',
      `messaging_metrics_scrape_errors_total ${this.scrapeErrors}`,
    );
    return `${lines.join('\n')}\n`;
  }

  private async queueDepths(): Promise<{ labels: string; pending: number; ackPending: number }[]> {
    if (!this.consumers.size && !this.streams.size) return [];
    let jsm: JetStreamManager;
    try {
      jsm = await (this.jsm ??= jetstreamManager(this.nc, { timeout: this.options.infoTimeoutMs ?? 2000 }));
    } catch {
      this.jsm = undefined;
      this.scrapeErrors += 1;
      return [];
    }
    const found = new Map<string, { labels: string; pending: number; ackPending: number }>();
    const add = (stream: string, consumer: string, pending: number, ackPending: number) =>
      found.set(`${stream}\u0000${consumer}`, {
        labels: labels({ stream, consumer }),
        pending,
        ackPending,
      });
    await Promise.all([
      ...[...this.streams].map(async (stream) => {
        try {
          for await (const info of jsm.consumers.list(stream))
            add(stream, info.name, info.num_pending, info.num_ack_pending);
        } catch {
          this.scrapeErrors += 1;
        }
      }),
      ...[...this.consumers.values()].map(async ({ stream, consumer }) => {
        try {
          const info = await jsm.consumers.info(stream, consumer);
          add(stream, consumer, info.num_pending, info.num_ack_pending);
        } catch {
          this.scrapeErrors += 1;
        }
      }),
    ]);
    return [...found.values()].sort((a, b) => a.labels.localeCompare(b.labels));
  }
}

const bound = new WeakMap<NatsConnection, EventMetrics>();

/** Makes `metrics` the registry of every durable consumer started on `nc`. */
export function bindEventMetrics(nc: NatsConnection, metrics: EventMetrics): void {
  bound.set(nc, metrics);
}

/** The EventMetrics bound to `nc`, if any. */
export function eventMetricsOf(nc: NatsConnection): EventMetrics | undefined {
  return bound.get(nc);
}
