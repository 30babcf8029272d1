import { DomainError } from '@charge/errors';
import type { Actor } from '@charge/events';
import type { AuthClaims, Logger } from '@charge/service-kit';
import type { AccessTokenIssuer } from '../domain/tokens';
import type { DummyPasswordCheck } from '../domain/passwords';
import type { UserRow } from '../persistence/user.entity';

/** Who is calling, as the use cases need it (transport-free). */
export interface Caller {
  claims?: AuthClaims;
  actor: Actor;
}

/** Shared collaborators of the use cases. */
export interface UseCaseDeps {
  issuer: AccessTokenIssuer;
  refreshTtlSeconds: number;
  /** Wakes the outbox relay after a commit that staged messages. */
  relay: { kick(): void };
  dummyPassword: DummyPasswordCheck;
  logger: Logger;
}

export const SERVICE = 'auth';

/** A user's audit-safe values (never the password hash). */
export function auditValues(user: UserRow): Record<string, unknown> {
  return {
    username: user.username,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    role: user.role,
    is_active: user.isActive,
    avatar_url: user.avatarUrl,
  };
}

export function requireClaims(caller: Caller): AuthClaims {
  if (!caller.claims) throw DomainError.unauthenticated();
  return caller.claims;
}
