import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { DomainError } from '@charge/errors';

/** Issuer and audience of every access token. */
export const TOKEN_ISSUER = 'charge-analysis/auth';
export const TOKEN_AUDIENCE = 'charge-analysis';

export type Role = 'user' | 'admin';

/** The verified identity of a caller. */
export interface AuthClaims {
  userId: number;
  role: Role;
  sessionId: string;
  /** The raw bearer token, to propagate to downstream services. */
  token: string;
}

export interface TokenVerifier {
  /** Verifies a bearer token; throws DomainError(unauthenticated) when it is not valid. */
  verify(token: string): Promise<AuthClaims>;
}

/** A public JWK as served by auth's GetJwks. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
}

/** Verifies an ES256 token against one key; the algorithm is pinned. */
export function verifyWithKey(token: string, key: KeyObject): AuthClaims {
  let payload: jwt.JwtPayload;
  try {
    payload = jwt.verify(token, key, {
      algorithms: ['ES256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
    }) as jwt.JwtPayload;
  } catch (error) {
    const expired = error instanceof jwt.TokenExpiredError;
    throw DomainError.unauthenticated(
      expired ? 'access token expired' : 'invalid access token',
      expired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID',
    );
  }
  const userId = Number(payload.sub);
  const role = payload.role;
  if (
    !Number.isInteger(userId) ||
    userId <= 0 ||
    (role !== 'user' && role !== 'admin') ||
    typeof payload.sid !== 'string'
  ) {
    throw DomainError.unauthenticated('invalid access token claims', 'TOKEN_INVALID');
  }
  return { userId, role, sessionId: payload.sid, token };
}

/** Reads the key id from a token header without verifying it. */
export function tokenKeyId(token: string): string | undefined {
  const decoded = jwt.decode(token, { complete: true });
  return decoded && typeof decoded === 'object' ? decoded.header.kid : undefined;
}

/**
 * Verifies tokens with keys fetched from auth's JWKS. Keys are cached by `kid`; an unknown
 * `kid` triggers at most one refetch per `minRefetchMs` (key rotation without restarts).
 */
export class JwksTokenVerifier implements TokenVerifier {
  private keys = new Map<string, KeyObject>();
  private lastFetch = 0;
  private inflight?: Promise<void>;

  constructor(
    private readonly fetchKeys: () => Promise<PublicJwk[]>,
    private readonly minRefetchMs = 30_000,
  ) {}

  async verify(token: string): Promise<AuthClaims> {
    const kid = tokenKeyId(token);
    if (!kid) throw DomainError.unauthenticated('invalid access token', 'TOKEN_INVALID');
    let key = this.keys.get(kid);
    if (!key && (this.lastFetch === 0 || Date.now() - this.lastFetch >= this.minRefetchMs)) {
      await this.refresh();
      key = this.keys.get(kid);
    }
    if (!key) throw DomainError.unauthenticated('access token signed by an unknown key', 'TOKEN_INVALID');
    return verifyWithKey(token, key);
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const jwks = await this.fetchKeys();
        this.keys = new Map(
          jwks.map((jwk) => [
            jwk.kid,
            createPublicKey({
              key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JsonWebKey,
              format: 'jwk',
            }),
          ]),
        );
        this.lastFetch = Date.now();
      } catch (error) {
        throw DomainError.unavailable(
          `cannot fetch token keys from auth: ${(error as Error).message}`,
          'JWKS_UNAVAILABLE',
        );
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

/** Returns the claims of an admin caller, or throws PERMISSION_DENIED. */
export function assertAdmin(claims: AuthClaims): AuthClaims {
  if (claims.role !== 'admin') throw DomainError.permissionDenied('admin role required', 'ADMIN_REQUIRED');
  return claims;
}
