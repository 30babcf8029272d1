import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError, isDomainError } from '@charge/errors';
import { enqueueAudit } from '@charge/events';
import {
  normalizeEmail,
  usernameFromEmail,
  validateAvatarUrl,
  validateEmail,
  validateName,
  validatePassword,
  validateUsername,
  withSuffix,
} from '../domain/credentials';
import { hashPassword, verifyPassword } from '../domain/passwords';
import { retryAfterSeconds } from '../domain/throttle';
import { sessionIdFromClaim } from '../domain/tokens';
import { LoginThrottleRepository } from '../persistence/login-throttle.repository';
import { SessionRepository } from '../persistence/sessions.repository';
import type { UserRow } from '../persistence/user.entity';
import { UserRepository } from '../persistence/users.repository';
import { auditValues, requireClaims, SERVICE, type Caller, type UseCaseDeps } from './caller';

export interface RegisterInput {
  email: string;
  password: string;
  username?: string;
  firstName?: string;
  lastName?: string;
}

export interface ProfileChanges {
  username?: string;
  firstName?: string;
  lastName?: string;
  avatarUrl?: string;
}

/** Self-service account use cases: register, profile, password; and the first admin. */
export class AccountUseCases {
  constructor(private readonly deps: UseCaseDeps) {}

  async register(em: EntityManager, caller: Caller, input: RegisterInput): Promise<UserRow> {
    const email = validateEmail(input.email);
    const password = validatePassword(input.password);
    const username = input.username?.trim() ? validateUsername(input.username) : undefined;
    const firstName = validateName(input.firstName, 'first_name');
    const lastName = validateName(input.lastName, 'last_name');
    const users = new UserRepository(em);
    // Early answers for the common case; the unique indexes decide races.
    if (await users.findByEmail(email)) throw takenError('email');
    if (username && (await users.usernameTaken(username))) throw takenError('username');
    const passwordHash = await hashPassword(password);
    const user = await em.transactional(async (tem) => {
      const txUsers = new UserRepository(tem);
      const created = await txUsers.insert({
        email,
        username: username ?? (await derivedUsername(txUsers, email)),
        passwordHash,
        firstName,
        lastName,
        role: 'user',
      });
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'created',
        resourceType: 'user',
        resourceId: created.id,
        newValues: auditValues(created),
        actor: { ...caller.actor, userId: created.id },
      });
      return created;
    });
    this.deps.relay.kick();
    return user;
  }

  getMe(em: EntityManager, caller: Caller): Promise<UserRow> {
    return new UserRepository(em).getById(requireClaims(caller).userId);
  }

  async updateMe(em: EntityManager, caller: Caller, changes: ProfileChanges): Promise<UserRow> {
    const { userId } = requireClaims(caller);
    const next: Partial<Pick<UserRow, 'username' | 'firstName' | 'lastName' | 'avatarUrl'>> = {};
    if (changes.username !== undefined) next.username = validateUsername(changes.username);
    if (changes.firstName !== undefined) next.firstName = validateName(changes.firstName, 'first_name');
    if (changes.lastName !== undefined) next.lastName = validateName(changes.lastName, 'last_name');
    if (changes.avatarUrl !== undefined) next.avatarUrl = validateAvatarUrl(changes.avatarUrl);
    const result = await em.transactional(async (tem) => {
      const users = new UserRepository(tem);
      const user = await users.getById(userId);
      const before = auditValues(user);
      const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => next[k] !== user[k]);
      if (changed.length === 0) return { user, changed: false };
      Object.assign(user, next, { updatedAt: new Date() });
      await users.flush();
      const after = auditValues(user);
      const keys = Object.keys(after).filter((k) => after[k] !== before[k]);
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'updated',
        resourceType: 'user',
        resourceId: user.id,
        oldValues: Object.fromEntries(keys.map((k) => [k, before[k]])),
        newValues: Object.fromEntries(keys.map((k) => [k, after[k]])),
        actor: caller.actor,
      });
      return { user, changed: true };
    });
    if (result.changed) this.deps.relay.kick();
    return result.user;
  }

  /** Changes the caller's password and ends every other session of theirs. */
  async changePassword(
    em: EntityManager,
    caller: Caller,
    currentPassword: string,
    newPassword: string,
  ): Promise<void> {
    const claims = requireClaims(caller);
    if (!currentPassword) throw DomainError.invalidArgument('current_password', 'is required');
    validatePassword(newPassword, 'new_password');
    if (newPassword === currentPassword)
      throw DomainError.invalidArgument('new_password', 'must differ from the current password');
    const user = await new UserRepository(em).getById(claims.userId);
    // A stolen access token must not become an oracle for guessing the password.
    const throttle = new LoginThrottleRepository(em);
    const lockedUntil = await throttle.lockedUntil(user.email);
    if (lockedUntil) throw lockedError(lockedUntil);
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      await throttle.recordFailure(user.email);
      throw new DomainError('unauthenticated', 'current_password: is wrong', {
        reason: 'WRONG_PASSWORD',
        field: 'current_password',
      });
    }
    const passwordHash = await hashPassword(newPassword);
    const keep = sessionIdFromClaim(claims.sessionId);
    await em.transactional(async (tem) => {
      const users = new UserRepository(tem);
      const txUser = await users.getById(claims.userId);
      txUser.passwordHash = passwordHash;
      txUser.updatedAt = new Date();
      await users.flush();
      const revoked = await new SessionRepository(tem).deleteForUser(claims.userId, keep);
      enqueueAudit(tem, {
        service: SERVICE,
        action: 'password_changed',
        resourceType: 'user',
        resourceId: claims.userId,
        newValues: { other_sessions_ended: revoked },
        actor: caller.actor,
      });
    });
    this.deps.relay.kick();
  }

  /** Creates the first admin unless a user with that email exists (idempotent, replica-safe). */
  async ensureAdmin(em: EntityManager, rawEmail: string, password: string): Promise<'created' | 'exists'> {
    const email = validateEmail(rawEmail, 'ADMIN_EMAIL');
    validatePassword(password, 'ADMIN_PASSWORD');
    if (await new UserRepository(em).findByEmail(email)) return 'exists';
    const passwordHash = await hashPassword(password);
    try {
      await em.transactional(async (tem) => {
        const users = new UserRepository(tem);
        const admin = await users.insert({
          email,
          username: await derivedUsername(users, email),
          passwordHash,
          firstName: null,
          lastName: null,
          role: 'admin',
        });
        enqueueAudit(tem, {
          service: SERVICE,
          action: 'created',
          resourceType: 'user',
          resourceId: admin.id,
          newValues: { ...auditValues(admin), source: 'ADMIN_EMAIL' },
          actor: {},
        });
      });
    } catch (error) {
      // Another replica created it first.
      if (isDomainError(error) && error.kind === 'alreadyExists' && error.field === 'email') return 'exists';
      throw error;
    }
    this.deps.relay.kick();
    return 'created';
  }
}

function takenError(field: 'email' | 'username'): DomainError {
  const message = field === 'email' ? 'email: is already registered' : 'username: is already taken';
  return new DomainError('alreadyExists', message, {
    reason: field === 'email' ? 'EMAIL_TAKEN' : 'USERNAME_TAKEN',
    field,
  });
}

export function lockedError(lockedUntil: Date): DomainError {
  return new DomainError('resourceExhausted', 'too many failed attempts; try again later', {
    reason: 'LOGIN_LOCKED',
    metadata: { 'retry-after-s': String(retryAfterSeconds(lockedUntil, new Date())) },
  });
}

async function derivedUsername(users: UserRepository, email: string): Promise<string> {
  const base = usernameFromEmail(normalizeEmail(email));
  let candidate = base;
  for (let i = 0; i < 5 && (await users.usernameTaken(candidate)); i++)
    candidate = withSuffix(base, randomBytes(3).toString('hex'));
  return candidate;
}
