import type { MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '@charge/service-kit';
import type { AnalysisUseCases } from '../use-cases/analyses';

/** Subject auth publishes (core NATS) when it deletes a user. */
export const USERS_DELETED_SUBJECT = 'users.deleted';

/**
 * Removes a deleted user's analyses and files. One replica per event (queue group); the
 * removal is idempotent, so a repeated event does no harm.
 */
export function subscribeUserDeleted(
  nc: NatsConnection,
  orm: MikroORM,
  analyses: AnalysisUseCases,
  logger: Logger,
): () => Promise<void> {
  let inflight = Promise.resolve();
  const sub = nc.subscribe(USERS_DELETED_SUBJECT, {
    queue: 'analysis',
    callback: (err, msg) => {
      if (err) return;
      let userId: unknown;
      try {
        userId = (JSON.parse(new TextDecoder().decode(msg.data)) as { user_id?: unknown }).user_id;
      } catch {
        userId = undefined;
      }
      if (typeof userId !== 'number' || !Number.isInteger(userId) || userId <= 0) {
        logger.warn({ subject: msg.subject }, 'ignored malformed users.deleted event');
        return;
      }
      inflight = inflight
        .then(() => analyses.onUserDeleted(orm.em.fork(), userId))
        .then(
          (removed) => logger.info({ user_id: userId, removed }, 'removed the analyses of a deleted user'),
          (error: unknown) =>
            logger.error({ err: error, user_id: userId }, 'removing a deleted user’s analyses failed'),
        );
    },
  });
  return async () => {
    sub.unsubscribe();
    await inflight;
  };
}
