import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '@charge/service-kit';
import { ConfigEntity } from '../persistence/config.entity';
import { DatasetEntity } from '../persistence/dataset.entity';
import { EvaluationEntity } from '../persistence/evaluation.entity';
import { ModelVersionEntity } from '../persistence/model-version.entity';
import { TaskEntity } from '../persistence/task.entity';

export const USERS_DELETED_SUBJECT = 'users.deleted';

/**
 * auth publishes `users.deleted` ({"user_id": n}); like the seed design's ON DELETE SET
 * NULL, the user's datasets, configs, tasks, versions and evaluations lose their owner
 * (they stay, manageable by admins). Idempotent.
 */
export async function forgetUser(orm: MikroORM, userId: number): Promise<void> {
  await orm.em.fork().transactional(async (em) => {
    for (const entity of [DatasetEntity, ConfigEntity, TaskEntity, ModelVersionEntity, EvaluationEntity]) {
      await em.nativeUpdate(entity as typeof DatasetEntity, { createdBy: userId }, { createdBy: null });
    }
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
