import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ensureStream, STREAMS, type StreamName } from './streams';

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
}

export interface RunningConsumer {
  /** Stops pulling and waits for the message in hand. */
  stop(): Promise<void>;
}

/**
 * A durable pull consumer with explicit acks: a message is acknowledged only after the
 * handler's work is committed, so a crash means redelivery, never loss.
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
  const loop = (async () => {
    for await (const msg of messages) {
      try {
        await options.handler(msg);
        msg.ack();
      } catch (error) {
        if (error instanceof PoisonMessageError) {
          logger.error({ err: error, subject: msg.subject, seq: msg.seq }, 'poison message terminated');
          msg.term(error.message);
        } else {
          logger.warn(
            { err: error, subject: msg.subject, redelivery: msg.info.deliveryCount },
            'message failed; will be redelivered',
          );
          msg.nak(Math.min(30_000, 500 * 2 ** Math.min(msg.info.deliveryCount, 6)));
        }
      }
    }
  })();
  return {
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
