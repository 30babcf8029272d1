import type { EntityManager } from '@mikro-orm/postgresql';
import { FAILED_LOGIN_WINDOW_S, LOCKOUT_S, MAX_FAILED_LOGINS } from '../domain/throttle';
import { SCHEMA } from './schema-name';

const T = `"${SCHEMA}"."login_throttles"`;

/**
 * Failed-login counting in PostgreSQL, so every replica sees the same lockout. The
 * window and lockout are evaluated with the database clock in one statement (no
 * read-modify-write race between replicas).
 */
export class LoginThrottleRepository {
  constructor(private readonly em: EntityManager) {}

  /** When the account is locked, the end of the lockout. */
  async lockedUntil(email: string): Promise<Date | null> {
    const rows = await this.em.execute<{ locked_until: string | Date }[]>(
      `select locked_until from ${T} where email = ? and locked_until > now()`,
      [email],
    );
    return toDate(rows[0]?.locked_until);
  }

  /** Counts a failure; returns the count in the current window and any lockout it caused. */
  async recordFailure(email: string): Promise<{ failedCount: number; lockedUntil: Date | null }> {
    const rows = await this.em.execute<{ failed_count: number; locked_until: string | Date | null }[]>(
      `insert into ${T} as t (email, failed_count, window_started_at) values (?, 1, now())
       on conflict (email) do update set
         failed_count = case when t.window_started_at > now() - make_interval(secs => ?) then t.failed_count + 1 else 1 end,
         window_started_at = case when t.window_started_at > now() - make_interval(secs => ?) then t.window_started_at else now() end
       returning failed_count, locked_until`,
      [email, FAILED_LOGIN_WINDOW_S, FAILED_LOGIN_WINDOW_S],
    );
    const { failed_count: failedCount } = rows[0];
    if (failedCount >= MAX_FAILED_LOGINS) {
      const locked = await this.em.execute<{ locked_until: string | Date }[]>(
        `update ${T} set locked_until = now() + make_interval(secs => ?), failed_count = 0, window_started_at = now()
          where email = ? returning locked_until`,
        [LOCKOUT_S, email],
      );
      return { failedCount, lockedUntil: toDate(locked[0].locked_until) };
    }
    return { failedCount, lockedUntil: toDate(rows[0].locked_until) };
  }

  /** A successful login resets the count. */
  async clear(email: string): Promise<void> {
    await this.em.execute(`delete from ${T} where email = ?`, [email]);
  }
}

/** Raw queries through MikroORM return timestamptz as strings. */
function toDate(value: string | Date | null | undefined): Date | null {
  return value === null || value === undefined ? null : new Date(value);
}
