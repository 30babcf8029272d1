import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { enqueueAudit, enqueueMessage, USERS_DELETED_SUBJECT } from '@charge/events';
import type { Role } from '@charge/service-kit';
import { decodePageToken, encodePageToken, pageSize } from '@charge/service-kit';
import { LoginThrottleRepository } from '../persistence/login-throttle.repository';
import { SessionRepository } from '../persistence/sessions.repository';
import type { UserRow } from '../persistence/user.entity';
import { UserRepository } from '../persistence/users.repository';
import { auditValues, requireClaims, SERVICE, type Caller, type UseCaseDeps } from './caller';

export interface ListUsersInput {
  pageSize?: number;
  pageToken?: string;
  role?: Role;
  isActive?: boolean;
  query?: string;
}

export interface UserPage {
  users: UserRow[];
  nextPageToken: string;
  totalSize: number;
}

/** Admin-only user management. */
export class UserAdminUseCases {
  constructor(private readonly deps: UseCaseDeps) {}

  /** Newest first (by id), cursor paged. */
  async list(em: EntityManager, input: ListUsersInput): Promise<UserPage> {
    const limit = pageSize(input.pageSize);
    const beforeId = decodePageToken(input.pageToken)?.id;
    const query = input.query?.trim() ?? '';
    if (query.length > 100) throw DomainError.invalidArgument('query', 'must be at most 100 characters');
    const filter = { role: input.role, isActive: input.isActive, query: query || undefined };
    const users = new UserRepository(em);
    const rows = await users.list({ ...filter, beforeId }, limit + 1);
    const page = rows.slice(0, limit);
    return {
      users: page,
      nextPageToken: rows.length > limit ? encodePageToken({ id: page[page.length - 1].id }) : '',
      totalSize: await users.count(filter),
    };
  }

  async setRole(em: EntityManager, caller: Caller, userId: number, role: Role): Promise<UserRow> {
    const claims = requireClaims(caller);
    checkUserId(userId);
    if (userId === claims.userId && role !== 'admin') {
      throw DomainError.failedPrecondition('an admin cannot demote themself', 'SELF_DEMOTION');
    }
    const result = await em.transactional(async (tem) => {
      const users = new UserRepository(tem);
      const user = await users.getById(userId);
      if (user.role === role) return { user, changed: false };
      const oldRole = user.role;
      user.role = role;
      user.updatedAt = new Date();
      await users.flush();
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'role_changed',
        resourceType: 'user',
        resourceId: user.id,
        oldValues: { role: oldRole },
        newValues: { role },
        actor: caller.actor,
      });
      return { user, changed: true };
    });
    if (result.changed) this.deps.relay.kick();
    return result.user;
  }

  /** Deactivation revokes every session of the user. */
  async setActive(em: EntityManager, caller: Caller, userId: number, isActive: boolean): Promise<UserRow> {
    const claims = requireClaims(caller);
    checkUserId(userId);
    if (userId === claims.userId && !isActive) {
      throw DomainError.failedPrecondition('an admin cannot deactivate themself', 'SELF_DEACTIVATION');
    }
    const result = await em.transactional(async (tem) => {
      const users = new UserRepository(tem);
      const user = await users.getById(userId);
      if (user.isActive === isActive) return { user, changed: false };
      user.isActive = isActive;
      user.updatedAt = new Date();
      await users.flush();
      const revoked = isActive ? 0 : await new SessionRepository(tem).deleteForUser(userId);
      enqueueAudit(tem, {
        service: SERVICE,
        action: isActive ? 'activated' : 'deactivated',
        resourceType: 'user',
        resourceId: user.id,
        oldValues: { is_active: !isActive },
        newValues: isActive ? { is_active: true } : { is_active: false, sessions_ended: revoked },
        actor: caller.actor,
      });
      return { user, changed: true };
    });
    if (result.changed) this.deps.relay.kick();
    return result.user;
  }

  /** Deletes the user (sessions cascade) and announces it on `users.deleted`. */
  async delete(em: EntityManager, caller: Caller, userId: number): Promise<void> {
    const claims = requireClaims(caller);
    checkUserId(userId);
    if (userId === claims.userId)
      throw DomainError.failedPrecondition('an admin cannot delete themself', 'SELF_DELETION');
    await em.transactional(async (tem) => {
      const users = new UserRepository(tem);
      const user = await users.getById(userId);
      const oldValues = auditValues(user);
      await users.remove(user);
      await new LoginThrottleRepository(tem).clear(user.email);
      const deletedAt = new Date();
      enqueueMessage(
        tem,
        USERS_DELETED_SUBJECT,
        Buffer.from(JSON.stringify({ user_id: userId, deleted_at: deletedAt.toISOString() })),
      );
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'deleted',
        resourceType: 'user',
        resourceId: userId,
        oldValues,
        actor: caller.actor,
      });
    });
    this.deps.relay.kick();
  }
}

function checkUserId(userId: number): void {
  if (!Number.isInteger(userId) || userId <= 0) throw DomainError.invalidArgument('user_id', 'is required');
}
