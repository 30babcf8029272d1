import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { eventMetricsOf, type EventMetrics, type JobOutcome } from './event-metrics';
import { ensureStream, STREAMS, type StreamName } from './streams';
import { failSpan, jetStreamSpanOptions, startConsumerSpan } from './trace-context';

export interface ConsumerLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a handler decides about a message it could not process. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

export interface DurableConsumerOptions {
  nc: NatsConnection;
  stream: StreamName;
  durable: string;
  filterSubject?: string;
  /** Processes one message; resolve → ack. Throw PoisonMessageError → term (never redelivered); other errors → nak with backoff. */
  handler: (msg: JsMsg) => Promise<void>;
  logger: ConsumerLogger;
  ackWaitMs?: number;
  maxDeliver?: number;
  maxMessages?: number;
  /** Where handling times and queue depth are recorded; default: the EventMetrics bound to `nc`. */
  metrics?: EventMetrics;
}

export interface RunningConsumer {
  /** Stops pulling and waits for the message in hand. */
  stop(): Promise<void>;
}

/**
 * A durable pull consumer with explicit acks: a message is acknowledged only after the
 * handler's work is committed, so a crash means redelivery, never loss.
 *
 * Each message is handled inside a CONSUMER span continuing the producer's trace context
 * from its headers (so the handler's logs and downstream gRPC calls join that trace), and
 * its handling time is recorded by outcome (ack, nak, term) with the consumer's queue
 * depth reported at scrape time (see EventMetrics).
 */
export async function startDurableConsumer(options: DurableConsumerOptions): Promise<RunningConsumer> {
  const { nc, stream, durable, logger } = options;
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, stream);
  const streamName = STREAMS[stream].name;
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: (options.ackWaitMs ?? 30_000) * 1e6,
    max_deliver: options.maxDeliver ?? -1,
    ...(options.filterSubject ? { filter_subject: options.filterSubject } : {}),
  };
  try {
    await jsm.consumers.info(streamName, durable);
  } catch {
    await jsm.consumers.add(streamName, config);
  }
  const consumer = await jetstream(nc).consumers.get(streamName, durable);
  const messages = await consumer.consume({ max_messages: options.maxMessages ?? 64 });
  const metrics = options.metrics ?? eventMetricsOf(nc);
  metrics?.watchConsumer(streamName, durable);
  const handle = (msg: JsMsg) => {
    const finish = metrics?.startHandling(streamName, durable);
    return startConsumerSpan(jetStreamSpanOptions(msg, streamName, durable), async (span) => {
      let outcome: JobOutcome = 'ack';
      try {
        await options.handler(msg);
        msg.ack();
      } catch (error) {
        if (error instanceof PoisonMessageError) {
          outcome = 'term';
          logger.error({ err: error, subject: msg.subject, seq: msg.seq }, 'poison message terminated');
          // No reason: nats-server 2.9 (STACK.md) ignores `+TERM <reason>`, leaving the
          // message pending for redelivery; the reason is in the log record above.
          msg.term();
        } else {
          outcome = 'nak';
          logger.warn(
            { err: error, subject: msg.subject, redelivery: msg.info.deliveryCount },
            'message failed; will be redelivered',
          );
          msg.nak(Math.min(30_000, 500 * 2 ** Math.min(msg.info.deliveryCount, 6)));
        }
        failSpan(span, error, outcome);
      } finally {
        span.setAttribute('messaging.nats.outcome', outcome);
        span.end();
        finish?.(outcome);
      }
    });
  };
  const loop = (async () => {
    for await (const msg of messages) await handle(msg);
  })();
  return {
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
