import type { MikroORM } from '@mikro-orm/postgresql';
import { ConfigEntity } from '../persistence/config.entity';
import { DatasetEntity } from '../persistence/dataset.entity';
import { EvaluationEntity } from '../persistence/evaluation.entity';
import { ModelVersionEntity } from '../persistence/model-version.entity';
import { TaskEntity } from '../persistence/task.entity';

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
