import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { enqueueAudit } from '@charge/events';
import { normalizeEmail } from '../domain/credentials';
import { verifyPassword } from '../domain/passwords';
import { hashRefreshToken, newRefreshToken, parseRefreshToken, sessionIdFromClaim } from '../domain/tokens';
import { LoginThrottleRepository } from '../persistence/login-throttle.repository';
import { SessionRepository } from '../persistence/sessions.repository';
import type { UserSessionRow } from '../persistence/user-session.entity';
import type { UserRow } from '../persistence/user.entity';
import { UserRepository } from '../persistence/users.repository';
import { lockedError } from './accounts';
import { requireClaims, SERVICE, type Caller, type UseCaseDeps } from './caller';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: UserRow;
}

const invalidCredentials = () =>
  DomainError.unauthenticated('invalid email or password', 'INVALID_CREDENTIALS');
const invalidRefresh = (reason: string) =>
  DomainError.unauthenticated('invalid or expired refresh token', reason);

type RefreshOutcome =
  | { kind: 'ok'; session: UserSessionRow; user: UserRow }
  | { kind: 'reused'; sessionId: number; userId: number }
  | { kind: 'unknown' | 'expired' | 'inactive' };

/** Login, refresh-token rotation with reuse detection, logout. */
export class SessionUseCases {
  constructor(private readonly deps: UseCaseDeps) {}

  async login(em: EntityManager, caller: Caller, rawEmail: string, password: string): Promise<IssuedTokens> {
    const email = normalizeEmail(rawEmail);
    if (!email) throw DomainError.invalidArgument('email', 'is required');
    if (!password) throw DomainError.invalidArgument('password', 'is required');
    const throttle = new LoginThrottleRepository(em);
    const lockedUntil = await throttle.lockedUntil(email);
    if (lockedUntil) throw lockedError(lockedUntil);
    const found = await new UserRepository(em).findByEmail(email);
    let valid = false;
    if (found) valid = await verifyPassword(found.passwordHash, password);
    else await this.deps.dummyPassword.run(password);
    if (!found || !valid) {
      const { lockedUntil: nowLocked } = await throttle.recordFailure(email);
      if (nowLocked)
        this.deps.logger.warn(
          { email_hash: hashRefreshToken(email).slice(0, 16) },
          'account locked after failed logins',
        );
      throw invalidCredentials();
    }
    if (!found.isActive) throw DomainError.unauthenticated('account is deactivated', 'ACCOUNT_INACTIVE');
    await throttle.clear(email);

    const refreshToken = newRefreshToken();
    const { session, user } = await em.transactional(async (tem) => {
      const users = new UserRepository(tem);
      const sessions = new SessionRepository(tem);
      const txUser = await users.getById(found.id);
      txUser.lastLogin = new Date();
      await users.flush();
      await sessions.deleteExpiredForUser(txUser.id);
      const created = await sessions.insert({
        userId: txUser.id,
        tokenHash: hashRefreshToken(refreshToken),
        expiresAt: this.refreshExpiry(),
        ipAddress: caller.actor.ipAddress,
        userAgent: caller.actor.userAgent,
      });
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'logged_in',
        resourceType: 'session',
        resourceId: created.id,
        newValues: {
          user_id: txUser.id,
          ip_address: created.ipAddress,
          user_agent: created.userAgent,
          expires_at: created.expiresAt,
        },
        actor: { ...caller.actor, userId: txUser.id },
      });
      return { session: created, user: txUser };
    });
    this.deps.relay.kick();
    return this.tokens(user, session.id, refreshToken);
  }

  /** Rotates a refresh token; an already-rotated token revokes its whole session. */
  async refresh(em: EntityManager, rawToken: string): Promise<IssuedTokens> {
    const presentedHash = hashRefreshToken(parseRefreshToken(rawToken));
    const refreshToken = newRefreshToken();
    const outcome = await em.transactional(async (tem): Promise<RefreshOutcome> => {
      const sessions = new SessionRepository(tem);
      const session = await sessions.lockByTokenHash(presentedHash);
      if (!session) {
        const reused = await sessions.sessionOfRotatedToken(presentedHash);
        if (!reused) return { kind: 'unknown' };
        const owner = await sessions.findById(reused);
        await sessions.delete(reused);
        return { kind: 'reused', sessionId: reused, userId: owner?.userId ?? 0 };
      }
      if (session.expiresAt.getTime() <= Date.now()) {
        await sessions.delete(session.id);
        return { kind: 'expired' };
      }
      const user = await new UserRepository(tem).findById(session.userId);
      if (!user?.isActive) {
        await sessions.delete(session.id);
        return { kind: 'inactive' };
      }
      await sessions.rotate(session, hashRefreshToken(refreshToken), this.refreshExpiry());
      return { kind: 'ok', session, user };
    });
    switch (outcome.kind) {
      case 'ok':
        return this.tokens(outcome.user, outcome.session.id, refreshToken);
      case 'reused':
        this.deps.logger.warn(
          { session_id: outcome.sessionId, user_id: outcome.userId },
          'refresh token reused; session revoked',
        );
        throw invalidRefresh('REFRESH_TOKEN_REUSED');
      case 'expired':
        throw invalidRefresh('REFRESH_TOKEN_EXPIRED');
      case 'inactive':
        throw DomainError.unauthenticated('account is deactivated', 'ACCOUNT_INACTIVE');
      default:
        throw invalidRefresh('REFRESH_TOKEN_INVALID');
    }
  }

  /** Ends the caller's current session, or the caller's session holding `rawRefreshToken`. */
  async logout(em: EntityManager, caller: Caller, rawRefreshToken: string): Promise<void> {
    const claims = requireClaims(caller);
    await em.transactional(async (tem) => {
      const sessions = new SessionRepository(tem);
      const session = rawRefreshToken
        ? await sessions.findByTokenHash(hashRefreshToken(parseRefreshToken(rawRefreshToken)))
        : await sessions.findById(sessionIdFromClaim(claims.sessionId));
      if (!session || session.userId !== claims.userId) {
        throw new DomainError('notFound', 'no session of yours holds this refresh token', {
          reason: 'SESSION_NOT_FOUND',
        });
      }
      await sessions.delete(session.id);
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'logged_out',
        resourceType: 'session',
        resourceId: session.id,
        oldValues: {
          user_id: session.userId,
          ip_address: session.ipAddress,
          user_agent: session.userAgent,
          created_at: session.createdAt,
        },
        actor: caller.actor,
      });
    });
    this.deps.relay.kick();
  }

  private refreshExpiry(): Date {
    return new Date(Date.now() + this.deps.refreshTtlSeconds * 1000);
  }

  private tokens(user: UserRow, sessionId: number, refreshToken: string): IssuedTokens {
    const accessToken = this.deps.issuer.issue({ userId: user.id, role: user.role, sessionId });
    return { accessToken, refreshToken, expiresIn: this.deps.issuer.ttlSeconds, user };
  }
}
