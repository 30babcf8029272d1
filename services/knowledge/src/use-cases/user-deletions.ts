import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '@charge/service-kit';
import { CollectionEntity } from '../persistence/collection.entity';
import { DocumentEntity } from '../persistence/document.entity';
import { RagQueryEntity } from '../persistence/rag-query.entity';

export const USERS_DELETED_SUBJECT = 'users.deleted';

/**
 * auth publishes `users.deleted` ({"user_id": n}). Uploads and queries lose their user (the
 * seed design's ON DELETE SET NULL). The user's collections keep `created_by`: setting it to
 * NULL would make private collections public; with an owner id nobody holds (ids are never
 * reused), only admins see and manage them. They are deactivated. Idempotent.
 */
export async function forgetUser(orm: MikroORM, userId: number): Promise<void> {
  await orm.em.fork().transactional(async (em) => {
    await em.nativeUpdate(CollectionEntity, { createdBy: userId }, { isActive: false });
    await em.nativeUpdate(DocumentEntity, { uploadedBy: userId }, { uploadedBy: null });
    await em.nativeUpdate(RagQueryEntity, { userId }, { userId: null });
  });
}

export function subscribeUserDeletions(nc: NatsConnection, orm: MikroORM, logger: Logger): Subscription {
  return nc.subscribe(USERS_DELETED_SUBJECT, {
    callback: (error, msg) => {
      if (error) return logger.warn({ err: error }, 'users.deleted subscription error');
      let userId: unknown;
      try {
        userId = (JSON.parse(msg.string()) as { user_id?: unknown }).user_id;
      } catch {
        userId = undefined;
      }
      if (!Number.isInteger(userId) || (userId as number) <= 0)
        return logger.warn({}, 'malformed users.deleted message');
      forgetUser(orm, userId as number).catch((e) =>
        logger.error({ err: e, user_id: userId }, 'users.deleted handling failed'),
      );
    },
  });
}
