import type { MikroORM } from '@mikro-orm/postgresql';
import { CollectionEntity } from '../persistence/collection.entity';
import { DocumentEntity } from '../persistence/document.entity';
import { RagQueryEntity } from '../persistence/rag-query.entity';

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
