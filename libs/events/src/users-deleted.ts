import type { NatsConnection } from '@nats-io/nats-core';
import { failSpan, startConsumerSpan } from './trace-context';

/** Core NATS subject auth publishes (through its outbox) when it deletes a user. */
export const USERS_DELETED_SUBJECT = 'users.deleted';

export interface UsersDeletedLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface UsersDeletedOptions {
  /** Queue group (the service name): one replica of the service handles each event. */
  queue: string;
  /** Removes or anonymises what the user owned. Must be idempotent. */
  handler: (userId: number) => Promise<unknown>;
  logger: UsersDeletedLogger;
}

/** Parses `{"user_id": n}`; undefined for anything else. */
export function parseUsersDeleted(data: Uint8Array): number | undefined {
  try {
    const userId = (JSON.parse(new TextDecoder().decode(data)) as { user_id?: unknown }).user_id;
    return typeof userId === 'number' && Number.isInteger(userId) && userId > 0 ? userId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `handler` for every `users.deleted` event, one at a time. Returns a stop function
 * that unsubscribes and waits for the event in hand.
 */
export function onUsersDeleted(nc: NatsConnection, options: UsersDeletedOptions): () => Promise<void> {
  const { handler, logger } = options;
  let inflight: Promise<void> = Promise.resolve();
  const sub = nc.subscribe(USERS_DELETED_SUBJECT, {
    queue: options.queue,
    callback: (error, msg) => {
      if (error) return logger.warn({ err: error }, 'users.deleted subscription error');
      const userId = parseUsersDeleted(msg.data);
      if (userId === undefined)
        return logger.warn({ subject: msg.subject }, 'ignored malformed users.deleted event');
      const headers = msg.headers;
      // In a CONSUMER span continuing the deleting call's trace (context from the headers).
      inflight = inflight.then(() =>
        startConsumerSpan({ subject: msg.subject, consumer: options.queue, headers }, async (span) => {
          try {
            const result = await handler(userId);
            logger.info({ user_id: userId, result }, 'handled users.deleted');
          } catch (err) {
            failSpan(span, err, 'failed');
            logger.error({ err, user_id: userId }, 'users.deleted handling failed');
          } finally {
            span.end();
          }
        }),
      );
    },
  });
  return async () => {
    sub.unsubscribe();
    await inflight;
  };
}
