import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '@charge/service-kit';
import { SCHEMA } from './schema-name';
import { UserSessionEntity, type UserSessionRow } from './user-session.entity';

export interface NewSession {
  userId: number;
  tokenHash: string;
  expiresAt: Date;
  ipAddress?: string;
  userAgent?: string;
}

/** A live session joined with its user's current role and state. */
export interface ActiveSession {
  sessionId: number;
  userId: number;
  role: Role;
  isActive: boolean;
}

const T = `"${SCHEMA}"."user_sessions"`;

/** Sessions and rotated refresh tokens. */
export class SessionRepository {
  constructor(private readonly em: EntityManager) {}

  async insert(data: NewSession): Promise<UserSessionRow> {
    const session = this.em.create(UserSessionEntity, {
      userId: data.userId,
      tokenHash: data.tokenHash,
      expiresAt: data.expiresAt,
      ipAddress: data.ipAddress?.slice(0, 45) ?? null,
      userAgent: data.userAgent?.slice(0, 1000) ?? null,
    });
    await this.em.flush();
    return session;
  }

  /** The session named by an access token, if it still exists and has not expired. */
  async findActive(sessionId: number, userId: number): Promise<ActiveSession | null> {
    const rows = await this.em.execute<{ role: Role; is_active: boolean }[]>(
      `select u.role, u.is_active from ${T} s join "${SCHEMA}"."users" u on u.id = s.user_id
        where s.id = ? and s.user_id = ? and s.expires_at > now()`,
      [sessionId, userId],
    );
    return rows[0] ? { sessionId, userId, role: rows[0].role, isActive: rows[0].is_active } : null;
  }

  /** Locks the session holding this refresh token (call inside a transaction). */
  lockByTokenHash(tokenHash: string): Promise<UserSessionRow | null> {
    return this.em.findOne(UserSessionEntity, { tokenHash }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  /** The session a rotated-away refresh token belonged to, if any. */
  async sessionOfRotatedToken(tokenHash: string): Promise<number | null> {
    const rows = await this.em.execute<{ session_id: number }[]>(
      `select session_id from "${SCHEMA}"."rotated_refresh_tokens" where token_hash = ?`,
      [tokenHash],
    );
    return rows[0]?.session_id ?? null;
  }

  /** Replaces a session's refresh token, remembering the old hash to detect reuse. */
  async rotate(session: UserSessionRow, newTokenHash: string, expiresAt: Date): Promise<void> {
    await this.em.execute(
      `insert into "${SCHEMA}"."rotated_refresh_tokens" (token_hash, session_id) values (?, ?)`,
      [session.tokenHash, session.id],
    );
    session.tokenHash = newTokenHash;
    session.expiresAt = expiresAt;
    await this.em.flush();
  }

  findByTokenHash(tokenHash: string): Promise<UserSessionRow | null> {
    return this.em.findOne(UserSessionEntity, { tokenHash });
  }

  findById(id: number): Promise<UserSessionRow | null> {
    return this.em.findOne(UserSessionEntity, { id });
  }

  /** Deletes one session (its rotated tokens go with it). Returns whether it existed. */
  async delete(id: number): Promise<boolean> {
    return (await this.em.nativeDelete(UserSessionEntity, { id })) > 0;
  }

  /** Deletes every session of a user, optionally keeping one. Returns how many. */
  deleteForUser(userId: number, keepSessionId?: number): Promise<number> {
    return this.em.nativeDelete(
      UserSessionEntity,
      keepSessionId === undefined ? { userId } : { userId, id: { $ne: keepSessionId } },
    );
  }

  deleteExpiredForUser(userId: number): Promise<number> {
    return this.em.nativeDelete(UserSessionEntity, { userId, expiresAt: { $lte: new Date() } });
  }
}
