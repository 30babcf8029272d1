import type { NatsConnection } from '@nats-io/nats-core';
import { PoisonMessageError, startDurableConsumer } from './consumer';

/**
 * Subject auth publishes (through its outbox) when it deletes a user. It belongs to the
 * USERS stream, so a service that is down when a user is deleted handles it on its return.
 */
export const USERS_DELETED_SUBJECT = 'users.deleted';

export interface UsersDeletedLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface UsersDeletedOptions {
  /** The service name: its replicas share one durable consumer, so one of them handles each event. */
  queue: string;
  /** Removes or anonymises what the user owned. Must be idempotent (events can be redelivered). */
  handler: (userId: number) => Promise<unknown>;
  logger: UsersDeletedLogger;
  /** Redelivery wait after a crash mid-handling; default 30 s. */
  ackWaitMs?: number;
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

/** Durable consumer name of a service's users.deleted handling. */
export const usersDeletedDurable = (queue: string) => `users-deleted-${queue}`;

/**
 * Runs `handler` for every `users.deleted` event from the USERS stream, one at a time, on
 * the service's durable consumer: events published while the service was down are handled
 * when it starts, a failed handler is retried with backoff, a malformed event is dropped
 * (logged). Each runs in a CONSUMER span continuing the deleting call's trace. Resolves to
 * a stop function that stops pulling and waits for the event in hand.
 */
export async function onUsersDeleted(
  nc: NatsConnection,
  options: UsersDeletedOptions,
): Promise<() => Promise<void>> {
  const { handler, logger } = options;
  const consumer = await startDurableConsumer({
    nc,
    stream: 'USERS',
    durable: usersDeletedDurable(options.queue),
    filterSubject: USERS_DELETED_SUBJECT,
    ackWaitMs: options.ackWaitMs,
    maxMessages: 1,
    logger,
    handler: async (msg) => {
      const userId = parseUsersDeleted(msg.data);
      if (userId === undefined) throw new PoisonMessageError('malformed users.deleted event');
      const result = await handler(userId);
      logger.info({ user_id: userId, result }, 'handled users.deleted');
    },
  });
  return () => consumer.stop();
}
