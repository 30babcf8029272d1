import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import type { Role } from '@charge/service-kit';
import { likeContains } from '@charge/service-kit';
import { SCHEMA } from './schema-name';
import { UserEntity, type UserRow } from './user.entity';

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  firstName: string | null;
  lastName: string | null;
  role: Role;
}

export interface UserFilter {
  role?: Role;
  isActive?: boolean;
  query?: string;
  /** Only users with an id below this (the page cursor). */
  beforeId?: number;
}

/** Users table access; unique violations become ALREADY_EXISTS naming the field. */
export class UserRepository {
  constructor(private readonly em: EntityManager) {}

  findById(id: number): Promise<UserRow | null> {
    return this.em.findOne(UserEntity, { id });
  }

  async getById(id: number): Promise<UserRow> {
    const user = await this.findById(id);
    if (!user) throw DomainError.notFound('user', id);
    return user;
  }

  /** `email` must already be normalized (emails are stored lower-cased). */
  findByEmail(email: string): Promise<UserRow | null> {
    return this.em.findOne(UserEntity, { email });
  }

  async usernameTaken(username: string, exceptUserId?: number): Promise<boolean> {
    const rows = await this.em.execute<{ id: number }[]>(
      `select id from "${SCHEMA}"."users" where lower(username) = lower(?)`,
      [username],
    );
    return rows.some((r) => r.id !== exceptUserId);
  }

  async insert(data: NewUser): Promise<UserRow> {
    const user = this.em.create(UserEntity, { ...data, avatarUrl: null, lastLogin: null });
    await this.flush();
    return user;
  }

  /** Flushes pending changes, mapping unique violations to ALREADY_EXISTS. */
  async flush(): Promise<void> {
    try {
      await this.em.flush();
    } catch (error) {
      throw mapUniqueViolation(error);
    }
  }

  async remove(user: UserRow): Promise<void> {
    this.em.remove(user);
    await this.em.flush();
  }

  async list(filter: UserFilter, limit: number): Promise<UserRow[]> {
    return this.em.find(UserEntity, this.where(filter), { orderBy: { id: 'desc' }, limit });
  }

  async count(filter: Omit<UserFilter, 'beforeId'>): Promise<number> {
    return this.em.count(UserEntity, this.where(filter));
  }

  private where(filter: UserFilter) {
    const text = filter.query ? likeContains(filter.query) : undefined;
    return {
      ...(filter.role ? { role: filter.role } : {}),
      ...(filter.isActive !== undefined ? { isActive: filter.isActive } : {}),
      ...(filter.beforeId !== undefined ? { id: { $lt: filter.beforeId } } : {}),
      ...(text
        ? {
            $or: [
              { username: { $ilike: text } },
              { email: { $ilike: text } },
              { firstName: { $ilike: text } },
              { lastName: { $ilike: text } },
            ],
          }
        : {}),
    };
  }
}

export function mapUniqueViolation(error: unknown): unknown {
  if (!(error instanceof UniqueConstraintViolationException)) return error;
  const constraint = String((error as { constraint?: unknown }).constraint ?? '');
  if (constraint.includes('email')) {
    return new DomainError('alreadyExists', 'email: is already registered', {
      reason: 'EMAIL_TAKEN',
      field: 'email',
    });
  }
  if (constraint.includes('username')) {
    return new DomainError('alreadyExists', 'username: is already taken', {
      reason: 'USERNAME_TAKEN',
      field: 'username',
    });
  }
  return error;
}
