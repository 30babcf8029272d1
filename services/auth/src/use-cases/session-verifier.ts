import type { MikroORM } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { tokenKeyId, verifyWithKey, type AuthClaims, type TokenVerifier } from '@charge/service-kit';
import { sessionIdFromClaim, type SigningKey } from '../domain/tokens';
import { SessionRepository } from '../persistence/sessions.repository';

/**
 * Auth's own verifier: the token must carry our key's signature, and its session (`sid`)
 * must still exist for an active user, so a logged-out, rotated-away-by-reuse or
 * deactivated session cannot act. The role is the user's current one.
 */
export class SessionTokenVerifier implements TokenVerifier {
  constructor(
    private readonly key: SigningKey,
    private readonly orm: MikroORM,
  ) {}

  async verify(token: string): Promise<AuthClaims> {
    if (tokenKeyId(token) !== this.key.kid)
      throw DomainError.unauthenticated('access token signed by an unknown key', 'TOKEN_INVALID');
    const claims = verifyWithKey(token, this.key.publicKey);
    const session = await new SessionRepository(this.orm.em.fork()).findActive(
      sessionIdFromClaim(claims.sessionId),
      claims.userId,
    );
    if (!session?.isActive) throw DomainError.unauthenticated('session has ended', 'SESSION_REVOKED');
    return { ...claims, role: session.role };
  }
}
